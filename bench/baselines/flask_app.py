"""Flask baseline: the cache API on Flask + Werkzeug's threaded dev server.

Same routes and bodies as the real server: ``GET|HEAD|PUT|POST|DELETE
/object/<key>``, ``?ttl=N`` on writes, JSON ``{"message": ...}`` for 404 and
507. ``CACHE_NUMBER_OF_SLOTS`` (0 = unlimited) makes it answer 507 when full,
like the REJECT policy. Request logging is silenced so the baseline is not
slowed by printing every request.

Bench-only helper: ``BENCH_PRELOAD=<count>:<bytes>`` fills the store at start
with keys ``k:0000000``… so the bench need not push 10 k PUTs through a
~1 k req/s server before each GET run.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, jsonify, request

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_TTL_S = 60
KEY_DIGITS = 7
HTTP_NOT_FOUND = 404
HTTP_INSUFFICIENT_STORAGE = 507
OCTET_STREAM = "application/octet-stream"


@dataclass
class Entry:
    """A stored object."""

    data: bytes
    content_type: str
    expires_at: float  # monotonic seconds; 0 = never


app = Flask(__name__)
store: dict[str, Entry] = {}
lock = threading.Lock()
slots = int(os.environ.get("CACHE_NUMBER_OF_SLOTS", "0"))
default_ttl_s = int(os.environ.get("CACHE_TIME_TO_LIVE", str(DEFAULT_TTL_S)))


def message(text: str, status: int) -> Response:
    """A JSON ``{"message": text}`` response with ``status``."""
    response = jsonify(message=text)
    response.status_code = status
    return response


def expiry(ttl_s: int) -> float:
    """Monotonic expiry time for a TTL in seconds (0 = never)."""
    return time.monotonic() + ttl_s if ttl_s > 0 else 0.0


@app.route("/object/<path:key>", methods=["GET", "HEAD"])
def get_object(key: str) -> Response:
    """Return the stored bytes with their Content-Type, or 404."""
    with lock:
        entry = store.get(key)
        if entry is not None and entry.expires_at and entry.expires_at < time.monotonic():
            del store[key]
            entry = None
    if entry is None:
        return message("not found", HTTP_NOT_FOUND)
    return Response(entry.data, content_type=entry.content_type)


@app.route("/object/<path:key>", methods=["PUT", "POST"])
def put_object(key: str) -> Response:
    """Store the raw body under ``key``; 507 when all slots are taken."""
    ttl_s = request.args.get("ttl", default=default_ttl_s, type=int)
    entry = Entry(
        request.get_data(),
        request.content_type or OCTET_STREAM,
        expiry(ttl_s),
    )
    with lock:
        if slots and key not in store and len(store) >= slots:
            return message("cache is full", HTTP_INSUFFICIENT_STORAGE)
        store[key] = entry
    return message("success", 200)


@app.route("/object/<path:key>", methods=["DELETE"])
def delete_object(key: str) -> Response:
    """Remove ``key``; 404 when it was not there."""
    with lock:
        found = store.pop(key, None) is not None
    return message("success", 200) if found else message("not found", HTTP_NOT_FOUND)


def preload(spec: str) -> None:
    """Fill the store from a ``<count>:<bytes>`` spec (bench helper)."""
    count, size = (int(part) for part in spec.split(":"))
    data = b"v" * size
    for n in range(count):
        store[f"k:{n:0{KEY_DIGITS}d}"] = Entry(data, OCTET_STREAM, 0.0)


def main() -> None:
    """Run the Werkzeug dev server, threaded, as the original project did."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if spec := os.environ.get("BENCH_PRELOAD"):
        preload(spec)
    app.run(
        host=os.environ.get("CACHE_HOST", DEFAULT_HOST),
        port=int(os.environ.get("CACHE_PORT", str(DEFAULT_PORT))),
        threaded=True,
    )


if __name__ == "__main__":
    main()

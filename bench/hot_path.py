"""Time the request hot path in process: protocol, routes and store, without sockets.

Run: ``python bench/hot_path.py [--requests N] [--policy LRU]``. It feeds one
request per ``data_received`` (as a keep-alive client does) to a real
``HttpProtocol`` over the real ``Api`` and ``Store``, with a transport that
only counts bytes, and prints the cost per GET hit, GET miss and PUT. Under
``valgrind --tool=callgrind`` the instruction counts are steady even on a busy
machine, which makes small changes to the hot path measurable. It runs the
modules as imported: compiled by mypyc after ``pip install -e .`` (see
``setup.py``), or pure Python; the first line printed says which.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import uvloop

from cache_api.api import Api
from cache_api.config import Settings
from cache_api.http import HttpLimits, HttpProtocol, ServerState
from cache_api.policies import make_policy
from cache_api.server import compiled_modules
from cache_api.store import Store

DEFAULT_REQUESTS = 200_000
KEYS = 10_000
VALUE = b"x" * 100


class CountingTransport:
    """A transport that accepts writes and counts their bytes."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def close(self) -> None:
        """Nothing to close."""

    def pause_reading(self) -> None:
        """Never paused here."""

    def resume_reading(self) -> None:
        """Never paused here."""


def run(kind: str, requests: list[bytes], protocol: HttpProtocol) -> float:
    """Feed every request; return the seconds per request."""
    feed = protocol.data_received
    start = time.perf_counter()
    for request in requests:
        feed(request)
    elapsed = time.perf_counter() - start
    print(f"{kind:>8}: {elapsed / len(requests) * 1e6:6.2f} µs/request")
    return elapsed


def main() -> None:
    """Build a protocol over a real store and time GET hits, misses and PUTs."""
    parser = argparse.ArgumentParser(description="Time the request hot path in process.")
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    parser.add_argument("--policy", default="LRU")
    parser.add_argument(
        "--kinds", default="put,get,miss", help="comma-separated subset of put,get,miss"
    )
    args = parser.parse_args()
    print(f"request path: {'compiled by mypyc' if compiled_modules() else 'pure Python'}")
    settings = Settings(eviction_policy=args.policy, time_to_live=3600)
    store = Store(make_policy(args.policy), max_bytes=settings.max_memory)
    api = Api(store, settings, time.monotonic)
    loop = uvloop.new_event_loop()
    limits = HttpLimits(
        max_body_size=settings.max_object_size,
        max_header_size=settings.max_header_size,
        keepalive_timeout=settings.keepalive_timeout,
        header_timeout=settings.header_timeout,
        max_connections=settings.max_connections,
    )
    state = ServerState()
    state.refresh_date()
    protocol = HttpProtocol(api.handle, state, limits, loop)
    protocol.connection_made(CountingTransport())  # type: ignore[arg-type]
    n = args.requests
    kinds = args.kinds.split(",")
    puts = [
        b"PUT /object/k%d?ttl=3600 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (i % KEYS, len(VALUE), VALUE)
        for i in range(n if "put" in kinds else 0)
    ]
    gets = [b"GET /object/k%d HTTP/1.1\r\nHost: x\r\n\r\n" % (i % KEYS) for i in range(n)]
    misses = [b"GET /object/m%d HTTP/1.1\r\nHost: x\r\n\r\n" % (i % KEYS) for i in range(n)]
    if "put" in kinds:
        run("PUT", puts, protocol)
    else:
        for i in range(KEYS):
            store.put(b"k%d" % i, VALUE, b"text/plain", settings.time_to_live, time.monotonic())
    if "get" in kinds:
        run("GET hit", gets, protocol)
    if "miss" in kinds:
        run("GET miss", misses, protocol)
    protocol.connection_lost(None)
    loop.close()


if __name__ == "__main__":
    main()

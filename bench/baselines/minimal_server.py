"""Headroom baseline: the least an asyncio.Protocol + httptools + uvloop server can do.

It answers ``GET /object/<key>`` from a dict and nothing else: no TTL, limits,
counters, Date header, keep-alive timers or error handling (the issue's
"minimal" anchor). Comparing our server with it in the same run shows what
the Python features on our hot path cost, apart from the kernel and the loop.

``BENCH_PRELOAD=<count>:<bytes>`` fills the dict at start with keys
``k:0000000``… and values of that many ``v`` bytes, as the Flask baseline does.
"""

from __future__ import annotations

import asyncio
import os
from typing import cast

import httptools
import uvloop

KEY_DIGITS = 7
OBJECT_PREFIX = b"/object/"
NOT_FOUND = b'{"message": "not found"}'
HEAD = b"HTTP/1.1 %d %s\r\ncontent-type: application/octet-stream\r\ncontent-length: %d\r\n\r\n"


class Minimal(asyncio.Protocol):
    """One connection: parse, look the key up, answer."""

    def __init__(self, store: dict[bytes, bytes]) -> None:
        self.store = store
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_message_complete(self) -> None:
        value = self.store.get(self.url[len(OBJECT_PREFIX) :])
        assert self.transport is not None
        if value is None:
            self.transport.write(HEAD % (404, b"Not Found", len(NOT_FOUND)) + NOT_FOUND)
        else:
            self.transport.write(HEAD % (200, b"OK", len(value)) + value)


async def serve(store: dict[bytes, bytes], host: str, port: int) -> None:
    """Serve until killed."""
    loop = asyncio.get_running_loop()
    await loop.create_server(lambda: Minimal(store), host, port)
    await asyncio.Event().wait()


def main() -> None:
    """Preload if asked, then serve on CACHE_HOST:CACHE_PORT."""
    store: dict[bytes, bytes] = {}
    if spec := os.environ.get("BENCH_PRELOAD"):
        count, size = (int(part) for part in spec.split(":"))
        store = {b"k:%0*d" % (KEY_DIGITS, n): b"v" * size for n in range(count)}
    host, port = os.environ.get("CACHE_HOST", "127.0.0.1"), int(os.environ["CACHE_PORT"])
    uvloop.run(serve(store, host, port))


if __name__ == "__main__":
    main()

"""Listening sockets that accept every queued connection in one turn of the event loop."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable, Coroutine
from typing import Any, Final

log = logging.getLogger("cache_api")

# Accepting in batches
# --------------------
# What: the server binds its listening sockets itself and watches each with
# ``loop.add_reader``. When one is readable, ``accept_queued`` calls
# ``accept()`` until the kernel's queue is empty (at most ``ACCEPT_BATCH``)
# and hands each connection to uvloop's ``connect_accepted_socket``; from there
# on it is an ordinary uvloop transport driving ``HttpProtocol``.
# Why: ``loop.create_server`` on uvloop accepts one connection per turn of the
# loop (libuv stopped accepting in a loop in 1.45, its pull request 3696). A
# turn serves every busy connection, so when n clients connect at once to a
# loaded server the last one waits n turns that grow with the connections
# already accepted, about n² / 2 requests' time. wrk opening 512 connections
# right after 64 others (``bench/wrk/put.lua`` and ``mix.lua``, half-speed
# machine): with create_server, 6 runs in 62 had a p99 of 0.18 to 1.46 s
# instead of 15 ms (``ss`` showed up to 355 connections left in the accept
# queue for 0.4 s); with this listener, none in 34 (worst p99.5 37 ms).
# uvloop's ``connect_accepted_socket`` is a coroutine that wraps the socket in
# a transport at once, then waits for ``connection_made``. ``_step`` drives it
# without making it a task. New connections a second (``Connection: close``
# GETs, wrk -c8 / -c64, interleaved rounds), relative to create_server: a task
# per connection 0.93x / 1.17x, stepping it 1.09x / 1.21x.
# Cost: a Python ``accept()`` and ``setblocking`` per new connection; nothing
# per request.

ACCEPT_BATCH: Final = 1024
"""Most connections accepted in one turn of the loop, so that a flood cannot starve the rest."""

ACCEPT_RETRY_SECONDS: Final = 1.0
"""Pause before accepting again after the process ran out of file descriptors or memory."""

RESOURCE_ERRORS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
"""``accept()`` failures that retrying at once cannot fix."""


def bind(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Non-blocking listening sockets on every address ``host`` resolves to, as asyncio binds."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            try:
                sock = socket.socket(family, kind, proto)
            except OSError:
                continue  # a family this system lacks (IPv6 turned off): asyncio skips it too
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    if not sockets:
        raise OSError(errno.EAFNOSUPPORT, "no address family of the host can be opened")
    return sockets


class Listener:
    """Accepts connections on ``sockets`` and gives each a protocol from ``protocol_factory``."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sockets: list[socket.socket],
        protocol_factory: Callable[[], asyncio.Protocol],
        retry_seconds: float = ACCEPT_RETRY_SECONDS,
    ) -> None:
        self._loop = loop
        self.sockets = sockets
        self._protocol_factory = protocol_factory
        self._retry_seconds = retry_seconds
        self._closed = False

    def start(self) -> None:
        """Begin accepting on every socket."""
        for sock in self.sockets:
            self._watch(sock)

    def close(self) -> None:
        """Stop accepting and close the listening sockets; accepted connections stay open."""
        self._closed = True
        for sock in self.sockets:
            self._loop.remove_reader(sock.fileno())
            sock.close()

    def _watch(self, sock: socket.socket) -> None:
        if not self._closed:
            self._loop.add_reader(sock.fileno(), self.accept_queued, sock)

    def accept_queued(self, sock: socket.socket) -> None:
        """Accept what the kernel has queued on ``sock``, up to ``ACCEPT_BATCH``."""
        for _ in range(ACCEPT_BATCH):
            try:
                connection, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as error:
                if error.errno not in RESOURCE_ERRORS:
                    log.error("accept() failed: %s", error)
                    return
                log.error("accept() failed: %s; not accepting for %gs", error, self._retry_seconds)
                self._loop.remove_reader(sock.fileno())
                self._loop.call_later(self._retry_seconds, self._watch, sock)
                return
            connection.setblocking(False)
            _step(self._loop.connect_accepted_socket(self._protocol_factory, connection))


def _step(handshake: Coroutine[Any, Any, object]) -> None:
    """Run ``handshake`` to its next wait, and again each time what it awaits is done."""
    try:
        awaited = handshake.send(None)
    except StopIteration:
        return
    except Exception:
        log.exception("setting up a connection failed")
        return
    awaited.add_done_callback(lambda _: _step(handshake))

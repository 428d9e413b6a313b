"""The listener: bound sockets, the whole accept queue taken at once, pauses on EMFILE.

These run a real uvloop loop over loopback sockets, but drive it by hand: a test
calls ``accept_queued`` itself, as the loop would when the socket is readable,
and runs the loop only until the connections it expects are made.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
import uvloop

from cache_api.listener import Listener, bind
from tests.conftest import ROOT

QUEUED_CONNECTIONS = 64
"""Clients that connect before the listener accepts any: more than libuv takes in one turn (1)."""


class Recorder(asyncio.Protocol):
    """Counts the connections made and says when the expected number is reached."""

    def __init__(
        self, made: list[asyncio.BaseTransport], expected: int, all_made: asyncio.Future[None]
    ) -> None:
        self._made = made
        self._expected = expected
        self._all_made = all_made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._made.append(transport)
        if len(self._made) == self._expected and not self._all_made.done():
            self._all_made.set_result(None)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = uvloop.new_event_loop()
    yield event_loop
    event_loop.close()


def connect_clients(port: int, count: int) -> list[socket.socket]:
    """``count`` connected clients; the kernel completes each handshake before any accept."""
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]


def test_one_readiness_accepts_every_queued_connection(loop: asyncio.AbstractEventLoop) -> None:
    made: list[asyncio.BaseTransport] = []
    all_made: asyncio.Future[None] = loop.create_future()
    sockets = bind("127.0.0.1", 0, backlog=128)
    listener = Listener(loop, sockets, lambda: Recorder(made, QUEUED_CONNECTIONS, all_made))
    port = sockets[0].getsockname()[1]
    clients = connect_clients(port, QUEUED_CONNECTIONS)
    try:
        listener.accept_queued(sockets[0])
        with pytest.raises(BlockingIOError):
            sockets[0].accept()
        loop.run_until_complete(asyncio.wait_for(all_made, timeout=10))
        assert len(made) == QUEUED_CONNECTIONS
        assert not any(transport.is_closing() for transport in made)
    finally:
        for transport in made:
            transport.close()
        listener.close()
        loop.run_until_complete(asyncio.sleep(0))
        for client in clients:
            client.close()


def test_a_served_connection_answers_through_the_listener(loop: asyncio.AbstractEventLoop) -> None:
    served: list[asyncio.Transport] = []

    class Upper(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            served.append(cast(asyncio.Transport, transport))  # uvloop's are not subclasses

        def data_received(self, data: bytes) -> None:
            served[-1].write(data.upper())

    sockets = bind("127.0.0.1", 0, backlog=8)
    listener = Listener(loop, sockets, Upper)
    listener.start()

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(*sockets[0].getsockname()[:2])
        writer.write(b"ping")
        answer = await reader.readexactly(4)
        writer.close()
        await writer.wait_closed()
        return answer

    try:
        assert loop.run_until_complete(asyncio.wait_for(exchange(), timeout=10)) == b"PING"
        assert len(served) == 1
    finally:
        for transport in served:
            transport.close()
        listener.close()
        loop.run_until_complete(asyncio.sleep(0))


def test_close_stops_accepting(loop: asyncio.AbstractEventLoop) -> None:
    sockets = bind("127.0.0.1", 0, backlog=8)
    port = sockets[0].getsockname()[1]
    listener = Listener(loop, sockets, asyncio.Protocol)
    listener.start()
    listener.close()
    assert all(sock.fileno() == -1 for sock in sockets)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port)).close()


class OutOfDescriptors(socket.socket):
    """A listening socket whose every ``accept`` fails as a process without free descriptors."""

    def accept(self) -> tuple[socket.socket, Any]:
        raise OSError(errno.EMFILE, "Too many open files")


class WatchLog:
    """A loop that records what the listener watches and schedules, and delegates the rest."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.calls: list[tuple[str, object]] = []
        self.scheduled: list[Callable[..., object]] = []

    def add_reader(self, fd: int, callback: Callable[..., object], *args: object) -> None:
        self.calls.append(("add_reader", fd))
        self._loop.add_reader(fd, callback, *args)

    def remove_reader(self, fd: int) -> None:
        self.calls.append(("remove_reader", fd))
        self._loop.remove_reader(fd)

    def call_later(self, delay: float, callback: Callable[..., object], *args: object) -> None:
        self.calls.append(("call_later", delay))
        self.scheduled.append(lambda: callback(*args))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)


def listening_out_of_descriptors(
    loop: asyncio.AbstractEventLoop,
) -> tuple[Listener, WatchLog, OutOfDescriptors]:
    """A started listener (retrying after 5 s) on a socket that fails every accept with EMFILE."""
    sock = OutOfDescriptors(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    watched = WatchLog(loop)
    listener = Listener(cast(asyncio.AbstractEventLoop, watched), [sock], asyncio.Protocol, 5.0)
    listener.start()
    return listener, watched, sock


def test_out_of_descriptors_pauses_accepting_then_resumes(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    listener, watched, sock = listening_out_of_descriptors(loop)
    fd = sock.fileno()
    try:
        with caplog.at_level(logging.ERROR, logger="cache_api"):
            listener.accept_queued(sock)
        assert "Too many open files; not accepting for 5s" in caplog.text
        assert watched.calls == [("add_reader", fd), ("remove_reader", fd), ("call_later", 5.0)]
        watched.scheduled.pop()()
        assert watched.calls[-1] == ("add_reader", fd)
    finally:
        listener.close()


def test_a_retry_due_after_close_does_not_watch_again(loop: asyncio.AbstractEventLoop) -> None:
    listener, watched, sock = listening_out_of_descriptors(loop)
    listener.accept_queued(sock)
    listener.close()
    watched.scheduled.pop()()
    assert [name for name, _ in watched.calls].count("add_reader") == 1


def test_bind_on_a_taken_port_raises_and_leaves_nothing_open() -> None:
    taken = bind("127.0.0.1", 0, backlog=8)
    port = taken[0].getsockname()[1]
    try:
        with pytest.raises(OSError) as raised:
            bind("127.0.0.1", port, backlog=8)
        assert raised.value.errno == errno.EADDRINUSE
    finally:
        taken[0].close()


def test_bind_skips_an_address_family_the_system_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    real_socket = socket.socket
    both = [
        (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("::1", 0, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 0)),
    ]

    def without_ipv6(family: int, *args: Any) -> socket.socket:
        if family == socket.AF_INET6:
            raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")
        return real_socket(family, *args)

    monkeypatch.setattr(socket, "getaddrinfo", lambda *_, **__: both)
    monkeypatch.setattr(socket, "socket", without_ipv6)
    sockets = bind("localhost", 0, backlog=8)
    try:
        assert [sock.family for sock in sockets] == [socket.AF_INET]
    finally:
        sockets[0].close()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_, **__: both[:1])
    with pytest.raises(OSError) as raised:
        bind("localhost", 0, backlog=8)
    assert raised.value.errno == errno.EAFNOSUPPORT


def test_server_on_a_taken_port_exits_1_and_says_why() -> None:
    taken = bind("127.0.0.1", 0, backlog=8)
    port = taken[0].getsockname()[1]
    try:
        done = subprocess.run(
            [sys.executable, str(ROOT / "wsgi.py")],
            env={"CACHE_HOST": "127.0.0.1", "CACHE_PORT": str(port), "PATH": ""},
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=False,
        )
    finally:
        taken[0].close()
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr.decode()

"""End to end over raw sockets: the HTTP edge cases a well-behaved client never produces."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.conftest import ServerProcess

pytestmark = pytest.mark.e2e

Factory = Callable[..., ServerProcess]
TIMEOUT = 5.0
SUCCESS = b'{"message": "success"}\n'


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Raw:
    """A raw TCP connection with a read buffer; every operation is bounded by a timeout."""

    def __init__(self, server: ServerProcess, timeout: float = TIMEOUT) -> None:
        self.sock = socket.create_connection((server.host, server.port), timeout=timeout)
        self.buffer = b""

    def __enter__(self) -> Raw:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def read(self, head: bool = False) -> Answer:
        """Read one response (``head``: it answers HEAD, so it has no body)."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise EOFError(f"connection closed mid-response: {self.buffer!r}")
        raw_head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = raw_head.decode("latin-1").split("\r\n")
        version, status, _ = status_line.split(" ", 2)
        assert version == "HTTP/1.1"
        headers = {}
        for line in lines:
            name, value = line.split(": ", 1)
            assert name.lower() not in headers
            headers[name.lower()] = value
        code = int(status)
        length = 0 if head or code < 200 else int(headers["content-length"])
        while len(self.buffer) < length:
            if not self._fill():
                raise EOFError("connection closed mid-body")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Answer(code, headers, body)

    def read_eof(self) -> bytes:
        """Read until the server closes; return anything that came (should be nothing)."""
        while self._fill():
            pass
        rest, self.buffer = self.buffer, b""
        return rest

    def is_closed_by_server(self) -> bool:
        return self.read_eof() == b""


def request(
    method: str, path: str, body: bytes = b"", headers: str = "", version: str = "1.1"
) -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body or method in {"PUT", "POST"} else ""
    return f"{method} {path} HTTP/{version}\r\nHost: test\r\n{length}{headers}\r\n".encode() + body


def assert_alive(server: ServerProcess) -> None:
    """The server still answers a fresh client."""
    with Raw(server) as raw:
        raw.send(request("GET", "/object/alive-check"))
        assert raw.read().status == 404
    assert server.process.poll() is None


# -- framing --------------------------------------------------------------------------


def test_pipelined_requests_are_answered_in_order(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(
            request("PUT", "/object/p", b"first")
            + request("GET", "/object/p")
            + request("PUT", "/object/p", b"second")
            + request("GET", "/object/p")
            + request("DELETE", "/object/p")
            + request("GET", "/object/p")
        )
        answers = [raw.read() for _ in range(6)]
    assert [a.status for a in answers] == [200, 200, 200, 200, 200, 404]
    assert [a.body for a in answers[:5]] == [SUCCESS, b"first", SUCCESS, b"second", SUCCESS]


def test_many_pipelined_requests_in_one_send(shared_server: ServerProcess) -> None:
    server = shared_server
    count = 500
    with Raw(server) as raw:
        raw.send(b"".join(request("PUT", f"/object/k{i}", b"%d" % i) for i in range(count)))
        raw.send(b"".join(request("GET", f"/object/k{i}") for i in range(count)))
        puts = [raw.read() for _ in range(count)]
        gets = [raw.read() for _ in range(count)]
    assert all(a.status == 200 for a in puts)
    assert [a.body for a in gets] == [b"%d" % i for i in range(count)]


def test_request_sent_byte_by_byte(shared_server: ServerProcess) -> None:
    server = shared_server
    data = request("PUT", "/object/bytewise", b"abc", "Content-Type: text/x\r\n")
    with Raw(server) as raw:
        raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            raw.send(data[i : i + 1])
        assert raw.read().body == SUCCESS
        raw.send(request("GET", "/object/bytewise"))
        answer = raw.read()
    assert (answer.body, answer.header("content-type")) == (b"abc", "text/x")


def test_chunked_body(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(
            b"PUT /object/c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: text/plain\r\n\r\n5\r\nhello\r\n"
        )
        raw.send(b"1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n")
        assert raw.read().body == SUCCESS
        raw.send(request("GET", "/object/c"))
        answer = raw.read()
    assert (answer.status, answer.body) == (200, b"hello world")


def test_head_has_no_body_on_the_wire(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(request("PUT", "/object/h", b"0123456789"))
        raw.read()
        raw.send(request("HEAD", "/object/h") + request("GET", "/object/h"))
        head = raw.read(head=True)
        get = raw.read()
    assert (head.status, head.header("content-length"), head.body) == (200, "10", b"")
    assert get.body == b"0123456789"


def test_expect_100_continue(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(
            b"PUT /object/e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        interim = raw.read()
        assert interim.status == 100
        raw.send(b"body")
        assert raw.read().body == SUCCESS


def test_http10_closes_and_keep_alive_stays(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(request("PUT", "/object/v", b"old", version="1.0"))
        answer = raw.read()
        assert (answer.status, answer.header("connection")) == (200, "close")
        assert raw.is_closed_by_server()
    with Raw(server) as raw:
        keep = "Connection: keep-alive\r\n"
        raw.send(request("GET", "/object/v", headers=keep, version="1.0"))
        first = raw.read()
        raw.send(request("GET", "/object/v", headers=keep, version="1.0"))
        second = raw.read()
    assert (first.body, first.header("connection")) == (b"old", "keep-alive")
    assert second.body == b"old"


def test_connection_close(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(request("GET", "/object/none", headers="Connection: close\r\n"))
        answer = raw.read()
        assert (answer.status, answer.header("connection")) == (404, "close")
        assert raw.is_closed_by_server()


# -- errors and limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        b"HELLO WORLD\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(100),
        b"GET / HTTP/1.1\r\nNo-Colon-Header\r\n\r\n",
        b"PUT /object/x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ],
)
def test_garbage_gets_400_and_close(shared_server: ServerProcess, garbage: bytes) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(garbage)
        answer = raw.read()
        assert answer.status == 400
        assert answer.header("connection") == "close"
        assert answer.body == b'{"message": "Malformed HTTP request"}\n'
        assert raw.is_closed_by_server()
    assert_alive(server)


def test_oversized_body_gets_413_before_it_is_sent(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(b"PUT /object/big HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n")
        answer = raw.read()
        assert answer.status == 413
        assert answer.body == b'{"message": "Request body is larger than MAX_OBJECT_SIZE"}\n'
        assert answer.header("connection") == "close"
        raw.send(b"x" * 65536)
        assert raw.is_closed_by_server()
    assert_alive(server)


def test_oversized_chunked_body_gets_413(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(b"PUT /object/big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        raw.send(b"100000\r\n" + b"a" * 1048576 + b"\r\n")
        raw.send(b"1\r\nb\r\n")
        answer = raw.read()
        assert answer.status == 413
        assert raw.is_closed_by_server()
    with Raw(server) as raw:
        raw.send(request("GET", "/object/big"))
        assert raw.read().status == 404


def test_oversized_headers_get_431_and_long_url_414(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as raw:
        raw.send(request("GET", "/object/x", headers="X-Big: " + "v" * 2000 + "\r\n"))
        answer = raw.read()
        assert answer.status == 431
        assert answer.body == b'{"message": "Request headers are larger than MAX_HEADER_SIZE"}\n'
        assert raw.is_closed_by_server()
    with Raw(server) as raw:
        raw.send(request("GET", "/object/" + "u" * 2000))
        answer = raw.read()
        assert answer.status == 414
        assert answer.body == b'{"message": "Request URL is longer than MAX_HEADER_SIZE"}\n'
        assert raw.is_closed_by_server()
    assert_alive(server)


def test_header_timeout_gets_408(server_factory: Factory) -> None:
    server = server_factory(header_timeout="0.5", keepalive_timeout="30")
    with Raw(server) as raw:
        raw.send(b"GET /object/x HTTP/1.1\r\nHost: t\r\n")
        started = time.monotonic()
        answer = raw.read()
        elapsed = time.monotonic() - started
        assert answer.status == 408
        assert answer.body == b'{"message": "Request headers not received in time"}\n'
        assert 0.3 <= elapsed < 3.0
        assert raw.is_closed_by_server()
    assert_alive(server)


def test_idle_keep_alive_connection_is_closed(server_factory: Factory) -> None:
    server = server_factory(keepalive_timeout="0.5", header_timeout="30")
    with Raw(server) as raw:
        raw.send(request("GET", "/object/x"))
        assert raw.read().status == 404
        started = time.monotonic()
        assert raw.is_closed_by_server()
        assert 0.3 <= time.monotonic() - started < 3.0


def test_slow_client_does_not_stall_others(shared_server: ServerProcess) -> None:
    server = shared_server
    with Raw(server) as slow_body, Raw(server) as slow_headers, Raw(server) as fast:
        slow_body.send(b"PUT /object/slow HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234")
        slow_headers.send(b"GET /object/fast HTTP/1.1\r\nHo")
        started = time.monotonic()
        for i in range(20):
            fast.send(request("PUT", "/object/fast", b"%d" % i))
            assert fast.read().body == SUCCESS
        assert time.monotonic() - started < 2.0
        slow_body.send(b"56789")
        assert slow_body.read().body == SUCCESS
        slow_headers.send(b"st: t\r\n\r\n")
        assert slow_headers.read().body == b"19"
        fast.send(request("GET", "/object/slow"))
        assert fast.read().body == b"0123456789"


def test_max_connections_gets_503(server_factory: Factory) -> None:
    server = server_factory(max_connections="3")
    clients = [Raw(server) for _ in range(3)]
    try:
        for raw in clients:
            raw.send(request("GET", "/object/x"))
            assert raw.read().status == 404
        with Raw(server) as extra:
            answer = extra.read()
            assert answer.status == 503
            assert answer.body == b'{"message": "Too many connections (MAX_CONNECTIONS)"}\n'
            assert answer.header("connection") == "close"
            assert extra.is_closed_by_server()
        clients.pop().sock.close()
        deadline = time.monotonic() + 3.0
        while True:
            with Raw(server) as again:
                again.send(request("GET", "/object/x"))
                if again.read().status == 404:
                    break
            assert time.monotonic() < deadline, "a freed slot was never reused"
            time.sleep(0.05)
    finally:
        for raw in clients:
            raw.sock.close()


def test_back_pressure_on_a_client_that_does_not_read(shared_server: ServerProcess) -> None:
    server = shared_server
    big = bytes(range(256)) * 4096
    with Raw(server) as writer:
        writer.send(request("PUT", "/object/huge", big))
        assert writer.read().body == SUCCESS
    count = 40
    with Raw(server) as greedy, Raw(server) as other:
        greedy.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        greedy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        for i in range(count):
            greedy.send(request("GET", "/object/huge" if i % 2 == 0 else "/object/none"))
            time.sleep(0.005)
            if i % 10 == 0:
                other.send(request("GET", "/object/missing"))
                assert other.read().status == 404
        answers = [greedy.read() for _ in range(count)]
    assert [a.status for a in answers] == [200, 404] * (count // 2)
    assert all(a.body == big for a in answers[::2])
    assert_alive(server)


def test_abrupt_disconnects_do_not_hurt_the_server(shared_server: ServerProcess) -> None:
    server = shared_server
    for data in (
        b"PUT /object/half HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc",
        b"GET /obj",
        b"",
        request("GET", "/object/x") * 20,
    ):
        sock = socket.create_connection((server.host, server.port), timeout=TIMEOUT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if data:
            sock.sendall(data)
        sock.close()
    assert_alive(server)
    with Raw(server) as raw:
        raw.send(request("GET", "/object/half"))
        assert raw.read().status == 404

"""The HTTP protocol without sockets: a mock transport, a fake timer loop, bytes in and out.

``HttpProtocol`` is fed with ``data_received`` and writes to a ``MockTransport``
that records every call. Timers go through ``FakeLoop.call_later`` and fire only
when a test moves the fake time, so nothing here sleeps. Async handlers run on a
real event loop that the fake loop delegates everything but timers to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, replace
from typing import Any, ClassVar, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cache_api.api import Api
from cache_api.config import Settings
from cache_api.http import (
    CONTINUE,
    LARGE_BODY_BYTES,
    LINGER_SECONDS,
    FlowControl,
    HttpLimits,
    HttpProtocol,
    ServerState,
    is_named,
)
from cache_api.policies import make_policy
from cache_api.store import VIEW_FROM_BYTES, Store
from cache_api.types import Request, Response
from tests.conftest import FakeClock

MAX_BODY = 100
MAX_HEADER = 1024
KEEPALIVE = 5.0
HEADER_TIMEOUT = 10.0

LIMITS = HttpLimits(
    max_body_size=MAX_BODY,
    max_header_size=MAX_HEADER,
    keepalive_timeout=KEEPALIVE,
    header_timeout=HEADER_TIMEOUT,
    max_connections=10,
)

SUCCESS = b'{"message": "success"}\n'


# -- doubles -------------------------------------------------------------------


class MockTransport:
    """Collects written bytes and records the flow-control and closing calls.

    Like the real transports it refuses ``write`` after ``write_eof``; a write
    after ``close`` is recorded as a violation (a real transport would lose it).
    """

    made: ClassVar[list[MockTransport]] = []

    def __init__(self, can_eof: bool = True) -> None:
        MockTransport.made.append(self)
        self.data = bytearray()
        self.writes: list[bytes] = []
        self.closed = False
        self.eof_written = False
        self.aborted = False
        self.pause_calls = 0
        self.resume_calls = 0
        self.late_writes: list[bytes] = []
        self._can_eof = can_eof

    def write(self, data: bytes) -> None:
        if self.eof_written:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self.closed:
            self.late_writes.append(bytes(data))
            return
        self.writes.append(bytes(data))
        self.data += data

    def write_eof(self) -> None:
        assert self._can_eof
        self.eof_written = True

    def can_write_eof(self) -> bool:
        return self._can_eof

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.pause_calls += 1

    def resume_reading(self) -> None:
        self.resume_calls += 1

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default


@dataclass
class FakeTimer:
    when: float
    callback: Callable[..., object]
    args: tuple[object, ...]
    cancelled: bool = False
    fired: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """``call_later`` on fake time the test advances; everything else goes to a real loop."""

    def __init__(self, real: asyncio.AbstractEventLoop | None = None) -> None:
        self.now = 0.0
        self.timers: list[FakeTimer] = []
        self._real = real

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[..., object], *args: object) -> FakeTimer:
        timer = FakeTimer(self.now + delay, callback, args)
        self.timers.append(timer)
        return timer

    def active(self) -> list[FakeTimer]:
        return [t for t in self.timers if not t.cancelled and not t.fired]

    def advance(self, seconds: float) -> None:
        """Move fake time on, firing the due timers in order."""
        self.now += seconds
        while True:
            due = sorted((t for t in self.active() if t.when <= self.now), key=lambda t: t.when)
            if not due:
                return
            due[0].fired = True
            due[0].callback(*due[0].args)

    def __getattr__(self, name: str) -> Any:
        if self._real is None:
            raise AttributeError(name)
        return getattr(self._real, name)


class EchoHandler:
    """Answers ``METHOD target|content-type|body`` as text/plain and records each request."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(200, echo(request), b"text/plain")


def echo(request: Request) -> bytes:
    return b"%s %s|%s|%s" % (
        request.method,
        request.target,
        request.content_type or b"-",
        request.body,
    )


@dataclass
class Parsed:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    head: bytes = b""

    def header(self, name: bytes) -> bytes | None:
        values = [v for k, v in self.headers if k.lower() == name]
        assert len(values) <= 1, f"header {name!r} repeated"
        return values[0] if values else None


def parse_responses(data: bytes, heads: frozenset[int] = frozenset()) -> list[Parsed]:
    """Split written bytes into responses; final responses whose index is in ``heads`` have
    no body (they answer HEAD). ``100 Continue`` interim responses are included."""
    out: list[Parsed] = []
    pos = final = 0
    while pos < len(data):
        end = data.index(b"\r\n\r\n", pos)
        head = data[pos : end + 4]
        lines = data[pos:end].split(b"\r\n")
        version, status, _reason = lines[0].split(b" ", 2)
        assert version == b"HTTP/1.1"
        headers = [cast(tuple[bytes, bytes], tuple(line.split(b": ", 1))) for line in lines[1:]]
        pos = end + 4
        code = int(status)
        body = b""
        if code >= 200:
            length = int(dict((k.lower(), v) for k, v in headers)[b"content-length"])
            if final not in heads:
                body = data[pos : pos + length]
                assert len(body) == length, "truncated body"
                pos += length
            final += 1
        out.append(Parsed(code, headers, body, head))
    return out


class Conn:
    """One protocol instance over a mock transport."""

    def __init__(
        self,
        handler: Callable[[Request], Response | Awaitable[Response]] | None = None,
        *,
        state: ServerState | None = None,
        limits: HttpLimits = LIMITS,
        loop: FakeLoop | None = None,
        transport: MockTransport | None = None,
    ) -> None:
        self.loop = loop if loop is not None else FakeLoop()
        self.state = state if state is not None else ServerState()
        self.transport = transport if transport is not None else MockTransport()
        self.handler = handler if handler is not None else EchoHandler()
        self.protocol = HttpProtocol(
            self.handler, self.state, limits, cast(asyncio.AbstractEventLoop, self.loop)
        )
        self.protocol.connection_made(cast(asyncio.Transport, self.transport))

    def send(self, data: bytes) -> None:
        self.protocol.data_received(data)

    @property
    def output(self) -> bytes:
        return bytes(self.transport.data)

    def responses(self, heads: frozenset[int] = frozenset()) -> list[Parsed]:
        return parse_responses(self.output, heads)

    @property
    def echo(self) -> EchoHandler:
        assert isinstance(self.handler, EchoHandler)
        return self.handler


def make_api(clock: FakeClock | None = None, slots: int = 0) -> Api:
    store = Store(make_policy("REJECT"), max_items=slots)
    return Api(store, Settings(time_to_live=60), clock or FakeClock())


def get(target: bytes = b"/x", extra: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"


def put(target: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"PUT "
        + target
        + b" HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n" % len(body)
        + extra
        + b"\r\n"
        + body
    )


@pytest.fixture(autouse=True)
def no_late_writes() -> Iterator[None]:
    """No MockTransport made in a test may be written to after it was closed."""
    MockTransport.made.clear()
    yield
    for transport in MockTransport.made:
        assert transport.late_writes == [], "written after close"
    MockTransport.made.clear()


@pytest.fixture
def real_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        settle(loop)
        loop.close()


def settle(loop: asyncio.AbstractEventLoop) -> None:
    """Run the loop until tasks and callbacks scheduled so far have run."""

    async def spin() -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    loop.run_until_complete(spin())


# -- basic exchange ---------------------------------------------------------------


def test_simple_get_writes_exact_response() -> None:
    conn = Conn(make_api().handle)
    conn.send(put(b"/object/k", b"hello", b"Content-Type: text/x\r\n"))
    conn.send(get(b"/object/k"))
    assert conn.output == (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 23\r\n"
        b"connection: keep-alive\r\n\r\n"
        + SUCCESS
        + b"HTTP/1.1 200 OK\r\ncontent-type: text/x\r\ncontent-length: 5\r\n"
        b"connection: keep-alive\r\n\r\nhello"
    )
    assert not conn.transport.closed
    assert not conn.transport.eof_written


def test_date_line_is_written_once_refreshed() -> None:
    state = ServerState()
    state.refresh_date()
    conn = Conn(state=state)
    conn.send(get())
    [response] = conn.responses()
    date = response.header(b"date")
    assert date is not None
    assert date.endswith(b" GMT")
    assert state.date_line == b"date: " + date + b"\r\n"


def test_get_missing_object_is_404_json() -> None:
    conn = Conn(make_api().handle)
    conn.send(get(b"/object/nope"))
    [response] = conn.responses()
    assert response.status == 404
    assert response.body == b'{"message": "Object at nope is not found or expired"}\n'
    assert response.header(b"content-type") == b"application/json"


@pytest.mark.parametrize("name", [b"Content-Type", b"content-type", b"content-TYPE"])
def test_request_fields_reach_the_handler(name: bytes) -> None:
    # The usual spelling is compared as is, any other case-folded: all reach the handler.
    conn = Conn()
    conn.send(put(b"/a?ttl=3", b"xyz", name + b": image/png\r\nX-Other: 1\r\n"))
    [request] = conn.echo.requests
    assert (request.method, request.target, request.content_type, request.body) == (
        b"PUT",
        b"/a?ttl=3",
        b"image/png",
        b"xyz",
    )


def test_pipelined_requests_in_one_chunk_are_answered_in_order() -> None:
    conn = Conn()
    conn.send(get(b"/1") + put(b"/2", b"two") + get(b"/3"))
    bodies = [r.body for r in conn.responses()]
    assert bodies == [b"GET /1|-|", b"PUT /2|-|two", b"GET /3|-|"]
    assert not conn.transport.closed


def test_request_split_byte_by_byte() -> None:
    conn = Conn()
    raw = put(b"/split", b"0123456789", b"Content-Type: a/b\r\n") + get(b"/after")
    for i in range(len(raw)):
        conn.send(raw[i : i + 1])
    assert [r.body for r in conn.responses()] == [b"PUT /split|a/b|0123456789", b"GET /after|-|"]
    assert not conn.transport.closed
    assert conn.loop.active()[0].callback == conn.protocol._on_idle


def test_chunked_body_is_joined() -> None:
    conn = Conn()
    conn.send(b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n")
    assert conn.output == b""
    conn.send(b"1\r\nf\r\n0\r\n\r\n")
    [response] = conn.responses()
    assert response.body == b"POST /c|-|abcdef"


def test_body_at_exactly_the_limit_is_accepted() -> None:
    conn = Conn()
    body = b"b" * MAX_BODY
    conn.send(put(b"/max", body))
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (MAX_BODY, body)
    conn.send(b"PUT /max2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    assert [r.status for r in conn.responses()] == [200, 200]
    assert [r.body for r in conn.echo.requests] == [body, body]


def test_large_response_body_is_written_whole() -> None:
    big = bytes(range(256)) * (LARGE_BODY_BYTES // 256 + 1)
    conn = Conn(lambda _request: Response(200, big, b"application/octet-stream"))
    conn.send(get())
    [response] = conn.responses()
    assert response.body == big
    assert response.header(b"content-length") == str(len(big)).encode()


# -- connection management --------------------------------------------------------


def test_http10_closes_after_the_response() -> None:
    conn = Conn()
    conn.send(b"GET /old HTTP/1.0\r\n\r\n")
    [response] = conn.responses()
    assert response.header(b"connection") == b"close"
    assert response.body == b"GET /old|-|"
    assert conn.transport.closed


def test_http10_keep_alive_stays_open() -> None:
    conn = Conn()
    conn.send(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    conn.send(b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    responses = conn.responses()
    assert [r.body for r in responses] == [b"GET /a|-|", b"GET /b|-|"]
    assert [r.header(b"connection") for r in responses] == [b"keep-alive", b"keep-alive"]
    assert not conn.transport.closed


def test_keep_alive_is_announced_on_every_kept_connection() -> None:
    conn = Conn()
    conn.send(get())
    [response] = conn.responses()
    assert response.header(b"connection") == b"keep-alive"
    assert not conn.transport.closed


def test_connection_close_closes_and_stops_parsing() -> None:
    conn = Conn()
    conn.send(get(b"/1", b"Connection: close\r\n") + get(b"/2"))
    [response] = conn.responses()
    assert response.header(b"connection") == b"close"
    assert conn.transport.closed
    assert [r.target for r in conn.echo.requests] == [b"/1"]
    conn.send(get(b"/3"))
    assert [r.target for r in conn.echo.requests] == [b"/1"]


def test_head_has_content_length_but_no_body() -> None:
    conn = Conn(make_api().handle)
    conn.send(put(b"/object/h", b"0123456789"))
    conn.send(
        b"HEAD /object/h HTTP/1.1\r\n\r\n"
        + get(b"/object/h")
        + b"HEAD /object/missing HTTP/1.1\r\n\r\n"
    )
    put_ok, head, full, head_missing = conn.responses(heads=frozenset({1, 3}))
    assert put_ok.body == SUCCESS
    assert head.status == 200
    assert head.header(b"content-length") == b"10"
    assert head.header(b"content-type") == b"application/octet-stream"
    assert head.body == b""
    assert full.body == b"0123456789"
    assert head_missing.status == 404
    assert head_missing.header(b"content-length") == b"%d" % len(
        b'{"message": "Object at missing is not found or expired"}\n'
    )
    assert conn.output.endswith(b"\r\n\r\n")


def test_expect_100_continue_invites_the_body() -> None:
    conn = Conn()
    conn.send(b"PUT /e HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert conn.output == CONTINUE
    assert conn.echo.requests == []
    conn.send(b"body")
    interim, final = conn.responses()
    assert interim.status == 100
    assert final.status == 200
    assert final.body == b"PUT /e|-|body"


def test_expect_100_continue_is_ignored_for_http10() -> None:
    conn = Conn()
    conn.send(b"PUT /e HTTP/1.0\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert conn.output == b""
    conn.send(b"body")
    [response] = conn.responses()
    assert (response.status, response.body) == (200, b"PUT /e|-|body")


def test_expect_100_continue_with_too_large_body_gets_413_only() -> None:
    conn = Conn()
    conn.send(
        b"PUT /e HTTP/1.1\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (MAX_BODY + 1)
    )
    [response] = conn.responses()
    assert response.status == 413
    assert CONTINUE not in conn.output


# -- limits and errors --------------------------------------------------------------


def assert_rejected(conn: Conn, status: int, message: bytes) -> None:
    """One error response, JSON, ``connection: close``, then a lingering half-close."""
    [response] = conn.responses()
    assert response.status == status
    assert response.header(b"content-type") == b"application/json"
    assert response.header(b"connection") == b"close"
    assert response.body == b'{"message": "' + message + b'"}\n'
    assert conn.transport.eof_written
    assert not conn.transport.closed
    conn.loop.advance(LINGER_SECONDS)
    assert conn.transport.closed


@pytest.mark.parametrize("name", [b"Content-Length", b"content-length", b"CONTENT-length"])
def test_413_from_content_length_before_the_body_arrives(name: bytes) -> None:
    conn = Conn()
    conn.send(b"PUT /big HTTP/1.1\r\n%s: %d\r\n\r\n" % (name, MAX_BODY + 1))
    assert conn.echo.requests == []
    conn.send(b"x" * (MAX_BODY + 1) + get(b"/later"))
    assert conn.echo.requests == []
    assert_rejected(conn, 413, b"Request body is larger than MAX_OBJECT_SIZE")


@pytest.mark.parametrize(
    "length", [b"%d" % MAX_BODY, b"%d" % (MAX_BODY - 1), b"0", b"0%d" % MAX_BODY, b"7 "]
)
def test_content_length_within_the_limit_is_read_in_full(length: bytes) -> None:
    # Shorter than MAX_BODY's digits, or as long but not larger (leading zeros, a trailing
    # space): the body is awaited and the request answered.
    conn = Conn()
    size = int(length)
    conn.send(b"PUT /ok HTTP/1.1\r\nContent-Length: %s\r\n\r\n" % length + b"x" * size)
    [request] = conn.echo.requests
    assert request.body == b"x" * size


@pytest.mark.parametrize("length", [b"%d" % (MAX_BODY + 1), b"000%d" % (MAX_BODY + 1), b"9" * 18])
def test_413_from_any_spelling_of_a_content_length_over_the_limit(length: bytes) -> None:
    conn = Conn()
    conn.send(b"PUT /big HTTP/1.1\r\nContent-Length: %s\r\n\r\n" % length)
    assert conn.echo.requests == []
    assert_rejected(conn, 413, b"Request body is larger than MAX_OBJECT_SIZE")


def test_413_for_chunked_body_over_the_limit() -> None:
    conn = Conn()
    conn.send(b"PUT /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    conn.send(b"%x\r\n%s\r\n" % (MAX_BODY, b"a" * MAX_BODY))
    assert conn.output == b""
    conn.send(b"1\r\nb\r\n")
    conn.send(b"0\r\n\r\n" + get(b"/later"))
    assert conn.echo.requests == []
    assert_rejected(conn, 413, b"Request body is larger than MAX_OBJECT_SIZE")


def test_431_for_large_headers_in_one_chunk() -> None:
    conn = Conn()
    conn.send(get(b"/h", b"X-Big: " + b"v" * MAX_HEADER + b"\r\n"))
    assert conn.echo.requests == []
    assert_rejected(conn, 431, b"Request headers are larger than MAX_HEADER_SIZE")


def test_431_for_many_small_headers() -> None:
    conn = Conn()
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 50) for i in range(MAX_HEADER // 50))
    conn.send(get(b"/h", headers))
    assert conn.echo.requests == []
    assert_rejected(conn, 431, b"Request headers are larger than MAX_HEADER_SIZE")


def test_431_for_a_large_header_trickled_in() -> None:
    conn = Conn()
    conn.send(b"GET /h HTTP/1.1\r\nX-Big: ")
    for _ in range(MAX_HEADER // 16 + 2):
        conn.send(b"v" * 16)
        if conn.output:
            break
    assert conn.echo.requests == []
    assert_rejected(conn, 431, b"Request headers are larger than MAX_HEADER_SIZE")


def test_headers_within_the_limit_are_accepted() -> None:
    conn = Conn()
    conn.send(get(b"/h", b"X-Ok: " + b"v" * (MAX_HEADER // 2) + b"\r\n"))
    [response] = conn.responses()
    assert response.status == 200


def test_414_for_a_long_url() -> None:
    conn = Conn()
    conn.send(get(b"/" + b"u" * MAX_HEADER))
    assert conn.echo.requests == []
    assert_rejected(conn, 414, b"Request URL is longer than MAX_HEADER_SIZE")


def test_414_for_a_long_url_arriving_in_pieces() -> None:
    conn = Conn()
    conn.send(b"GET /")
    for _ in range(MAX_HEADER // 100 + 2):
        conn.send(b"u" * 100)
        if conn.output:
            break
    assert_rejected(conn, 414, b"Request URL is longer than MAX_HEADER_SIZE")


@pytest.mark.parametrize(
    "garbage",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"PUT / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"PUT / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
def test_garbage_gets_400_and_nothing_further_is_processed(garbage: bytes) -> None:
    conn = Conn()
    conn.send(garbage + get(b"/after"))
    conn.send(get(b"/later"))
    assert conn.echo.requests == []
    assert_rejected(conn, 400, b"Malformed HTTP request")


def test_valid_request_before_garbage_in_the_same_chunk_is_answered_first() -> None:
    conn = Conn()
    conn.send(get(b"/ok") + b"NOT HTTP AT ALL\r\n\r\n")
    ok, bad = conn.responses()
    assert (ok.status, ok.body) == (200, b"GET /ok|-|")
    assert bad.status == 400
    assert conn.transport.eof_written


def test_reject_without_write_eof_closes_at_once() -> None:
    conn = Conn(transport=MockTransport(can_eof=False))
    conn.send(b"GARBAGE\r\n\r\n")
    [response] = conn.responses()
    assert response.status == 400
    assert conn.transport.closed
    assert not conn.transport.eof_written


def test_header_timeout_gets_408() -> None:
    conn = Conn()
    conn.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n")
    conn.loop.advance(HEADER_TIMEOUT - 0.1)
    conn.send(b"X-Still: coming\r\n")
    assert conn.output == b""
    conn.loop.advance(0.1)
    conn.send(b"\r\n")
    assert conn.echo.requests == []
    assert_rejected(conn, 408, b"Request headers not received in time")


def test_header_timeout_is_cancelled_when_headers_complete() -> None:
    conn = Conn()
    conn.send(b"PUT /slow HTTP/1.1\r\nContent-Length: 4\r\n")
    conn.send(b"\r\nab")
    conn.loop.advance(HEADER_TIMEOUT * 3)
    assert conn.output == b""
    assert not conn.transport.closed
    conn.send(b"cd")
    [response] = conn.responses()
    assert response.body == b"PUT /slow|-|abcd"


def test_header_timeout_applies_per_request() -> None:
    conn = Conn()
    conn.send(get(b"/1") + b"GET /2 HTTP/1.1\r\n")
    conn.loop.advance(HEADER_TIMEOUT)
    first, timeout = conn.responses()
    assert first.body == b"GET /1|-|"
    assert timeout.status == 408


def test_idle_connection_closes_after_keepalive_timeout() -> None:
    conn = Conn()
    conn.loop.advance(KEEPALIVE - 0.5)
    conn.send(get())
    conn.loop.advance(KEEPALIVE - 0.5)
    assert not conn.transport.closed
    conn.loop.advance(0.5)
    assert conn.transport.closed
    assert not conn.transport.eof_written
    assert len(conn.responses()) == 1


def test_connection_that_never_sends_closes_after_keepalive_timeout() -> None:
    conn = Conn()
    conn.loop.advance(KEEPALIVE)
    assert conn.transport.closed
    assert conn.output == b""


def test_keepalive_timer_does_not_run_during_a_slow_body() -> None:
    conn = Conn()
    conn.send(b"PUT /b HTTP/1.1\r\nContent-Length: 3\r\n\r\na")
    conn.loop.advance(KEEPALIVE * 2)
    assert not conn.transport.closed
    conn.send(b"bc")
    assert conn.responses()[0].body == b"PUT /b|-|abc"


# -- handler failures ------------------------------------------------------------------


def test_handler_raising_gets_500_and_closes() -> None:
    calls: list[bytes] = []

    def handler(request: Request) -> Response:
        calls.append(request.target)
        if request.target == b"/boom":
            raise RuntimeError("bug")
        return Response(200, b"ok", b"text/plain")

    conn = Conn(handler)
    conn.send(get(b"/fine") + get(b"/boom") + put(b"/after", b"side effect"))
    fine, error = conn.responses()
    assert fine.status == 200
    assert error.status == 500
    assert error.body == b'{"message": "Internal server error"}\n'
    assert error.header(b"connection") == b"close"
    assert conn.transport.closed
    assert calls == [b"/fine", b"/boom"], "requests after the failure must not be handled"


# -- flow control ----------------------------------------------------------------------


def test_flow_control_pauses_and_resumes_reading_once() -> None:
    transport = MockTransport()
    flow = FlowControl(cast(asyncio.Transport, transport))
    flow.pause_writing()
    flow.pause_writing()
    assert (transport.pause_calls, transport.resume_calls) == (1, 0)
    assert flow.reading_paused
    flow.resume_writing()
    flow.resume_writing()
    assert (transport.pause_calls, transport.resume_calls) == (1, 1)
    assert not flow.reading_paused
    flow.resume_writing()
    assert transport.resume_calls == 1


def test_protocol_forwards_back_pressure_to_the_transport() -> None:
    conn = Conn()
    conn.protocol.pause_writing()
    conn.protocol.pause_writing()
    conn.protocol.resume_writing()
    conn.protocol.resume_writing()
    assert (conn.transport.pause_calls, conn.transport.resume_calls) == (1, 1)


def test_calls_before_connection_made_are_harmless() -> None:
    state = ServerState()
    loop = FakeLoop()
    protocol = HttpProtocol(EchoHandler(), state, LIMITS, cast(asyncio.AbstractEventLoop, loop))
    protocol.pause_writing()
    protocol.resume_writing()
    protocol.shutdown()
    protocol.abort()
    assert state.connections == set()
    assert loop.timers == []


# -- connections, shutdown --------------------------------------------------------------


def test_max_connections_turns_away_the_extra_one_with_503() -> None:
    state = ServerState()
    limits = HttpLimits(MAX_BODY, MAX_HEADER, KEEPALIVE, HEADER_TIMEOUT, max_connections=2)
    loop = FakeLoop()
    first, second = (
        Conn(state=state, limits=limits, loop=loop),
        Conn(state=state, limits=limits, loop=loop),
    )
    third = Conn(state=state, limits=limits, loop=loop)
    assert first.output == second.output == b""
    [response] = third.responses()
    assert response.status == 503
    assert response.body == b'{"message": "Too many connections (MAX_CONNECTIONS)"}\n'
    assert third.transport.eof_written
    third.send(get())
    assert third.echo.requests == []
    third.protocol.connection_lost(None)
    first.protocol.connection_lost(None)
    assert state.connections == {second.protocol}
    fourth = Conn(state=state, limits=limits, loop=loop)
    fourth.send(get())
    assert fourth.responses()[0].status == 200
    assert state.total_connections == 4


def test_connection_lost_releases_the_slot_and_timers() -> None:
    conn = Conn()
    conn.send(b"GET /partial HTTP/1.1\r\n")
    assert conn.state.connections == {conn.protocol}
    callbacks = {t.callback.__name__ for t in conn.loop.active()}
    assert callbacks == {"_on_idle", "_on_header_timeout"}
    conn.protocol.connection_lost(None)
    assert conn.state.connections == set()
    assert conn.loop.active() == []
    conn.send(b"\r\n")
    assert conn.echo.requests == []


def test_shutdown_closes_an_idle_connection() -> None:
    conn = Conn()
    conn.send(get())
    conn.state.draining = True
    conn.protocol.shutdown()
    assert conn.transport.closed
    assert not conn.transport.eof_written


def test_shutdown_lets_the_request_in_flight_finish_with_connection_close() -> None:
    state = ServerState()
    loop = FakeLoop()
    idle, busy = Conn(state=state, loop=loop), Conn(state=state, loop=loop)
    busy.send(b"PUT /in-flight HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")
    state.draining = True
    for connection in list(state.connections):
        connection.shutdown()
    assert idle.transport.closed
    assert not busy.transport.closed
    busy.send(b"cd" + get(b"/pipelined-after"))
    [response] = busy.responses()
    assert response.body == b"PUT /in-flight|-|abcd"
    assert response.header(b"connection") == b"close"
    assert busy.transport.closed
    assert [r.target for r in busy.echo.requests] == [b"/in-flight"]


def test_shutdown_after_a_rejected_request_does_not_resume_parsing() -> None:
    conn = Conn()
    conn.send(b"PUT /big HTTP/1.1\r\nContent-Length: 1000\r\n\r\n")
    assert conn.responses()[0].status == 413
    conn.state.draining = True
    conn.protocol.shutdown()
    conn.send(b"more body bytes the client still sends")
    assert [r.status for r in conn.responses()] == [413]
    conn.loop.advance(LINGER_SECONDS)
    assert conn.transport.closed


def test_abort_aborts_the_transport() -> None:
    conn = Conn()
    conn.protocol.abort()
    assert conn.transport.aborted


def test_eof_received_closes_unless_answers_are_queued() -> None:
    conn = Conn()
    conn.send(get())
    assert conn.protocol.eof_received() is False


def test_upgrade_request_is_answered_then_closed() -> None:
    conn = Conn()
    conn.send(get(b"/ws", b"Connection: Upgrade\r\nUpgrade: websocket\r\n") + b"\x81\x05hello")
    [response] = conn.responses()
    assert response.body == b"GET /ws|-|"
    assert conn.transport.closed
    assert len(conn.echo.requests) == 1


# -- async handlers ------------------------------------------------------------------------


class AsyncHandler:
    """Answers each request only when the test resolves its future."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: dict[bytes, asyncio.Future[Response]] = {}
        self.targets: list[bytes] = []

    def __call__(self, request: Request) -> Coroutine[Any, Any, Response]:
        self.targets.append(request.target)
        future: asyncio.Future[Response] = self.loop.create_future()
        self.waiting[request.target] = future
        return self._wait(future)

    @staticmethod
    async def _wait(future: asyncio.Future[Response]) -> Response:
        return await future

    def answer(self, target: bytes) -> None:
        self.waiting[target].set_result(Response(200, b"answer " + target, b"text/plain"))


def test_async_handler_answers_leave_in_request_order(real_loop: asyncio.AbstractEventLoop) -> None:
    handler = AsyncHandler(real_loop)
    conn = Conn(handler, loop=FakeLoop(real_loop))
    conn.send(get(b"/1") + get(b"/2") + get(b"/3"))
    settle(real_loop)
    assert handler.targets == [b"/1", b"/2", b"/3"]
    handler.answer(b"/3")
    handler.answer(b"/2")
    settle(real_loop)
    assert conn.output == b""
    handler.answer(b"/1")
    settle(real_loop)
    assert [r.body for r in conn.responses()] == [b"answer /1", b"answer /2", b"answer /3"]
    assert not conn.transport.closed


def test_sync_answer_queued_behind_an_async_one(real_loop: asyncio.AbstractEventLoop) -> None:
    async_handler = AsyncHandler(real_loop)

    def handler(request: Request) -> Response | Coroutine[Any, Any, Response]:
        if request.target == b"/slow":
            return async_handler(request)
        return Response(200, b"sync " + request.target, b"text/plain")

    conn = Conn(handler, loop=FakeLoop(real_loop))
    conn.send(get(b"/slow") + get(b"/fast"))
    settle(real_loop)
    assert conn.output == b""
    async_handler.answer(b"/slow")
    settle(real_loop)
    assert [r.body for r in conn.responses()] == [b"answer /slow", b"sync /fast"]


def test_queued_answer_keeps_the_connection_past_keepalive(
    real_loop: asyncio.AbstractEventLoop,
) -> None:
    handler = AsyncHandler(real_loop)
    conn = Conn(handler, loop=FakeLoop(real_loop))
    conn.send(get(b"/1"))
    settle(real_loop)
    conn.loop.advance(KEEPALIVE * 3)
    assert not conn.transport.closed
    assert conn.protocol.eof_received() is True
    handler.answer(b"/1")
    settle(real_loop)
    assert conn.responses()[0].body == b"answer /1"
    assert not conn.transport.closed
    conn.loop.advance(KEEPALIVE)
    assert conn.transport.closed


def test_async_handler_with_connection_close(real_loop: asyncio.AbstractEventLoop) -> None:
    handler = AsyncHandler(real_loop)
    conn = Conn(handler, loop=FakeLoop(real_loop))
    conn.send(get(b"/1") + get(b"/2", b"Connection: close\r\n") + get(b"/3"))
    settle(real_loop)
    assert handler.targets == [b"/1", b"/2"]
    handler.answer(b"/2")
    handler.answer(b"/1")
    settle(real_loop)
    first, last = conn.responses()
    assert (first.body, first.header(b"connection")) == (b"answer /1", b"keep-alive")
    assert (last.body, last.header(b"connection")) == (b"answer /2", b"close")
    assert conn.transport.closed


@pytest.mark.parametrize("failure", [RuntimeError("backend down"), asyncio.CancelledError()])
def test_async_handler_failure_gets_500_and_closes(
    real_loop: asyncio.AbstractEventLoop, failure: BaseException
) -> None:
    handler = AsyncHandler(real_loop)
    conn = Conn(handler, loop=FakeLoop(real_loop))
    conn.send(get(b"/1") + get(b"/2") + get(b"/3"))
    settle(real_loop)
    handler.answer(b"/1")
    handler.waiting[b"/2"].set_exception(failure)
    handler.answer(b"/3")
    settle(real_loop)
    ok, error = conn.responses()
    assert ok.body == b"answer /1"
    assert error.status == 500
    assert error.header(b"connection") == b"close"
    assert conn.transport.closed
    conn.send(get(b"/4"))
    settle(real_loop)
    assert handler.targets == [b"/1", b"/2", b"/3"]


def test_error_after_queued_answers_is_written_after_them(
    real_loop: asyncio.AbstractEventLoop,
) -> None:
    handler = AsyncHandler(real_loop)
    conn = Conn(handler, loop=FakeLoop(real_loop))
    conn.send(get(b"/1") + b"GARBAGE\r\n\r\n")
    settle(real_loop)
    assert conn.output == b""
    handler.answer(b"/1")
    settle(real_loop)
    ok, bad = conn.responses()
    assert ok.body == b"answer /1"
    assert bad.status == 400
    assert bad.header(b"connection") == b"close"


def test_shutdown_with_a_queued_answer_closes_after_it(
    real_loop: asyncio.AbstractEventLoop,
) -> None:
    handler = AsyncHandler(real_loop)
    conn = Conn(handler, loop=FakeLoop(real_loop))
    conn.send(get(b"/1"))
    settle(real_loop)
    conn.state.draining = True
    conn.protocol.shutdown()
    assert not conn.transport.closed
    conn.send(get(b"/2"))
    handler.answer(b"/1")
    settle(real_loop)
    [response] = conn.responses()
    assert response.body == b"answer /1"
    assert conn.transport.closed
    assert handler.targets == [b"/1"]


def test_connection_lost_cancels_queued_answers(real_loop: asyncio.AbstractEventLoop) -> None:
    handler = AsyncHandler(real_loop)
    conn = Conn(handler, loop=FakeLoop(real_loop))
    conn.send(get(b"/1"))
    settle(real_loop)
    conn.protocol.connection_lost(ConnectionResetError())
    settle(real_loop)
    assert handler.waiting[b"/1"].cancelled()
    assert conn.output == b""
    assert conn.protocol.eof_received() is False


def test_awaitable_that_is_not_a_coroutine(real_loop: asyncio.AbstractEventLoop) -> None:
    future: asyncio.Future[Response] = real_loop.create_future()
    conn = Conn(lambda _request: future, loop=FakeLoop(real_loop))
    conn.send(get())
    future.set_result(Response(201, b"made", b"text/plain"))
    settle(real_loop)
    [response] = conn.responses()
    assert (response.status, response.body) == (201, b"made")


def test_parse_responses_helper_rejects_truncated_bodies() -> None:
    with pytest.raises(AssertionError):
        parse_responses(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nabc")


# -- request counts ---------------------------------------------------------------------


def test_each_answer_is_counted_by_method_and_status() -> None:
    def handler(request: Request) -> Response:
        status = 404 if request.target == b"/missing" else 200
        return Response(status, b"", b"text/plain")

    conn = Conn(handler)
    conn.send(get(b"/a") + get(b"/missing") + b"PUT /b HTTP/1.1\r\nContent-Length: 1\r\n\r\nv")
    assert conn.state.requests.pairs() == [("GET", "200", 1), ("GET", "404", 1), ("PUT", "200", 1)]


def test_a_failing_handler_counts_as_500() -> None:
    def broken(_request: Request) -> Response:
        raise RuntimeError("boom")

    conn = Conn(broken)
    conn.send(b"DELETE /x HTTP/1.1\r\nHost: t\r\n\r\n")
    assert [r.status for r in conn.responses()] == [500]
    assert conn.state.requests.pairs() == [("DELETE", "500", 1)]


def test_async_answers_are_counted_when_they_are_known(
    real_loop: asyncio.AbstractEventLoop,
) -> None:
    async_handler = AsyncHandler(real_loop)

    def handler(request: Request) -> Response | Coroutine[Any, Any, Response]:
        if request.target == b"/slow":
            return async_handler(request)
        return Response(404, b"", b"text/plain")

    conn = Conn(handler, loop=FakeLoop(real_loop))
    conn.send(get(b"/slow") + b"HEAD /fast HTTP/1.1\r\nHost: t\r\n\r\n")
    settle(real_loop)
    assert conn.state.requests.pairs() == [("HEAD", "404", 1)]
    async_handler.answer(b"/slow")
    settle(real_loop)
    assert conn.state.requests.pairs() == [("GET", "200", 1), ("HEAD", "404", 1)]


def test_the_protocols_own_error_answers_are_counted() -> None:
    malformed = Conn()
    malformed.send(b"\x00\x01 nonsense\r\n\r\n")
    assert malformed.state.requests.pairs() == [("UNKNOWN", "400", 1)]
    too_long = Conn(limits=replace(LIMITS, max_header_size=64))
    too_long.send(b"PUT /x HTTP/1.1\r\nX-Long: " + b"a" * 100 + b"\r\n\r\n")
    assert too_long.state.requests.pairs() == [("PUT", "431", 1)]


HEADER_NAMES = [(b"Content-Type", b"content-type"), (b"Content-Length", b"content-length")]
HEADER_NAMES.append((b"Expect", b"expect"))


@given(
    pair=st.sampled_from(HEADER_NAMES),
    flips=st.lists(st.booleans(), min_size=14, max_size=14),
    other=st.binary(min_size=6, max_size=14),
)
def test_is_named_is_a_case_insensitive_compare(
    pair: tuple[bytes, bytes], flips: list[bool], other: bytes
) -> None:
    as_sent, folded = pair
    flipped = zip(folded, flips[: len(folded)], strict=True)
    spelled = bytes(c ^ 0x20 if flip and chr(c).isalpha() else c for c, flip in flipped)
    assert is_named(spelled, as_sent, folded)
    assert is_named(as_sent, as_sent, folded)
    name = other[: len(folded)].ljust(len(folded), b"x")
    assert is_named(name, as_sent, folded) == (name.lower() == folded)


@pytest.mark.parametrize(
    "size", [0, 100, VIEW_FROM_BYTES - 1, VIEW_FROM_BYTES, 3 * VIEW_FROM_BYTES]
)
def test_stored_values_of_every_size_class_are_answered_whole(size: int) -> None:
    # Below VIEW_FROM_BYTES the store answers a copy, from it a view: both go out in the one
    # write of the head, below LARGE_BODY_BYTES; HEAD gets the same head and no body.
    clock = FakeClock()
    store = Store(make_policy("REJECT"))
    value = bytes(range(256)) * (size // 256) + bytes(size % 256)
    store.put(b"v", value, b"a/b", 0, clock())
    conn = Conn(Api(store, Settings(time_to_live=60), clock).handle)
    conn.send(get(b"/object/v") + b"HEAD /object/v HTTP/1.1\r\nHost: t\r\n\r\n")
    head = b"HTTP/1.1 200 OK\r\ncontent-type: a/b\r\ncontent-length: %d\r\n" % size
    head += b"connection: keep-alive\r\n\r\n"
    assert conn.output == head + value + head
    assert len(conn.transport.writes) == 2

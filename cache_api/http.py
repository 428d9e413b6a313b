"""HTTP/1.1 on asyncio: one ``asyncio.Protocol`` per connection, parsing with httptools (llhttp).

The protocol holds no business logic. Parser callbacks only gather the URL,
the two headers the routes need and the body into per-request fields, and
``on_message_complete`` makes one call to the handler (``api.Api.handle``).
For the in-process store that call answers synchronously and the response is
written at once; an awaitable answer (a networked backend) is queued, so that
pipelined responses still leave in request order.

Limits, each a setting: ``MAX_HEADER_SIZE`` (431, or 414 for the URL),
``MAX_OBJECT_SIZE`` (413 as soon as Content-Length says so, or once a chunked
body passes it, without buffering the rest), ``HEADER_TIMEOUT`` (408, against
slowloris), ``KEEPALIVE_TIMEOUT`` (idle connections close) and
``MAX_CONNECTIONS`` (503). A malformed request gets 400. Every error closes
the connection after a lingering half-close, so the client reads the answer
before the socket goes. No exception escapes a protocol callback.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Final, cast

import httptools
from librt.strings import BytesWriter

from cache_api.traffic import RequestCounts
from cache_api.types import Body, Handler, Request, Response, json_response

log: Final = logging.getLogger("cache_api.http")

STATUS_CODES: Final = 600
"""Status codes run from 100 to 599."""
_PHRASES: Final = {status.value: status.phrase for status in HTTPStatus}
STATUS_HEADS: Final[list[bytes]] = [
    f"HTTP/1.1 {code} {_PHRASES.get(code, '')}\r\ncontent-type: ".encode()
    for code in range(STATUS_CODES)
]
"""By status code: the status line and the name of the first header, which every answer
carries. A list, not a dict: compiled, its read is a bounds check and a load, where a dict
lookup boxes the code and hashes it (about 140 instructions a response)."""
CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
CONNECTION_CLOSE: Final = b"connection: close\r\n"
CONNECTION_KEEP_ALIVE: Final = b"connection: keep-alive\r\n"
CRLF: Final = b"\r\n"
CONTENT_TYPE_NAME_BYTES: Final = len(b"content-type")
CONTENT_LENGTH_NAME_BYTES: Final = len(b"content-length")
EXPECT_NAME_BYTES: Final = len(b"expect")
ASCII_LOWER_BIT: Final = 0x20
"""OR-ed into an ASCII letter, makes it lower case."""

LARGE_BODY_BYTES: Final = 64 * 1024
"""Bodies of at least this many bytes are written after the head rather than copied into it."""

PREBUILT_LENGTHS: Final = 4096
"""Content-Length lines for bodies below this many bytes are built once, at import."""
LENGTH_LINE: Final = b"\r\ncontent-length: %d\r\n"
LENGTH_LINES: Final = [LENGTH_LINE % size for size in range(PREBUILT_LENGTHS)]

LINGER_SECONDS: Final = 2.0
"""Seconds an erroring connection keeps reading, and dropping, the client's bytes."""

UNKNOWN_METHOD: Final = b"UNKNOWN"
"""How an error answered before a request's method was read is counted."""

BAD_REQUEST: Final = json_response(400, "Malformed HTTP request")
REQUEST_TIMEOUT: Final = json_response(408, "Request headers not received in time")
PAYLOAD_TOO_LARGE: Final = json_response(413, "Request body is larger than MAX_OBJECT_SIZE")
URI_TOO_LONG: Final = json_response(414, "Request URL is longer than MAX_HEADER_SIZE")
HEADERS_TOO_LARGE: Final = json_response(431, "Request headers are larger than MAX_HEADER_SIZE")
INTERNAL_ERROR: Final = json_response(500, "Internal server error")
TOO_MANY_CONNECTIONS: Final = json_response(503, "Too many connections (MAX_CONNECTIONS)")


def is_named(name: bytes, as_sent: bytes, folded: bytes) -> bool:
    """Whether header ``name`` (as long as ``folded``) is ``folded`` in any letter case.

    Compared as clients usually spell it (``as_sent``) first, then case-folded only if the first
    letters agree: compiled, ``bytes.lower()`` is a method call by name and a new object (about
    350 instructions), which every ``Content-Type``, ``Content-Length`` and same-length header
    (``Accept``, ``Origin``) paid before.
    """
    if name == as_sent:
        return True
    return (name[0] | ASCII_LOWER_BIT) == folded[0] and name.lower() == folded


def _not_connected(data: Body) -> None:
    """What a protocol sends through before ``connection_made``: nothing."""


def _closed() -> bool:
    """Whether the transport is closing, before ``connection_made``: yes."""
    return True


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """The protocol's limits, in bytes and seconds, taken from the settings."""

    max_body_size: int
    max_header_size: int
    keepalive_timeout: float
    header_timeout: float
    max_connections: int


@dataclass(slots=True)
class ServerState:
    """What every connection shares: the open connections, the Date line and draining."""

    connections: set[HttpProtocol] = field(default_factory=set)
    total_connections: int = 0
    draining: bool = False
    requests: RequestCounts = field(default_factory=RequestCounts)
    date_line: bytes = b""
    keep_alive_tail: bytes = CONNECTION_KEEP_ALIVE + CRLF
    """The last lines of a kept-alive answer's head: Connection, Date, blank line."""
    close_tail: bytes = CONNECTION_CLOSE + CRLF
    """The same for an answer after which the connection closes."""
    out: BytesWriter = field(default_factory=BytesWriter)
    """Where every response is built, emptied before each: one writer for the event loop's
    thread, not a new one per response (about 250 instructions less), nor one per connection
    (each would keep its largest answer's buffer, up to ``LARGE_BODY_BYTES``)."""

    def refresh_date(self) -> None:
        """Rebuild the Date header line and the tails; the server calls this ten times a second."""
        self.date_line = b"date: " + formatdate(usegmt=True).encode() + CRLF
        self.keep_alive_tail = CONNECTION_KEEP_ALIVE + self.date_line + CRLF
        self.close_tail = CONNECTION_CLOSE + self.date_line + CRLF


class FlowControl:
    """Back-pressure: stop reading while the transport's write buffer is full.

    Pauses are guarded by flags, so repeated calls are no-ops.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.reading_paused = False
        self.writing_paused = False

    def pause_writing(self) -> None:
        """The write buffer is above its high-water mark: stop reading requests."""
        if not self.writing_paused:
            self.writing_paused = True
            self._pause_reading()

    def resume_writing(self) -> None:
        """The write buffer drained: read requests again."""
        if self.writing_paused:
            self.writing_paused = False
            self._resume_reading()

    def _pause_reading(self) -> None:
        if not self.reading_paused:
            self.reading_paused = True
            self._transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.reading_paused:
            self.reading_paused = False
            self._transport.resume_reading()


class _StopParsingError(Exception):
    """Raised from a parser callback to stop parsing; the answer has been sent."""


Pending = tuple["asyncio.Future[Response] | Response", bool, bool, bytes]
"""A queued answer: the response (or its future), keep-alive, whether it answers HEAD,
and the request's method (to count a future's answer once it is known)."""


class HttpProtocol(asyncio.Protocol):
    """One client connection: parse requests, dispatch each once, write responses in order."""

    def __init__(
        self,
        handler: Handler,
        state: ServerState,
        limits: HttpLimits,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        # Per connection.
        self._handler = handler
        self._state = state
        self._limits = limits
        self._loop = loop
        self._parser = httptools.HttpRequestParser(self)
        # Methods called on every request, bound once: compiled, a call by name looks the
        # method up on its type each time (about 250 instructions a call, callgrind).
        self._feed: Callable[[bytes], None] = self._parser.feed_data
        self._method_of_request: Callable[[], bytes] = self._parser.get_method
        self._parser_keeps_alive: Callable[[], bool] = self._parser.should_keep_alive
        self._now: Callable[[], float] = loop.time
        self._transport: asyncio.Transport | None = None
        self._send: Callable[[Body], None] = _not_connected
        self._transport_closing: Callable[[], bool] = _closed
        self._flow: FlowControl | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._header_timer: asyncio.TimerHandle | None = None
        self._pending: deque[Pending] = deque()
        self._out = state.out
        self._max_header_size = limits.max_header_size
        self._max_body_digits = len(str(limits.max_body_size))
        """A Content-Length of fewer characters (llhttp passes only digits, and spaces after
        them) is within ``max_body_size`` unread: ``int(bytes)`` is a generic call of about
        860 instructions compiled."""
        self._request_counts = state.requests
        self._closing = False
        self._in_headers = False
        self._in_request = False
        self._partial_header_bytes = 0
        # Per request: reset as the previous request completes.
        self._url = b""
        self._content_type: bytes | None = None
        self._content_length = 0
        self._expect_continue = False
        self._header_bytes = 0
        self._body: list[bytes] = []
        self._body_size = 0

    # -- asyncio.Protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the connection, or turn it away past ``MAX_CONNECTIONS``."""
        self._transport = cast(asyncio.Transport, transport)
        self._send = self._transport.write
        self._transport_closing = self._transport.is_closing
        self._flow = FlowControl(self._transport)
        self._state.connections.add(self)
        self._state.total_connections += 1
        if len(self._state.connections) > self._limits.max_connections:
            log.warning("MAX_CONNECTIONS=%d reached: refusing one", self._limits.max_connections)
            self._reject(TOO_MANY_CONNECTIONS)
            return
        self._arm_idle_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Release timers, pending answers and the connection's slot."""
        self._state.connections.discard(self)
        self._closing = True
        self._cancel_idle_timer()
        self._cancel_header_timer()
        self._drop_pending()

    def data_received(self, data: bytes) -> None:
        """Feed the parser; it calls back once per complete request."""
        if self._closing:
            return
        self._last_read = self._now()
        started_in_headers = self._in_headers
        try:
            self._feed(data)
        except httptools.HttpParserCallbackError as error:
            if not isinstance(error.__context__, _StopParsingError):
                log.error("error in a parser callback", exc_info=error.__context__)
                self._reject(INTERNAL_ERROR)
            return
        except httptools.HttpParserUpgrade:
            self._closing = True
            self._close_when_flushed()
            return
        except httptools.HttpParserError as error:
            log.info("malformed request from %s: %s", self._peer(), error)
            self._reject(BAD_REQUEST)
            return
        if self._in_headers:
            if started_in_headers:
                self._partial_header_bytes += len(data)
                if self._partial_header_bytes > self._limits.max_header_size:
                    self._reject(HEADERS_TOO_LARGE)
                    return
            if self._header_timer is None:
                self._header_timer = self._loop.call_later(
                    self._limits.header_timeout, self._on_header_timeout
                )
        elif self._idle_timer is None and not self._in_request and not self._pending:
            self._arm_idle_timer()

    def eof_received(self) -> bool:
        """The client will send no more; keep the connection only for queued answers."""
        return bool(self._pending) and not self._closing

    def pause_writing(self) -> None:
        """The write buffer is full: stop reading."""
        if self._flow is not None:
            self._flow.pause_writing()

    def resume_writing(self) -> None:
        """The write buffer drained: read again."""
        if self._flow is not None:
            self._flow.resume_writing()

    # -- parser callbacks ---------------------------------------------------

    def on_url(self, url: bytes) -> None:
        """Gather the request target, within ``MAX_HEADER_SIZE``; its first piece starts a request.

        (There is no ``on_message_begin``: a request's fields are reset when the
        previous one completes, which saves a callback per request.)
        """
        if self._in_request:
            self._url += url
            self._header_bytes += len(url)
        else:
            self._in_request = self._in_headers = True
            self._url = url
            self._header_bytes = len(url)
        if self._header_bytes > self._max_header_size:
            self._abort_with(URI_TOO_LONG)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Keep the headers the routes and the limits need."""
        size = len(name)
        self._header_bytes += size + len(value)
        if self._header_bytes > self._max_header_size:
            self._abort_with(HEADERS_TOO_LARGE)
        if size == CONTENT_TYPE_NAME_BYTES and is_named(name, b"Content-Type", b"content-type"):
            self._content_type = value
        elif size == CONTENT_LENGTH_NAME_BYTES and is_named(
            name, b"Content-Length", b"content-length"
        ):
            if len(value) >= self._max_body_digits:
                self._content_length = int(value)
        elif size == EXPECT_NAME_BYTES and is_named(name, b"Expect", b"expect"):
            self._expect_continue = value.lower() == b"100-continue"

    def on_headers_complete(self) -> None:
        """Refuse an oversized body before it is read; else invite it if asked to."""
        self._in_headers = False
        self._partial_header_bytes = 0
        if self._header_timer is not None:
            self._cancel_header_timer()
        if self._content_length > self._limits.max_body_size:
            self._abort_with(PAYLOAD_TOO_LARGE)
        if (
            self._expect_continue
            and self._transport is not None
            and self._parser.get_http_version() != "1.0"
        ):
            self._transport.write(CONTINUE)

    def on_body(self, body: bytes) -> None:
        """Gather the body, within ``MAX_OBJECT_SIZE`` (chunked bodies have no length up front)."""
        self._body_size += len(body)
        if self._body_size > self._limits.max_body_size:
            self._abort_with(PAYLOAD_TOO_LARGE)
        self._body.append(body)

    def on_message_complete(self) -> None:
        """Dispatch the request: one call to the handler."""
        self._in_request = False
        parts = self._body
        if parts:
            body = parts[0] if len(parts) == 1 else b"".join(parts)
            self._body = []
            self._body_size = 0
        else:
            body = b""
        method = self._method_of_request()
        request = Request(method, self._url, self._content_type, body)
        self._content_type = None
        self._content_length = 0
        self._expect_continue = False
        keep_alive = self._parser_keeps_alive() and not self._state.draining
        head = method == b"HEAD"
        try:
            answer = self._handler(request)
        except Exception:
            log.exception("handler failed on %r", request.target)
            answer, keep_alive = INTERNAL_ERROR, False
            self._closing = True
        if type(answer) is Response:
            self._request_counts.add(method, answer.status)
            if not self._pending:
                self._write(answer, keep_alive, head)
            else:
                self._queue(answer, keep_alive, head)
        else:
            self._queue(answer, keep_alive, head, method)
        if not keep_alive or self._closing:
            self._closing = True
            raise _StopParsingError

    # -- responses ---------------------------------------------------------

    def _queue(
        self,
        answer: Response | Awaitable[Response],
        keep_alive: bool,
        head: bool,
        method: bytes = b"",
    ) -> None:
        """Queue an answer behind earlier ones; an awaitable is written (and counted) when ready."""
        if not isinstance(answer, Response):
            answer = asyncio.ensure_future(_as_coroutine(answer), loop=self._loop)
            answer.add_done_callback(self._on_answer_ready)
        self._pending.append((answer, keep_alive, head, method))

    def _on_answer_ready(self, _future: asyncio.Future[Response]) -> None:
        """Write the queued answers that are ready, in request order."""
        while self._pending and not self._closing_transport():
            answer, keep_alive, head, method = self._pending[0]
            if isinstance(answer, asyncio.Future):
                if not answer.done():
                    return
                if answer.cancelled() or answer.exception() is not None:
                    error = None if answer.cancelled() else answer.exception()
                    log.error("handler failed", exc_info=error)
                    response, keep_alive = INTERNAL_ERROR, False
                else:
                    response = answer.result()
                self._request_counts.add(method, response.status)
            else:
                response = answer
            self._pending.popleft()
            if not keep_alive:
                self._closing = True
                self._drop_pending()
            self._write(response, keep_alive, head)
        if (
            self._idle_timer is None
            and not self._pending
            and not self._in_request
            and not self._closing
        ):
            self._arm_idle_timer()

    def _write(self, response: Response, keep_alive: bool, head: bool, close: bool = True) -> None:
        """Write one response; close the connection after it unless kept alive (or ``close``
        is false: the caller then ends the connection its own way)."""
        if self._transport_closing():
            return
        body = response.body
        size = len(body)
        inline = b"" if head or size >= LARGE_BODY_BYTES else body
        length = LENGTH_LINES[size] if size < PREBUILT_LENGTHS else LENGTH_LINE % size
        out = self._out
        out.truncate(0)
        out.write(STATUS_HEADS[response.status])
        out.write(response.content_type)
        out.write(length)
        out.write(response.extra_headers)
        out.write(self._state.keep_alive_tail if keep_alive else self._state.close_tail)
        send = self._send
        if isinstance(inline, bytes):
            out.write(inline)
            send(out.getvalue())
        else:  # a view of a stored value of VIEW_FROM_BYTES or more: one copy, here
            send(b"".join((out.getvalue(), inline)))
        if size >= LARGE_BODY_BYTES and not head:
            send(body)
        if not keep_alive and close:
            self._close_when_flushed()

    def _reject(self, response: Response) -> None:
        """Answer an error, half-close, and drop what the client still sends for a while."""
        self._closing = True
        self._cancel_header_timer()
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        method = self._parser.get_method() if self._in_request else UNKNOWN_METHOD
        self._request_counts.add(method, response.status)
        if self._pending:
            self._pending.append((response, False, False, b""))
            return
        self._write(response, keep_alive=False, head=False, close=False)
        if transport.can_write_eof():
            transport.write_eof()
            self._idle_timer = self._loop.call_later(LINGER_SECONDS, transport.close)
        else:
            transport.close()

    def _abort_with(self, response: Response) -> None:
        self._reject(response)
        raise _StopParsingError

    # -- timers and shutdown --------------------------------------------------

    def _arm_idle_timer(self, delay: float | None = None) -> None:
        self._cancel_idle_timer()
        timeout = self._limits.keepalive_timeout if delay is None else delay
        self._idle_timer = self._loop.call_later(timeout, self._on_idle)

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _on_idle(self) -> None:
        """Close if nothing arrived for ``KEEPALIVE_TIMEOUT``; else wait out the rest of it.

        The timer is armed once and re-arms itself here, so the hot path pays a
        clock read per ``data_received`` rather than a new timer per request.
        A connection busy with a request or a queued answer is not idle; it
        arms the timer again when it next goes idle.
        """
        self._idle_timer = None
        if self._closing or self._in_request or self._pending or self._transport is None:
            return
        idle_for = self._loop.time() - self._last_read
        if idle_for < self._limits.keepalive_timeout:
            self._arm_idle_timer(self._limits.keepalive_timeout - idle_for)
            return
        self._transport.close()

    def _on_header_timeout(self) -> None:
        self._header_timer = None
        log.info("request headers from %s timed out", self._peer())
        self._reject(REQUEST_TIMEOUT)

    def _close_when_flushed(self) -> None:
        """Close after the queued answers are written (the transport flushes its buffer)."""
        if not self._pending and self._transport is not None:
            self._transport.close()

    def _drop_pending(self) -> None:
        for answer, _, _, _ in self._pending:
            if isinstance(answer, asyncio.Future):
                answer.cancel()
        self._pending.clear()

    def _closing_transport(self) -> bool:
        return self._transport_closing()

    def shutdown(self) -> None:
        """Server shutdown: close now if idle, else after the answer in flight."""
        self._closing = self._closing or not self._in_request
        if self._pending and not self._in_request:
            answer, _, head, method = self._pending.pop()
            self._pending.append((answer, False, head, method))
        if not self._in_request and not self._pending and self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close at once, dropping whatever is unsent."""
        if self._transport is not None:
            self._transport.abort()

    def _peer(self) -> str:
        if self._transport is None:
            return "?"
        peer = self._transport.get_extra_info("peername")
        return str(peer[0]) if isinstance(peer, tuple) else str(peer)


async def _as_coroutine(awaitable: Awaitable[Response]) -> Response:
    return await awaitable

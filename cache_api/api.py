"""The routes: one ``handle(request) -> Response`` per complete request.

``/object/{key}`` reaches the cache only through the ``types.Cache`` interface.
The key is the rest of the path, percent-decoded; ``ttl`` is read only from
the query string. Bodies of the original service's answers are kept byte for
byte, so its clients keep working; every error body is JSON ``{"message": ...}``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl, unquote_to_bytes

from mypy_extensions import i64

from cache_api.config import MAX_TTL_SECONDS, Settings
from cache_api.types import (
    JSON,
    Cache,
    Clock,
    Endpoint,
    Key,
    PutResult,
    Request,
    Response,
    json_response,
)

OBJECT_PREFIX: Final = b"/object/"
OBJECT_PREFIX_LENGTH: Final = len(OBJECT_PREFIX)
DEFAULT_CONTENT_TYPE: Final = b"application/octet-stream"


SUCCESS: Final = json_response(200, "success")
NO_STORAGE: Final = json_response(507, "The server has no storage")
NOT_FOUND: Final = json_response(404, "Not found")
EMPTY_KEY: Final = json_response(400, "The key must not be empty")
BAD_TTL: Final = json_response(
    400, f"ttl must be a whole number of seconds from 0 (forever) to {MAX_TTL_SECONDS}"
)
OBJECT_METHODS: Final = (b"GET", b"HEAD", b"PUT", b"POST", b"DELETE")

_partition: Final = bytes.partition
"""``bytes.partition`` fetched once: compiled, ``target.partition(...)`` looks the method up by
name on every request (mypyc has no primitive for it); this is called directly."""
PERCENT: Final = 0x25
"""``%`` as a byte value: ``PERCENT in key`` is one ``memchr`` (``b"%" in key`` first fails to
read its operand as an int, and ``key.find(b"%")`` parses a tuple of arguments)."""
QUESTION_MARK: Final = 0x3F
"""``?`` as a byte value: a target without a query (most GETs) is not partitioned, which would
build a tuple and two new ``bytes`` (about 450 instructions with their release)."""


class Match(enum.Enum):
    """How a request matched the routes: ``NONE`` (404), ``PARTIAL`` (405) or ``FULL``."""

    NONE = 0
    PARTIAL = 1
    FULL = 2


def allow_header(methods: Mapping[bytes, object] | tuple[bytes, ...]) -> bytes:
    """An ``allow`` header line for ``methods``."""
    return b"allow: " + b", ".join(methods) + b"\r\n"


class Api:
    """The HTTP routes of the cache, over any ``Cache``."""

    def __init__(
        self,
        cache: Cache,
        settings: Settings,
        clock: Clock,
        routes: Mapping[bytes, Mapping[bytes, Endpoint]] | None = None,
    ) -> None:
        self._cache = cache
        self._clock = clock
        self._default_ttl = settings.time_to_live
        self._max_key_length = settings.max_key_length
        self._routes = dict(routes or {})
        self._key_too_long = json_response(
            400, f"The key must be at most {settings.max_key_length} bytes"
        )

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        target = request.target
        if QUESTION_MARK in target:
            path, _, query = _partition(target, b"?")
        else:
            path, query = target, b""
        method = request.method
        if path.startswith(OBJECT_PREFIX):
            key = path[OBJECT_PREFIX_LENGTH:]
            if PERCENT in key:
                key = unquote_to_bytes(key)
            if not key:
                return EMPTY_KEY
            if len(key) > self._max_key_length:
                return self._key_too_long
            if method in (b"GET", b"HEAD"):  # compiled: two comparisons; a set would hash
                found = self._cache.get(key, self._clock())
                if found is None:
                    return missing(key)
                body, content_type = found
                return Response(200, body, content_type)
            if method in (b"PUT", b"POST"):
                return self._put(key, query, request)
            if method == b"DELETE":
                return self._delete(key)
            return self._not_allowed(method, OBJECT_METHODS)
        match, endpoints = self.match(path, method)
        if match is Match.FULL:
            return endpoints[method](request)
        if match is Match.PARTIAL:
            return self._not_allowed(method, tuple(endpoints))
        return NOT_FOUND

    def match(self, path: bytes, method: bytes) -> tuple[Match, Mapping[bytes, Endpoint]]:
        """Match a path other than ``/object/...`` against the extra routes."""
        endpoints = self._routes.get(path)
        if endpoints is None:
            return Match.NONE, {}
        return (Match.FULL if method in endpoints else Match.PARTIAL), endpoints

    def _put(self, key: Key, query: bytes, request: Request) -> Response:
        ttl = self._default_ttl if not query else parse_ttl(query, self._default_ttl)
        if ttl is None:
            return BAD_TTL
        content_type = request.content_type or DEFAULT_CONTENT_TYPE
        result = self._cache.put(key, request.body, content_type, ttl, self._clock())
        if result is PutResult.STORED:
            return SUCCESS
        if result is PutResult.REJECTED_FULL:
            return NO_STORAGE
        return json_response(413, "The object is larger than the whole cache (MAX_MEMORY)")

    def _delete(self, key: Key) -> Response:
        if self._cache.delete(key, self._clock()):
            return SUCCESS
        return missing(key)

    def _not_allowed(self, method: bytes, allowed: tuple[bytes, ...]) -> Response:
        name = method.decode("ascii", "replace")
        return json_response(405, f"Method {name} is not allowed here", allow_header(allowed))


MISSING_HEAD: Final = b'{"message": "Object at '
MISSING_TAIL: Final = b' is not found or expired"}\n'
JSON_SAFE: Final = bytes(b for b in range(0x20, 0x7F) if b not in b'"\\')
"""Bytes that stand for themselves inside a JSON string."""


def missing(key: Key) -> Response:
    """The original's 404 for a missing or expired object."""
    if not key.translate(None, JSON_SAFE):
        return Response(404, MISSING_HEAD + key + MISSING_TAIL, JSON)
    name = key.decode("utf-8", "backslashreplace")
    return json_response(404, f"Object at {name} is not found or expired")


TTL_PREFIX: Final = b"ttl="
TTL_PREFIX_LENGTH: Final = len(TTL_PREFIX)
MAX_FAST_TTL_DIGITS: Final = 18
"""Most digits ``parse_ttl`` reads itself: any 18-digit number fits an ``i64``."""
MAX_TTL: Final[int] = MAX_TTL_SECONDS
"""``config.MAX_TTL_SECONDS``, held here so that compiled code reads it natively."""
ZERO: Final = ord("0")


def parse_ttl(query: bytes, default: int) -> int | None:
    """The ``ttl`` query parameter in seconds, ``default`` if absent, None if invalid.

    A query that is just ``ttl=<ASCII digits>`` (what clients send) is read
    directly, digit by digit (compiled, ``int(bytes)`` was a generic call of
    about 860 instructions); any other goes through ``parse_qsl``, which costs
    about 17,000 instructions (callgrind), as much as the rest of a PUT.
    """
    size = len(query)
    if TTL_PREFIX_LENGTH < size <= TTL_PREFIX_LENGTH + MAX_FAST_TTL_DIGITS and query.startswith(
        TTL_PREFIX
    ):
        ttl: i64 = 0
        at = TTL_PREFIX_LENGTH
        while at < size:
            digit = query[at] - ZERO
            if digit < 0 or digit > 9:
                return parse_ttl_query(query, default)
            ttl = ttl * 10 + digit
            at += 1
        return int(ttl) if ttl <= MAX_TTL else None
    return parse_ttl_query(query, default)


def parse_ttl_query(query: bytes, default: int) -> int | None:
    """``parse_ttl`` for any query string, read with ``parse_qsl``."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    values = [value for name, value in pairs if name == "ttl"]
    if not values:
        return default
    if len(values) > 1 or not values[0].isascii() or not values[0].isdigit():
        return None
    ttl = int(values[0])
    return ttl if ttl <= MAX_TTL else None

"""Logging: where lines go, how they look, and the access log.

Every record goes to stderr, at ``LOG_LEVEL`` and up, as text by default or,
with ``LOG_FORMAT=JSON``, as one JSON object per line (``time``, ``level``,
``logger``, ``message``, any structured fields, ``exception``) for log
shippers.

The access log is the one place requests are logged one by one. It is off by
default; with ``ACCESS_LOG=true`` the server wraps the request handler in
``access_logged`` at start-up, so when it is off the request path contains no
logging code at all. Access lines are written at INFO on the
``cache_api.access`` logger, which is set to INFO itself, so that asking for an
access log gets one whatever ``LOG_LEVEL`` says about everything else.

The start-up banner, the shutdown's progress and its summary go to the
``cache_api.lifecycle`` logger, likewise always at INFO: a handful of lines per
run that say what is listening where, with which limits, and what it did.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TextIO

from cache_api.types import Endpoint, Request, Response

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_LOGGER = "cache_api.access"
LIFECYCLE_LOGGER = "cache_api.lifecycle"
MILLISECONDS_PER_SECOND = 1000.0
ACCESS_FIELDS = ("method", "target", "status", "bytes", "duration_ms")
"""Structured fields an access record carries (JSON keys, and ``extra`` attributes)."""


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """``record`` as a JSON line: time (UTC, ISO 8601), level, logger, message, fields."""
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ACCESS_FIELDS:
            if name in record.__dict__:
                document[name] = record.__dict__[name]
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def make_handler(log_format: str, stream: TextIO) -> logging.Handler:
    """A stderr-style handler writing ``TEXT`` or ``JSON`` lines to ``stream``."""
    handler = logging.StreamHandler(stream)
    if log_format == "JSON":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def configure(level: str, log_format: str, access_log: bool, stream: TextIO) -> None:
    """Send records at ``level`` and up to ``stream``, lifecycle lines always, access if asked."""
    logging.basicConfig(level=level, handlers=[make_handler(log_format, stream)], force=True)
    logging.getLogger(LIFECYCLE_LOGGER).setLevel(logging.INFO)
    if access_log:
        logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)


def access_logged(
    endpoint: Endpoint,
    logger: logging.Logger | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Endpoint:
    """``endpoint``, logging one access line per request it answers (or fails)."""
    log = logger or logging.getLogger(ACCESS_LOGGER)

    def logged(request: Request) -> Response:
        start = clock()
        try:
            response = endpoint(request)
        except Exception:
            _access(log, request, HTTPStatus.INTERNAL_SERVER_ERROR.value, 0, clock() - start)
            raise
        _access(log, request, response.status, len(response.body), clock() - start)
        return response

    return logged


def _access(log: logging.Logger, request: Request, status: int, size: int, seconds: float) -> None:
    method = request.method.decode("ascii", "backslashreplace")
    target = request.target.decode("ascii", "backslashreplace")
    duration_ms = round(seconds * MILLISECONDS_PER_SECOND, 3)
    log.info(
        "%s %s %d %dB %.3fms",
        method,
        target,
        status,
        size,
        duration_ms,
        extra={
            "method": method,
            "target": target,
            "status": status,
            "bytes": size,
            "duration_ms": duration_ms,
        },
    )

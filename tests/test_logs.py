"""Logs: text or JSON lines on stderr, and an access log that costs nothing when off."""

from __future__ import annotations

import http.client
import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cache_api import logs
from cache_api.api import Api
from cache_api.config import Settings
from cache_api.logs import (
    ACCESS_LOGGER,
    LIFECYCLE_LOGGER,
    JsonFormatter,
    access_logged,
    make_handler,
)
from cache_api.policies import make_policy
from cache_api.server import request_handler
from cache_api.store import Store
from cache_api.types import Request, Response
from tests.conftest import FakeClock


class StepClock:
    """A clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger writing JSON lines into a buffer."""
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs.captured")
    handler = make_handler("JSON", stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("cache_api.x", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_json_formatter_writes_one_object_per_line() -> None:
    line = JsonFormatter().format(record("hello %s\nworld", "there"))
    assert "\n" not in line
    document = json.loads(line)
    assert document["message"] == "hello there\nworld"
    assert (document["level"], document["logger"]) == ("WARNING", "cache_api.x")
    assert document["time"].endswith("+00:00")


def test_json_formatter_keeps_access_fields_and_exceptions() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        failed = record("oops", status=500, method="GET")
        failed.exc_info = sys.exc_info()
    document = json.loads(JsonFormatter().format(failed))
    assert (document["status"], document["method"]) == (500, "GET")
    assert "ValueError: bad" in document["exception"]


def test_text_handler_uses_the_text_format() -> None:
    stream = io.StringIO()
    handler = make_handler("TEXT", stream)
    handler.handle(record("plain"))
    assert stream.getvalue().endswith("WARNING cache_api.x: plain\n")


def test_access_logged_writes_one_line_per_request(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    answer = Response(201, b"12345", b"text/plain")
    endpoint = access_logged(lambda r: answer, logger, StepClock(0.0025))
    assert endpoint(Request(b"PUT", b"/object/a%0Ab?ttl=5", None, b"")) is answer
    document = json.loads(stream.getvalue())
    assert document["message"] == "PUT /object/a%0Ab?ttl=5 201 5B 2.500ms"
    assert document["target"] == "/object/a%0Ab?ttl=5"
    assert (document["status"], document["bytes"], document["duration_ms"]) == (201, 5, 2.5)


def test_access_logged_logs_a_failure_as_500_and_reraises(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured

    def broken(_request: Request) -> Response:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        access_logged(broken, logger, StepClock(0.001))(Request(b"GET", b"/x", None, b""))
    assert json.loads(stream.getvalue())["status"] == 500


def test_without_access_log_the_handler_has_no_logging_in_it(clock: FakeClock) -> None:
    settings = Settings()
    api = Api(Store(make_policy("REJECT")), settings, clock)
    plain = request_handler(api, access_log=False)
    logged = request_handler(api, access_log=True)
    assert plain == api.handle
    assert logged.__qualname__ == "access_logged.<locals>.logged"


def test_configure_sets_the_level_and_enables_the_access_logger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    access = logging.getLogger(ACCESS_LOGGER)
    lifecycle = logging.getLogger(LIFECYCLE_LOGGER)
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    for logger in (root, access, lifecycle):
        monkeypatch.setattr(logger, "level", logger.level)
    stream = io.StringIO()
    logs.configure("WARNING", "JSON", access_log=True, stream=stream)
    assert root.level == logging.WARNING
    assert access.level == lifecycle.level == logging.INFO
    logging.getLogger("cache_api").info("hidden")
    logging.getLogger("cache_api.http").info("hidden too")
    access.info("access line")
    lifecycle.info("banner")
    messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert messages == ["access line", "banner"]


def read_all(server: Any, requests: list[tuple[str, str]]) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    for method, path in requests:
        conn.request(method, path, body=b"v" if method == "PUT" else None)
        conn.getresponse().read()
    conn.close()


@pytest.mark.e2e
def test_json_logs_with_access_log(server_factory: Callable[..., Any]) -> None:
    server = server_factory(log_format="json", access_log="true", log_level="warning")
    read_all(server, [("PUT", "/object/k"), ("GET", "/object/k"), ("GET", "/nope")])
    assert server.stop() == 0
    lines = [json.loads(line) for line in server.log().splitlines()]
    access = [line for line in lines if line["logger"] == ACCESS_LOGGER]
    assert [(line["method"], line["target"], line["status"]) for line in access] == [
        ("PUT", "/object/k", 200),
        ("GET", "/object/k", 200),
        ("GET", "/nope", 404),
    ]
    assert all(line["level"] == "INFO" for line in access)
    assert not [line for line in lines if line["logger"] == "cache_api"]  # LOG_LEVEL=WARNING
    lifecycle = [line["message"] for line in lines if line["logger"] == LIFECYCLE_LOGGER]
    assert "listening on http://127.0.0.1:" in lifecycle[0]
    assert lifecycle[-1].startswith("stopped after")


@pytest.mark.e2e
def test_text_logs_have_banner_and_summary_and_no_access_lines(
    server_factory: Callable[..., Any],
) -> None:
    server = server_factory(eviction_policy="lru", max_memory="8mb")
    read_all(server, [("PUT", "/object/k"), ("GET", "/object/k"), ("GET", "/object/z")])
    assert server.stop() == 0
    log = server.log()
    assert "cache-api 1.0.0 listening on http://127.0.0.1:" in log
    assert "EVICTION_POLICY=LRU" in log
    assert "MAX_MEMORY=8mb" in log
    assert "LOG_FORMAT=TEXT ACCESS_LOG=off" in log
    assert "3 request(s) [200=2 404=1]" in log
    assert "1 hit(s), 1 miss(es) (hit ratio 0.500), 1 set(s)" in log
    assert ACCESS_LOGGER not in log

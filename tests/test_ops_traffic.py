"""traffic: request counts by (method, status), kept by a wrapper around the handler."""

from __future__ import annotations

import pytest

from cache_api.traffic import RequestCounts
from cache_api.types import Request, Response


def answer_with(status: int) -> Response:
    return Response(status, b"", b"text/plain")


def request(method: bytes) -> Request:
    return Request(method, b"/", None, b"")


def test_counts_each_answer_by_method_and_status() -> None:
    counts = RequestCounts()
    ok = counts.wrap(lambda r: answer_with(200))
    missing = counts.wrap(lambda r: answer_with(404))
    for method in (b"GET", b"GET", b"PUT"):
        ok(request(method))
    missing(request(b"GET"))
    assert counts.total() == 4
    assert counts.by_method() == {"GET": 3, "PUT": 1}
    assert counts.by_status() == {"200": 3, "404": 1}
    assert counts.pairs() == [("GET", "200", 2), ("GET", "404", 1), ("PUT", "200", 1)]


def test_the_wrapper_returns_the_same_response() -> None:
    response = answer_with(201)
    assert RequestCounts().wrap(lambda r: response)(request(b"GET")) is response


def test_a_failing_handler_counts_as_500_and_still_raises() -> None:
    counts = RequestCounts()

    def broken(_request: Request) -> Response:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        counts.wrap(broken)(request(b"DELETE"))
    assert counts.pairs() == [("DELETE", "500", 1)]


def test_nothing_counted_reads_as_empty() -> None:
    counts = RequestCounts()
    assert (counts.total(), counts.by_method(), counts.by_status(), counts.pairs()) == (
        0,
        {},
        {},
        [],
    )

"""traffic: request counts by (method, status), summed for /stats and /metrics.

The protocol adds to the counts (see ``test_http_protocol``); here, the sums.
"""

from __future__ import annotations

from cache_api.traffic import RequestCounts


def test_sums_by_method_and_status() -> None:
    counts = RequestCounts()
    for method, status in ((b"GET", 200), (b"GET", 200), (b"PUT", 200), (b"GET", 404)):
        counts.counts[method][status] += 1
    assert counts.total() == 4
    assert counts.by_method() == {"GET": 3, "PUT": 1}
    assert counts.by_status() == {"200": 3, "404": 1}
    assert counts.pairs() == [("GET", "200", 2), ("GET", "404", 1), ("PUT", "200", 1)]


def test_nothing_counted_reads_as_empty() -> None:
    counts = RequestCounts()
    assert (counts.total(), counts.by_method(), counts.by_status(), counts.pairs()) == (
        0,
        {},
        {},
        [],
    )

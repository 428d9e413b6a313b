"""traffic: request counts by (method, status), summed for /stats and /metrics.

The protocol adds to the counts (see ``test_http_protocol``); here, the sums.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from cache_api.traffic import RequestCounts


def test_sums_by_method_and_status() -> None:
    counts = RequestCounts()
    for method, status in ((b"GET", 200), (b"GET", 200), (b"PUT", 200), (b"GET", 404)):
        counts.add(method, status)
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


def test_other_methods_are_counted_beside_the_usual_ones() -> None:
    counts = RequestCounts()
    for method, status in ((b"PATCH", 405), (b"UNKNOWN", 400), (b"DELETE", 200), (b"PATCH", 405)):
        counts.add(method, status)
    assert counts.pairs() == [("DELETE", "200", 1), ("PATCH", "405", 2), ("UNKNOWN", "400", 1)]


@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"GET", b"HEAD", b"PUT", b"POST", b"DELETE", b"PATCH", b"UNKNOWN"]),
            st.integers(min_value=100, max_value=599),
        ),
        max_size=60,
    )
)
def test_counts_match_a_counter(answers: list[tuple[bytes, int]]) -> None:
    counts = RequestCounts()
    for method, status in answers:
        counts.add(method, status)
    model = Counter((method.decode(), str(status)) for method, status in answers)
    assert counts.pairs() == sorted((m, s, n) for (m, s), n in model.items())
    assert counts.total() == len(answers)

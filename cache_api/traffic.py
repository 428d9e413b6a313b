"""Request counts by method and status: the one table requests are counted in.

What: ``RequestCounts`` holds the number of answers given with each status to
requests with each method. The protocol (``http``) calls ``add(method, status)``
once per answer it writes: the routes' answers (an awaitable one once it is
known; an endpoint that raises counts as the 500 the protocol answers) and
its own error answers (400, 408, 413, 414, 431, 503), the latter under the
method ``UNKNOWN`` when the request's method was never read.
``/stats`` and ``/metrics`` read the counts at their own request time, summing
by method or by status there.

Why rows for the usual methods: the protocol counts every answer, so the count
is on the hot path. GET, HEAD, PUT, POST and DELETE each have a row of counters
indexed by status code, found by comparing the method's bytes (no hashing of the
fresh method object httptools returns); any other method goes to nested dicts.
Nested dicts for every method cost about 860 instructions an answer (two dict
lookups, one hashing the method, a store and a boxed ``+=``; callgrind), the
rows about a tenth of that. A row is a ``vec[i64]`` (mypyc's native array): compiled, the
increment is then a native add, where a ``list`` of ``int`` read, boxed and stored an object
(about 300 instructions an answer, callgrind). Cardinality is bounded: httptools accepts only the
methods llhttp knows (about 40), and statuses come from a fixed table below
``STATUS_CODES``.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Final

from librt.vecs import vec
from mypy_extensions import i64

COUNTED_METHODS: Final = (b"GET", b"HEAD", b"PUT", b"POST", b"DELETE")
"""Methods counted in rows of their own (``RequestCounts.add`` names each)."""

STATUS_CODES: Final = 600
"""Counters per row: every HTTP status code is below this."""


def _row() -> vec[i64]:
    """A row of ``STATUS_CODES`` zero counters."""
    return vec[i64]([0] * STATUS_CODES)


class RequestCounts:
    """How many requests were answered, by (method, status); read by ``/stats`` and ``/metrics``."""

    def __init__(self) -> None:
        self._get = _row()
        self._head = _row()
        self._put = _row()
        self._post = _row()
        self._delete = _row()
        """``_get[status]``: answers to GET requests with ``status``; likewise the others."""
        self._others: defaultdict[bytes, defaultdict[int, int]] = defaultdict(
            partial(defaultdict, int)
        )
        """``_others[method][status]``: answers to requests of any other method."""

    def add(self, method: bytes, status: int) -> None:
        """Count one answer with ``status`` to a request with ``method``."""
        if method == b"GET":
            self._get[status] += 1
        elif method == b"HEAD":
            self._head[status] += 1
        elif method == b"PUT":
            self._put[status] += 1
        elif method == b"POST":
            self._post[status] += 1
        elif method == b"DELETE":
            self._delete[status] += 1
        else:
            self._others[method][status] += 1

    def pairs(self) -> list[tuple[str, str, int]]:
        """Every (method, status, count) seen, sorted, for labelled metrics."""
        found = [
            (method.decode("ascii", "replace"), str(status), count)
            for method, row in zip(
                COUNTED_METHODS,
                (self._get, self._head, self._put, self._post, self._delete),
                strict=True,
            )
            for status, count in enumerate(row)
            if count
        ]
        found.extend(
            (method.decode("ascii", "replace"), str(status), count)
            for method, by_status in list(self._others.items())
            for status, count in list(by_status.items())
        )
        return sorted(found)

    def total(self) -> int:
        """Every request counted so far."""
        return sum(count for _, _, count in self.pairs())

    def by_method(self) -> dict[str, int]:
        """Counts summed by method (``{"GET": 12}``)."""
        sums: defaultdict[str, int] = defaultdict(int)
        for method, _, count in self.pairs():
            sums[method] += count
        return dict(sorted(sums.items()))

    def by_status(self) -> dict[str, int]:
        """Counts summed by status code, keyed by its decimal text (``{"200": 12}``)."""
        sums: defaultdict[int, int] = defaultdict(int)
        for _, status, count in self.pairs():
            sums[int(status)] += count
        return {str(status): count for status, count in sorted(sums.items())}

"""Request counts by method and status: the one table requests are counted in.

What: ``RequestCounts.counts[method][status]`` is the number of answers given
with that status to requests with that method. The protocol (``http``) adds
one per answer it writes: the routes' answers (an awaitable one once it is
known; an endpoint that raises counts as the 500 the protocol answers) and
its own error answers (400, 408, 413, 414, 431, 503), the latter under the
method ``UNKNOWN`` when the request's method was never read.
``/stats`` and ``/metrics`` read the counts at their own request time, summing
by method or by status there.

Why nested dicts in the protocol: the count is two dict subscripts inline on
the hot path, with no extra call; hashing a fresh (method, status) tuple costs
more than a second lookup (measured: about 0.6 of the tuple key's time). See
docs/operations.md. Cardinality is bounded: httptools accepts only the methods
llhttp knows (about 40), and statuses come from a fixed table.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial


class RequestCounts:
    """How many requests were answered, by (method, status); read by ``/stats`` and ``/metrics``."""

    def __init__(self) -> None:
        self.counts: defaultdict[bytes, defaultdict[int, int]] = defaultdict(
            partial(defaultdict, int)
        )
        """Requests answered: ``counts[method][status]``."""

    def pairs(self) -> list[tuple[str, str, int]]:
        """Every (method, status, count) seen, sorted, for labelled metrics."""
        return sorted(
            (method.decode("ascii", "replace"), str(status), count)
            for method, by_status in list(self.counts.items())
            for status, count in list(by_status.items())
        )

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

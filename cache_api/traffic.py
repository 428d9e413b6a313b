"""Request counts by method and status: the one place requests are counted.

What: ``RequestCounts.wrap(endpoint)`` returns an endpoint that answers exactly
as ``endpoint`` does and adds one to the count of the request's
(method, status) pair; an endpoint that raises counts as a 500, which is what
the protocol then answers. ``/stats`` and ``/metrics`` read the counts at their
own request time, summing by method or by status there.

Why here: the server wraps ``Api.handle`` once at start-up, so neither the
routes nor the protocol change, and the hot path pays one extra call and two
dict subscripts per request, counts by method then by status: nested dicts,
because hashing a fresh (method, status) tuple costs more than a second
lookup (measured: about 0.6 of the tuple key's time). See docs/operations.md.
Cardinality is bounded: httptools accepts only the methods llhttp knows
(about 40), and statuses come from a fixed table.

Known wart: answers the protocol writes on its own, before any route runs
(400 malformed request, 408, 413 from Content-Length, 414, 431, 503 at
``MAX_CONNECTIONS``), never reach the endpoint and are not counted here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import partial
from http import HTTPStatus

from cache_api.types import Request, Response

Endpoint = Callable[[Request], Response]
"""A synchronous request handler (``Api.handle`` and the endpoints of the routes)."""

FAILED_STATUS = HTTPStatus.INTERNAL_SERVER_ERROR.value
"""The status the protocol answers when an endpoint raises."""


class RequestCounts:
    """How many requests were answered, by (method, status); read by ``/stats`` and ``/metrics``."""

    def __init__(self) -> None:
        self.counts: defaultdict[bytes, defaultdict[int, int]] = defaultdict(
            partial(defaultdict, int)
        )
        """Requests answered: ``counts[method][status]``."""

    def wrap(self, endpoint: Endpoint) -> Endpoint:
        """``endpoint``, counting each answer it gives."""
        counts = self.counts

        def counted(request: Request) -> Response:
            try:
                response = endpoint(request)
            except Exception:
                counts[request.method][FAILED_STATUS] += 1
                raise
            counts[request.method][response.status] += 1
            return response

        return counted

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

"""The operational endpoints: ``GET /health`` for load balancers, ``GET /stats`` for people.

``/health`` answers 200 ``{"status": "ok"}`` while the server serves, and 503
``{"status": "draining"}`` once shutdown has begun (SIGTERM, for
``SHUTDOWN_DELAY`` and then while connections drain), so that a load balancer
stops sending before the listener closes. Both bodies are built at import.

``/stats`` is in the spirit of memcached's ``stats`` and Redis's ``INFO``: one
JSON object with the version, uptime and pid, the effective limits and policy,
the store's counters, connections, requests by method and by status, the
active-expiry counters and the resident memory, all read from
``telemetry.Telemetry`` when asked. Its shape is the ``Stats`` schema in
``openapi``; a test holds the two together.
"""

from __future__ import annotations

import json
from typing import Any

from cache_api.telemetry import Snapshot, Telemetry
from cache_api.types import JSON, Request, Response

HEALTHY = Response(200, b'{"status": "ok"}\n', JSON)
DRAINING = Response(503, b'{"status": "draining"}\n', JSON)


class Ops:
    """The endpoints behind ``/health`` and ``/stats``."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    def health(self, _request: Request) -> Response:
        """200 while serving, 503 once shutdown has begun."""
        return DRAINING if self._telemetry.draining else HEALTHY

    def stats(self, _request: Request) -> Response:
        """Every counter, as one JSON object."""
        body = json.dumps(stats_document(self._telemetry.snapshot()), indent=2) + "\n"
        return Response(200, body.encode(), JSON)


def stats_document(snapshot: Snapshot) -> dict[str, Any]:
    """The ``/stats`` JSON object for ``snapshot``."""
    store = snapshot.store
    limits = snapshot.limits
    expiry = snapshot.expiry
    return {
        "version": snapshot.version,
        "pid": snapshot.pid,
        "uptime_seconds": round(snapshot.uptime_seconds, 3),
        "draining": snapshot.draining,
        "limits": {
            "eviction_policy": limits.eviction_policy,
            "number_of_slots": limits.number_of_slots,
            "max_memory": limits.max_memory,
            "max_object_size": limits.max_object_size,
            "max_key_length": limits.max_key_length,
            "time_to_live": limits.time_to_live,
            "max_connections": limits.max_connections,
        },
        "cache": {
            "items": store.items,
            "bytes": store.bytes,
            "hits": store.hits,
            "misses": store.misses,
            "hit_ratio": snapshot.hit_ratio,
            "sets": store.sets,
            "deletes": store.deletes,
            "evictions": store.evictions,
            "expirations": store.expirations,
            "rejected_writes": store.rejected_writes,
        },
        "expiry": {
            "ticks": expiry.ticks,
            "time_cap_reached": expiry.time_cap_reached,
            "key_cap_reached": expiry.key_cap_reached,
            "stale_ratio": expiry.stale_ratio,
        },
        "connections": {
            "current": snapshot.connections,
            "total": snapshot.total_connections,
        },
        "requests": {
            "total": sum(snapshot.requests_by_method.values()),
            "by_method": snapshot.requests_by_method,
            "by_status": snapshot.requests_by_status,
        },
        "memory": {
            "rss_bytes": snapshot.rss_bytes,
            "peak_rss_bytes": snapshot.peak_rss_bytes,
        },
    }

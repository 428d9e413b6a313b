"""``GET /metrics``: the Prometheus text exposition, read at scrape time.

What: ``CacheCollector`` is a ``prometheus_client`` custom collector. Each
scrape takes one ``telemetry.Snapshot`` and turns it into metric families
named ``cache_api_*`` (``METRIC_NAMES`` lists them); nothing is counted on the
request path for Prometheus's sake, the store's plain integer counters are
simply read. ``Metrics`` owns its own ``CollectorRegistry`` holding that
collector, ``prometheus_client``'s process collector (``process_*``: CPU, RSS,
open files, start time) and its platform collector (``python_info``); the
library's global default registry is never used.

Cost: O(metric families + method/status pairs) per scrape, nothing per request.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from cache_api.telemetry import Snapshot, Telemetry
from cache_api.types import Request, Response

PREFIX = "cache_api_"
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
"""The text format every Prometheus version reads (what ``generate_latest`` writes)."""

STORE_COUNTERS: tuple[tuple[str, str], ...] = (
    ("hits", "Lookups that found a live entry."),
    ("misses", "Lookups that found nothing, or an expired entry."),
    ("sets", "Writes stored."),
    ("deletes", "Entries removed by DELETE."),
    ("evictions", "Entries removed by EVICTION_POLICY to make room."),
    ("expirations", "Entries removed because their TTL passed."),
    ("rejected_writes", "Writes refused: no room under REJECT (507), or larger than MAX_MEMORY."),
)
"""Store counters exported as ``cache_api_<name>_total``, with their help."""

METRIC_NAMES: tuple[str, ...] = (
    "cache_api_build_info",
    "cache_api_uptime_seconds",
    "cache_api_items",
    "cache_api_bytes",
    "cache_api_max_items",
    "cache_api_max_bytes",
    "cache_api_hit_ratio",
    *(f"{PREFIX}{name}_total" for name, _ in STORE_COUNTERS),
    "cache_api_open_connections",
    "cache_api_connections_accepted_total",
    "cache_api_requests_total",
    "cache_api_draining",
    "cache_api_expire_cycles_total",
    "cache_api_expire_time_cap_reached_total",
)
"""Every sample name the collector exposes (documented in docs/operations.md)."""


class CacheCollector(Collector):
    """Turns one ``Snapshot`` per scrape into the ``cache_api_*`` metric families."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    def collect(self) -> Iterator[Metric]:
        """The metric families, read now."""
        return iter(families(self._telemetry.snapshot()))


def families(snap: Snapshot) -> list[Metric]:
    """The ``cache_api_*`` metric families of one snapshot."""
    store = snap.store
    build = InfoMetricFamily(PREFIX + "build", "Version and eviction policy of the running server.")
    build.add_metric([], {"version": snap.version, "policy": snap.limits.eviction_policy})
    requests = CounterMetricFamily(
        PREFIX + "requests",
        "Requests answered by the routes, by method and status.",
        labels=("method", "status"),
    )
    for method, status, count in snap.requests:
        requests.add_metric([method, status], count)
    return [
        build,
        gauge("uptime_seconds", "Seconds since the server started.", snap.uptime_seconds),
        gauge("items", "Entries stored now.", store.items),
        gauge(
            "bytes",
            "Accounted bytes stored now (key + value + Content-Type + overhead).",
            store.bytes,
        ),
        gauge("max_items", "NUMBER_OF_SLOTS; 0 means no count limit.", store.max_items),
        gauge("max_bytes", "MAX_MEMORY in bytes; 0 means no limit.", store.max_bytes),
        gauge(
            "hit_ratio", "hits / (hits + misses) since start; 0 before any lookup.", snap.hit_ratio
        ),
        *(
            CounterMetricFamily(PREFIX + name, help_text, value=getattr(store, name))
            for name, help_text in STORE_COUNTERS
        ),
        gauge("open_connections", "Client connections open now.", snap.connections),
        CounterMetricFamily(
            PREFIX + "connections_accepted",
            "Client connections accepted since start.",
            value=snap.total_connections,
        ),
        requests,
        gauge(
            "draining",
            "1 once shutdown has begun (/health answers 503), else 0.",
            int(snap.draining),
        ),
        CounterMetricFamily(
            PREFIX + "expire_cycles", "Active-expiry cycles run.", value=snap.expiry.ticks
        ),
        CounterMetricFamily(
            PREFIX + "expire_time_cap_reached",
            "Active-expiry cycles stopped by their time budget.",
            value=snap.expiry.time_cap_reached,
        ),
    ]


def gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    """One unlabelled ``cache_api_<name>`` gauge."""
    return GaugeMetricFamily(PREFIX + name, help_text, value=value)


class Metrics:
    """The ``/metrics`` endpoint over a registry of its own."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(CacheCollector(telemetry))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def endpoint(self, _request: Request) -> Response:
        """The text exposition of every metric, read now."""
        return Response(200, generate_latest(self.registry), CONTENT_TYPE)

"""What the server knows about itself, read in one place when asked.

What: ``Telemetry.snapshot()`` gathers the store's counters, the connection
counts, the request counts, the active-expiry cycle's counters and the
process's memory into one frozen ``Snapshot``. ``/stats`` renders it as JSON
and the Prometheus collector renders it as metrics; neither keeps counters of
its own.

Cost: nothing on the request path. A snapshot is O(distinct method/status
pairs) plus one read of ``/proc/self/status``, paid only by whoever asks.

It reads the connection state through ``ConnectionState`` and the expiry cycle
through ``ExpiryCounters``, small read-only views, so that it needs nothing
from the http or server modules (imports still point one way).
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cache_api import __version__
from cache_api.config import Settings
from cache_api.store import StoreStats
from cache_api.traffic import RequestCounts
from cache_api.types import Clock

PROC_STATUS = Path("/proc/self/status")
"""Where Linux reports the process's current resident set (``VmRSS``, in kB)."""

BYTES_PER_KIB = 1024
MAXRSS_BYTES_PER_UNIT = 1 if sys.platform == "darwin" else BYTES_PER_KIB
"""``ru_maxrss`` is in bytes on macOS and in KiB on Linux."""


class ConnectionState(Protocol):
    """What telemetry reads of the server's shared connection state (``http.ServerState``)."""

    @property
    def connections(self) -> Sized:
        """The open connections."""
        ...

    @property
    def total_connections(self) -> int:
        """Connections accepted since start."""
        ...

    @property
    def draining(self) -> bool:
        """Whether shutdown has begun."""
        ...


class ExpiryCounters(Protocol):
    """What telemetry reads of the active-expiry cycle (``expiry.ActiveExpireCycle``)."""

    @property
    def ticks(self) -> int:
        """Cycles run."""
        ...

    @property
    def time_cap_reached(self) -> int:
        """Cycles stopped by their time budget."""
        ...

    @property
    def key_cap_reached(self) -> int:
        """Cycles stopped by their key budget."""
        ...

    @property
    def stale_ratio(self) -> float:
        """Smoothed share of each cycle's key budget spent on expired keys."""
        ...


class StatsSource(Protocol):
    """What telemetry reads of the store."""

    def stats(self) -> StoreStats:
        """A snapshot of the store's counters."""
        ...


@dataclass(frozen=True, slots=True)
class Limits:
    """The effective limits and policy, as configured."""

    eviction_policy: str
    number_of_slots: int
    max_memory: int
    max_object_size: int
    max_key_length: int
    time_to_live: int
    max_connections: int


@dataclass(frozen=True, slots=True)
class ExpirySnapshot:
    """The active-expiry cycle's counters."""

    ticks: int
    time_cap_reached: int
    key_cap_reached: int
    stale_ratio: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything ``/stats`` and ``/metrics`` report, read at one instant."""

    version: str
    pid: int
    uptime_seconds: float
    draining: bool
    limits: Limits
    store: StoreStats
    hit_ratio: float
    """hits / (hits + misses); 0 before the first lookup."""
    connections: int
    total_connections: int
    requests: list[tuple[str, str, int]]
    """(method, status, count) for every pair seen."""
    requests_by_method: dict[str, int]
    requests_by_status: dict[str, int]
    expiry: ExpirySnapshot
    rss_bytes: int | None
    """Current resident set size, or None where ``/proc`` is missing."""
    peak_rss_bytes: int


class Telemetry:
    """A read-only view over the live server's counters; ``snapshot()`` reads them all."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: StatsSource,
        connections: ConnectionState,
        requests: RequestCounts,
        expiry: ExpiryCounters,
        clock: Clock,
        started_at: float,
    ) -> None:
        self._store = store
        self._connections = connections
        self._requests = requests
        self._expiry = expiry
        self._clock = clock
        self._started_at = started_at
        self.limits = Limits(
            eviction_policy=settings.eviction_policy,
            number_of_slots=settings.number_of_slots,
            max_memory=settings.max_memory,
            max_object_size=settings.max_object_size,
            max_key_length=settings.max_key_length,
            time_to_live=settings.time_to_live,
            max_connections=settings.max_connections,
        )

    @property
    def draining(self) -> bool:
        """Whether shutdown has begun (``/health`` then answers 503)."""
        return self._connections.draining

    def snapshot(self) -> Snapshot:
        """Read every counter now."""
        store = self._store.stats()
        lookups = store.hits + store.misses
        expiry = self._expiry
        return Snapshot(
            version=__version__,
            pid=os.getpid(),
            uptime_seconds=max(0.0, self._clock() - self._started_at),
            draining=self._connections.draining,
            limits=self.limits,
            store=store,
            hit_ratio=store.hits / lookups if lookups else 0.0,
            connections=len(self._connections.connections),
            total_connections=self._connections.total_connections,
            requests=self._requests.pairs(),
            requests_by_method=self._requests.by_method(),
            requests_by_status=self._requests.by_status(),
            expiry=ExpirySnapshot(
                ticks=expiry.ticks,
                time_cap_reached=expiry.time_cap_reached,
                key_cap_reached=expiry.key_cap_reached,
                stale_ratio=expiry.stale_ratio,
            ),
            rss_bytes=current_rss_bytes(),
            peak_rss_bytes=peak_rss_bytes(),
        )


def current_rss_bytes(status_file: Path = PROC_STATUS) -> int | None:
    """The process's resident set size now (``VmRSS``), or None where the OS does not say."""
    try:
        text = status_file.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            fields = line.split()
            return int(fields[1]) * BYTES_PER_KIB
    return None


def peak_rss_bytes() -> int:
    """The largest resident set size the process has had (``getrusage``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * MAXRSS_BYTES_PER_UNIT

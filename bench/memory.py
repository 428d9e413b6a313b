"""Memory per object: ours vs redis vs memcached, and ours under CACHE_MAX_MEMORY.

Every server starts empty; RSS (VmRSS of the process tree) is read before and
after loading the same keys and values over the network, and the growth is
divided by the number of objects. The server's own accounting comes from
``GET /stats`` (``items``, ``bytes``) for ours, ``INFO memory`` for redis and
``stats`` for memcached.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from itertools import pairwise

import contenders
import loader
from procs import LOOPBACK, Server, tree_rss_bytes

MIB = 1024 * 1024
TTL_S = contenders.BENCH_TTL_S
SETTLE_S = 0.5  # let the freshly started server finish its startup allocations
STATS_TIMEOUT_S = 5.0
FILL_SAMPLES = 6
HTTP_OK = 200
STATS_FIELDS = ("items", "bytes")
STATS_SECTION = "cache"

Progress = Callable[[str], None]
FillSpec = tuple[int, float, int, str]  # MAX_MEMORY bytes, multiple written, value bytes, policy


@dataclass
class MemoryRow:
    """RSS growth of one server after storing ``count`` objects of ``size`` bytes."""

    server: str
    count: int
    size: int
    rss_before: int
    rss_after: int
    load_seconds: float
    accounted_bytes: int | None = None  # the server's own idea of used memory
    items: int | None = None

    @property
    def growth(self) -> int:
        """RSS growth in bytes."""
        return self.rss_after - self.rss_before

    @property
    def per_object(self) -> float:
        """RSS growth per stored object in bytes."""
        return self.growth / self.count

    @property
    def rss_over_accounted(self) -> float | None:
        """RSS growth divided by the server's accounted bytes."""
        if not self.accounted_bytes:
            return None
        return self.growth / self.accounted_bytes

    def to_json(self) -> dict[str, object]:
        """Serializable form."""
        return {
            **asdict(self),
            "rss_growth": self.growth,
            "rss_per_object": self.per_object,
            "rss_over_accounted": self.rss_over_accounted,
        }


@dataclass
class FillSample:
    """RSS while writing into a memory-capped cache."""

    written_bytes: int  # value bytes written so far
    rss_growth: int
    accounted_bytes: int | None
    items: int | None


@dataclass
class FillRun:
    """Writes of new keys into a capped cache, several times the limit's worth."""

    max_memory: int
    multiple: float
    value_size: int
    policy: str
    samples: list[FillSample] = field(default_factory=list)
    rejected: int = 0

    def steady(self) -> list[FillSample]:
        """Samples taken after at least one limit's worth was written."""
        return [s for s in self.samples if s.written_bytes >= self.max_memory]

    def to_json(self) -> dict[str, object]:
        """Serializable form."""
        return asdict(self)


def ours_stats(port: int) -> dict[str, int] | None:
    """``GET /stats`` of our server as ``{"items", "bytes"}``; None without it.

    The fields are read at the top level or inside a ``cache`` object.
    """
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=STATS_TIMEOUT_S)
    try:
        conn.request("GET", "/stats")
        response = conn.getresponse()
        body = response.read()
        if response.status != HTTP_OK:
            return None
        data = json.loads(body)
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    if not isinstance(data, dict):
        return None
    nested = data.get(STATS_SECTION)
    if isinstance(nested, dict) and not any(k in data for k in STATS_FIELDS):
        data = nested
    return {k: data[k] for k in STATS_FIELDS if isinstance(data.get(k), int)}


def _settled_rss(server: Server) -> int:
    """RSS of the server's process tree after a short pause."""
    time.sleep(SETTLE_S)
    return tree_rss_bytes(server.pid)


def measure_ours(count: int, size: int) -> MemoryRow:
    """Load ``count`` objects of ``size`` bytes into a fresh server (LRU, no limits)."""
    with contenders.ours() as server:
        before = _settled_rss(server)
        report = loader.http_put_range(server.port, range(count), size, TTL_S)
        if report.failed:
            raise RuntimeError(f"loading ours failed: {report.statuses}")
        rss_after = _settled_rss(server)
        stats = ours_stats(server.port) or {}
    return MemoryRow(
        "ours", count, size, before, rss_after, report.seconds,
        stats.get("bytes"), stats.get("items"),
    )  # fmt: skip


def measure_redis(count: int, size: int) -> MemoryRow:
    """Load the same keys (with the same TTL) into a fresh redis-server."""
    with contenders.redis() as server:
        before = _settled_rss(server)
        used_before = int(loader.redis_info(server.port)["used_memory"])
        commands = loader.redis_set_commands(range(count), size, TTL_S, "k:{:07d}")
        report = loader.redis_pipe(server.port, commands)
        after = _settled_rss(server)
        info = loader.redis_info(server.port)
        keys_info = loader.redis_info(server.port, "keyspace").get("db0", "")
    items = int(keys_info.split(",")[0].split("=")[1]) if keys_info else None
    return MemoryRow(
        "redis", count, size, before, after, report.seconds,
        int(info["used_memory"]) - used_before, items,
    )  # fmt: skip


def measure_memcached(count: int, size: int) -> MemoryRow:
    """Load the same keys into a fresh memcached (memory cap far above the data)."""
    with contenders.memcached() as server:
        before = _settled_rss(server)
        report = loader.memcached_set_range(server.port, range(count), size, TTL_S)
        after = _settled_rss(server)
        stats = loader.memcached_stats(server.port)
    return MemoryRow(
        "memcached", count, size, before, after, report.seconds,
        int(stats["bytes"]), int(stats["curr_items"]),
    )  # fmt: skip


def measure_fill(spec: FillSpec, progress: Progress) -> FillRun:
    """Write ``multiple`` x max_memory of new keys into a cache capped at it, under ``policy``."""
    max_memory, multiple, value_size, policy = spec
    run = FillRun(max_memory, multiple, value_size, policy)
    total = int(max_memory * multiple) // value_size
    bounds = [total * i // FILL_SAMPLES for i in range(FILL_SAMPLES + 1)]
    env = {"CACHE_MAX_MEMORY": f"{max_memory // MIB}mb", "CACHE_EVICTION_POLICY": policy}
    with contenders.ours(**env) as server:
        before = _settled_rss(server)
        for start, stop in pairwise(bounds):
            keys = range(start, stop)
            report = loader.http_put_range(server.port, keys, value_size, TTL_S)
            run.rejected += report.failed
            stats = ours_stats(server.port) or {}
            sample = FillSample(
                keys.stop * value_size,
                tree_rss_bytes(server.pid) - before,
                stats.get("bytes"),
                stats.get("items"),
            )
            run.samples.append(sample)
            progress(
                f"  fill {max_memory // MIB} MB {policy}: wrote {sample.written_bytes / MIB:,.0f}"
                f" MB, RSS +{sample.rss_growth / MIB:,.1f} MB"
            )
    return run


@dataclass
class MemoryResults:
    """Everything the memory bench measured."""

    rows: list[MemoryRow] = field(default_factory=list)
    fills: list[FillRun] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """Serializable form."""
        return {
            "rows": [r.to_json() for r in self.rows],
            "fills": [f.to_json() for f in self.fills],
        }


def run(
    loads: list[tuple[int, int]],
    fills: list[FillSpec],
    progress: Progress,
    into: MemoryResults | None = None,
) -> MemoryResults:
    """Measure every (count, size) load on each server, then the capped fills.

    Results are appended to ``into`` as they come, so a crash keeps them.
    """
    results = into if into is not None else MemoryResults()
    for count, size in loads:
        measurers: dict[str, Callable[[], MemoryRow]] = {
            "ours": partial(measure_ours, count, size),
            "redis": partial(measure_redis, count, size),
            "memcached": partial(measure_memcached, count, size),
        }
        for name, measure in measurers.items():
            row = measure()
            results.rows.append(row)
            progress(
                f"  memory {name:9} {count:>9,} x {size:>6} B: "
                f"RSS +{row.growth / MIB:,.1f} MB = {row.per_object:,.0f} B/object "
                f"(loaded in {row.load_seconds:.1f} s)"
            )
    for spec in fills:
        results.fills.append(measure_fill(spec, progress))
    return results

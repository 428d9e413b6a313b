"""Scaling: GET/s as the cache grows, and PUT/s when every write evicts.

* GET scaling: per set, a fresh server per size in ``levels``, all loaded
  first, then measured in turn, in rounds; wrk GETs uniformly random stored
  keys (100 B, c64).
* GET by policy: the same GET hits (10 k keys) on a fresh server per policy,
  the policies interleaved per repetition: what each policy's read hook costs
  over HTTP (issue 5 asks the recommended one for >= 0.9x LRU's GET/s).
* Evicting PUTs: ``CACHE_NUMBER_OF_SLOTS`` caps the cache, it is prefilled
  to the cap, then wrk PUTs never-seen keys, so each write evicts one entry.
  The same writes on an uncapped cache give the "with room" reference. The
  configurations are interleaved per repetition, each on a fresh server.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import contenders
import loader
from loadgen import LoadResult, run_wrk
from procs import Server

VALUE_BYTES = 100
CONNECTIONS = 64
TTL_S = contenders.BENCH_TTL_S
HIT_PREFIX = "/object/k:"
EVICT_SLOTS = 10_000
SEQ_FIRST_KEY = EVICT_SLOTS  # the prefill uses keys 0..EVICT_SLOTS-1
SEQ_KEYS_PER_REP = 1_000_000  # each repetition writes into its own 1 M key range
ROOM = "room"
WARMUP_S = 1  # unrecorded GET run before each measurement

Progress = Callable[[str], None]


@dataclass
class Level:
    """Repeated measurements of one configuration."""

    name: str
    samples: list[LoadResult] = field(default_factory=list)

    @property
    def rps(self) -> float:
        """Median requests per second."""
        return statistics.median(s.rps for s in self.samples)

    @property
    def p99_ms(self) -> float | None:
        """Median p99 latency."""
        values = [s.p99_ms for s in self.samples if s.p99_ms is not None]
        return statistics.median(values) if values else None

    @property
    def unexpected(self) -> int:
        """Socket errors plus non-2xx answers."""
        return sum(s.errors + s.non_2xx for s in self.samples)

    def to_json(self) -> dict[str, object]:
        """Serializable form."""
        return {
            "name": self.name,
            "rps_median": self.rps,
            "rps_min": min(s.rps for s in self.samples),
            "rps_max": max(s.rps for s in self.samples),
            "p99_ms_median": self.p99_ms,
            "unexpected_responses": self.unexpected,
            "samples": [asdict(s) for s in self.samples],
        }


def get_scaling(
    levels: list[int], sets: int, rounds: int, duration_s: int, progress: Progress
) -> list[Level]:
    """GET hits over all stored keys at each cache size in ``levels``, interleaved.

    ``sets`` times, a fresh server per level is started and loaded with keys
    0..level-1; then each level is measured in turn, ``rounds`` times (after a
    short warm-up, as a switch of server leaves the CPU caches cold).
    Interleaving lands a noisy stretch of the machine on all levels alike; a
    fresh set of servers keeps one process's luck (its hash seed and memory
    placement, worth +-4 % between otherwise equal servers on these VMs) from
    deciding every sample of its level.
    """
    results = {level: Level(str(level)) for level in levels}
    for _ in range(sets):
        with contextlib.ExitStack() as stack:
            servers: dict[int, Server] = {}
            for level in levels:
                server = stack.enter_context(contenders.ours())
                report = loader.http_put_range(server.port, range(level), VALUE_BYTES, TTL_S)
                if report.failed:
                    raise RuntimeError(f"loading failed: {report.statuses}")
                servers[level] = server
            for _ in range(rounds):
                for level, server in servers.items():
                    get_args = [HIT_PREFIX, str(level)]
                    run_wrk(server.port, "get.lua", get_args, CONNECTIONS, WARMUP_S)
                    sample = run_wrk(server.port, "get.lua", get_args, CONNECTIONS, duration_s)
                    results[level].samples.append(sample)
                    progress(f"  GET with {level:>9,} objects: {sample.rps:>10,.0f} req/s")
    return list(results.values())


POLICY_GET_KEYS = 10_000


def gets_by_policy(
    policies: list[str], reps: int, duration_s: int, progress: Progress
) -> list[Level]:
    """GET hits over ``POLICY_GET_KEYS`` stored keys, per ``EVICTION_POLICY``, interleaved."""
    results = {policy: Level(policy) for policy in policies}
    get_args = [HIT_PREFIX, str(POLICY_GET_KEYS)]
    for _ in range(reps):
        for policy in policies:
            with contenders.ours(CACHE_EVICTION_POLICY=policy) as server:
                report = loader.http_put_range(
                    server.port, range(POLICY_GET_KEYS), VALUE_BYTES, TTL_S
                )
                if report.failed:
                    raise RuntimeError(f"loading failed: {report.statuses}")
                run_wrk(server.port, "get.lua", get_args, CONNECTIONS, WARMUP_S)
                sample = run_wrk(server.port, "get.lua", get_args, CONNECTIONS, duration_s)
            results[policy].samples.append(sample)
            progress(f"  GET hit, {policy:18}: {sample.rps:>10,.0f} req/s")
    return list(results.values())


def evict_configs(policies: list[str]) -> dict[str, dict[str, str]]:
    """Server env per configuration: a cache with room, then one per policy, full."""
    configs = {ROOM: {"CACHE_NUMBER_OF_SLOTS": "0", "CACHE_EVICTION_POLICY": "LRU"}}
    for policy in policies:
        configs[policy] = {
            "CACHE_NUMBER_OF_SLOTS": str(EVICT_SLOTS),
            "CACHE_EVICTION_POLICY": policy,
        }
    return configs


def evicting_puts(
    policies: list[str], reps: int, duration_s: int, progress: Progress
) -> list[Level]:
    """PUT/s of new keys into a full cache per policy, next to a cache with room."""
    configs = evict_configs(policies)
    results = {name: Level(name) for name in configs}
    for rep in range(reps):
        for name, env in configs.items():
            with contenders.ours(**env) as server:
                report = loader.http_put_range(server.port, range(EVICT_SLOTS), VALUE_BYTES, TTL_S)
                if report.failed:
                    raise RuntimeError(f"prefill failed: {report.statuses}")
                first = SEQ_FIRST_KEY + rep * SEQ_KEYS_PER_REP
                sample = run_wrk(
                    server.port, "put_seq.lua",
                    [HIT_PREFIX, str(first), str(VALUE_BYTES), str(TTL_S)],
                    CONNECTIONS, duration_s,
                )  # fmt: skip
            results[name].samples.append(sample)
            progress(f"  PUT new keys, {name:12}: {sample.rps:>10,.0f} req/s")
    return list(results.values())

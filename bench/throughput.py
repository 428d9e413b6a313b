"""Throughput matrix: ours vs Flask vs nginx vs redis, interleaved per round.

Each round walks the value sizes; for each size it starts the contenders one
after the other (ours, flask, nginx, redis), preloads their keys, runs every
(workload, connections) cell planned for that contender and stops it. The
summary of a cell is the median of its rounds with min and max.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field

import contenders
import loader
from loadgen import LoadResult, run_redis_benchmark, run_wrk
from procs import Server

KIB = 1024
MIB = 1024 * KIB
SMALL, MEDIUM, LARGE = 100, 10 * KIB, MIB
MAX_KEYS = 10_000
KEY_BUDGET_BYTES = 256 * MIB  # caps the key count for big values (1 MiB -> 256)
MIX_GET_PERCENT = 90
TTL_S = contenders.BENCH_TTL_S
HIT_PREFIX = "/object/k:"
MISS_PREFIX = "/object/miss:"
CONTENDER_ORDER = ("ours", "flask", "nginx", "redis", "minimal")
GET_HIT, GET_MISS, PUT, MIX = "get_hit", "get_miss", "put", "mix"
WORKLOAD_LABELS = {
    GET_HIT: "GET hit",
    GET_MISS: "GET miss",
    PUT: "PUT",
    MIX: f"{MIX_GET_PERCENT}/{100 - MIX_GET_PERCENT} GET/PUT",
}
WARMUP_S = 1  # unrecorded GET run after each start: first requests are slower
WARMUP_CONNECTIONS = 64
REDIS_TESTS = {GET_HIT: "GET", PUT: "SET"}
# First guess of redis-benchmark's rate per value size (requests/s); later
# rounds use the rate measured before, so each test runs about `duration`.
REDIS_RATE_GUESS = {SMALL: 60_000, MEDIUM: 30_000, LARGE: 1_000}
REDIS_MIN_REQUESTS = 1_000
REDIS_TIMEOUT_FACTOR = 10.0
REDIS_TIMEOUT_MIN_S = 30.0


def key_count(size: int) -> int:
    """How many distinct keys a workload with ``size``-byte values uses."""
    return max(1, min(MAX_KEYS, KEY_BUDGET_BYTES // size))


@dataclass(frozen=True)
class Cell:
    """One measured configuration."""

    contender: str
    workload: str
    size: int
    connections: int


@dataclass
class Plan:
    """What to run: per value size, per contender, the (workload, conns) cells."""

    rounds: int
    duration_s: int
    cells: dict[int, dict[str, list[tuple[str, int]]]]

    def count(self) -> int:
        """Number of measurements per round (a redis run measures two cells)."""
        return sum(len(cells) for by_c in self.cells.values() for cells in by_c.values())


def full_plan(rounds: int, duration_s: int) -> Plan:
    """Full matrix: 100 B x {8,64,512} conns x all workloads; 10 KB/1 MB at c64."""
    conns_sweep = (8, 64, 512)
    cells: dict[int, dict[str, list[tuple[str, int]]]] = {}
    small_all = [(w, c) for w in (GET_HIT, GET_MISS, PUT, MIX) for c in conns_sweep]
    cells[SMALL] = {
        "ours": small_all,
        "flask": [(w, 64) for w in (GET_HIT, GET_MISS, PUT, MIX)],
        "nginx": [(w, c) for w in (GET_HIT, GET_MISS) for c in conns_sweep],
        "redis": [(w, c) for c in conns_sweep for w in (GET_HIT, PUT)],
        "minimal": [(GET_HIT, 64)],
    }
    for size in (MEDIUM, LARGE):
        cells[size] = {
            "ours": [(GET_HIT, 64), (PUT, 64), (MIX, 64)],
            "flask": [(GET_HIT, 64), (PUT, 64)],
            "nginx": [(GET_HIT, 64)],
            "redis": [(GET_HIT, 64), (PUT, 64)],
        }
    return Plan(rounds, duration_s, cells)


def quick_plan(rounds: int, duration_s: int) -> Plan:
    """Smoke matrix: 100 B, c64, GET hit + PUT."""
    both = [(GET_HIT, 64), (PUT, 64)]
    cells = {
        SMALL: {
            "ours": both,
            "flask": both,
            "nginx": [(GET_HIT, 64)],
            "redis": both,
            "minimal": [(GET_HIT, 64)],
        }
    }
    return Plan(rounds, duration_s, cells)


@dataclass
class Summary:
    """Median/min/max of a cell over its rounds."""

    cell: Cell
    samples: list[LoadResult] = field(default_factory=list)

    @property
    def rps(self) -> float:
        """Median requests per second."""
        return statistics.median(s.rps for s in self.samples)

    @property
    def rps_min(self) -> float:
        """Slowest round."""
        return min(s.rps for s in self.samples)

    @property
    def rps_max(self) -> float:
        """Fastest round."""
        return max(s.rps for s in self.samples)

    @property
    def p99_ms(self) -> float | None:
        """Median of the rounds' p99 latency."""
        values = [s.p99_ms for s in self.samples if s.p99_ms is not None]
        return statistics.median(values) if values else None

    @property
    def mb_s(self) -> float:
        """Median payload throughput in MB/s (value bytes only, 10^6)."""
        return self.rps * self.cell.size / 1e6

    @property
    def unexpected(self) -> int:
        """Socket errors plus non-2xx answers where 2xx was expected."""
        bad_status = 0 if self.cell.workload == GET_MISS else 1
        return sum(s.errors + bad_status * s.non_2xx for s in self.samples)

    def to_json(self) -> dict[str, object]:
        """Serializable form."""
        return {
            **asdict(self.cell),
            "rps_median": self.rps,
            "rps_min": self.rps_min,
            "rps_max": self.rps_max,
            "p99_ms_median": self.p99_ms,
            "payload_mb_s": self.mb_s,
            "unexpected_responses": self.unexpected,
            "samples": [asdict(s) for s in self.samples],
        }


Progress = Callable[[str], None]


def _wrk_cell(server: Server, workload: str, size: int, conns: int, dur: int) -> LoadResult:
    """Run one wrk measurement of ``workload`` against a wrk-driven server."""
    keys = str(key_count(size))
    script_args = {
        GET_HIT: ("get.lua", [HIT_PREFIX, keys]),
        GET_MISS: ("get.lua", [MISS_PREFIX, keys]),
        PUT: ("put.lua", [HIT_PREFIX, keys, str(size), str(TTL_S)]),
        MIX: ("mix.lua", [HIT_PREFIX, keys, str(size), str(TTL_S), str(MIX_GET_PERCENT)]),
    }[workload]
    return run_wrk(server.port, script_args[0], script_args[1], conns, dur)


def _preload_ours(server: Server, size: int) -> None:
    """PUT every key of the size's key set into our server."""
    report = loader.http_put_range(server.port, range(key_count(size)), size, TTL_S)
    if report.failed:
        raise RuntimeError(f"preloading ours failed: {report.statuses}")


def _preload_redis(server: Server, size: int) -> None:
    """SET every key redis-benchmark will ask for (``key:%012d``)."""
    commands = loader.redis_set_commands(
        range(key_count(size)), size, None, loader.REDIS_KEY_FORMAT
    )
    loader.redis_pipe(server.port, commands)


def _server_for(name: str, size: int) -> AbstractContextManager[Server]:
    """Context manager that starts contender ``name`` ready for ``size`` values."""
    keys = key_count(size)
    if name == "ours":
        return contenders.ours()
    if name == "flask":
        return contenders.flask(preload_keys=keys, value_size=size)
    if name == "nginx":
        return contenders.nginx(keys, size)
    if name == "minimal":
        return contenders.minimal(keys, size)
    return contenders.redis()


class Runner:
    """Executes a Plan and accumulates Summaries."""

    def __init__(self, plan: Plan, progress: Progress) -> None:
        self.plan = plan
        self.progress = progress
        self.summaries: dict[Cell, Summary] = {}
        self.redis_rate: dict[tuple[int, int], float] = {}
        self.done = 0

    def _record(self, cell: Cell, result: LoadResult) -> None:
        """Store a result and print a progress line."""
        self.summaries.setdefault(cell, Summary(cell)).samples.append(result)
        self.done += 1
        total = self.plan.count() * self.plan.rounds
        p99 = f"{result.p99_ms:.2f}" if result.p99_ms is not None else "-"
        self.progress(
            f"  [{self.done}/{total}] {cell.contender:5} {cell.workload:8} "
            f"{size_label(cell.size):>6} c{cell.connections:<3} "
            f"{result.rps:>10,.0f} req/s  p99 {p99} ms"
        )

    def _redis_cells(
        self, server: Server, size: int, conns: int
    ) -> Iterator[tuple[Cell, LoadResult]]:
        """One redis-benchmark run (SET then GET) as (cell, result) pairs."""
        rate = self.redis_rate.get((size, conns), REDIS_RATE_GUESS[size])
        requests = max(REDIS_MIN_REQUESTS, int(rate * self.plan.duration_s))
        timeout = max(REDIS_TIMEOUT_MIN_S, REDIS_TIMEOUT_FACTOR * self.plan.duration_s)
        results = run_redis_benchmark(
            server.port,
            "set,get",
            value_bytes=size,
            connections=conns,
            requests=requests,
            keyspace=key_count(size),
            timeout_s=timeout,
        )
        self.redis_rate[(size, conns)] = min(r.rps for r in results.values())
        for workload, test in REDIS_TESTS.items():
            yield Cell("redis", workload, size, conns), results[test]

    def _run_contender(self, name: str, size: int, cells: list[tuple[str, int]]) -> None:
        """Start one contender, preload and warm it, run its cells, stop it."""
        with _server_for(name, size) as server:
            if name == "ours":
                _preload_ours(server, size)
            if name == "redis":
                _preload_redis(server, size)
                for conns in dict.fromkeys(c for _, c in cells):
                    for cell, result in self._redis_cells(server, size, conns):
                        self._record(cell, result)
                return
            _wrk_cell(server, GET_HIT, size, WARMUP_CONNECTIONS, WARMUP_S)
            for workload, conns in cells:
                result = _wrk_cell(server, workload, size, conns, self.plan.duration_s)
                self._record(Cell(name, workload, size, conns), result)

    def run(self) -> list[Summary]:
        """Run every round; return the summaries in plan order."""
        for round_no in range(1, self.plan.rounds + 1):
            started = time.monotonic()
            self.progress(f"throughput round {round_no}/{self.plan.rounds}")
            for size, by_contender in self.plan.cells.items():
                for name in CONTENDER_ORDER:
                    if name in by_contender:
                        self._run_contender(name, size, by_contender[name])
            self.progress(f"  round {round_no} took {time.monotonic() - started:.0f} s")
        return list(self.summaries.values())


def size_label(size: int) -> str:
    """Human label of a value size: 100 B, 10 KB, 1 MB."""
    if size >= MIB:
        return f"{size // MIB} MB"
    if size >= KIB:
        return f"{size // KIB} KB"
    return f"{size} B"

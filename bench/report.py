"""Turn bench results into the Markdown report and the targets verdicts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from memory import FillRun, MemoryResults, MemoryRow
from scaling import ROOM, Level
from throughput import (
    GET_HIT,
    MEDIUM,
    PUT,
    SMALL,
    WORKLOAD_LABELS,
    Cell,
    Summary,
    size_label,
)

MIB = 1024 * 1024
TARGET_CONNS = 64
GOAL_VS_NGINX_GET = 1.0
GOAL_PUT_VS_NGINX_GET = 0.9
GOAL_P99_MS = 2.0
GOAL_VS_FLASK = 45.0
GOAL_MEMORY_VS_REDIS = 1.0
GOAL_FILL_TOLERANCE = 0.10
GOAL_GET_SCALING = 0.9
GOAL_EVICT_VS_ROOM = 0.8
GOAL_POLICY_GET_VS_LRU = 0.9
PEERS = ("flask", "nginx", "redis")


@dataclass
class Target:
    """One project target and how this run measured against it."""

    name: str
    measured: str
    goal: str
    passed: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        """PASS, FAIL or n/a."""
        if self.passed is None:
            return "n/a"
        return "PASS" if self.passed else "FAIL"

    def to_json(self) -> dict[str, object]:
        """Serializable form."""
        return {
            "name": self.name,
            "measured": self.measured,
            "goal": self.goal,
            "verdict": self.verdict,
        }


def _index(summaries: Iterable[Summary]) -> dict[Cell, Summary]:
    """Summaries keyed by their cell."""
    return {s.cell: s for s in summaries}


def _rps(cells: dict[Cell, Summary], contender: str, workload: str) -> float | None:
    """Median req/s of a 100 B c64 cell, or None when not measured."""
    summary = cells.get(Cell(contender, workload, SMALL, TARGET_CONNS))
    return summary.rps if summary else None


def _ratio_target(
    name: str, ours: float | None, peer: float | None, goal: float, peer_label: str
) -> Target:
    """A target met when ``ours / peer >= goal``."""
    if ours is None or peer is None or peer <= 0:
        return Target(name, "not measured", f">= {goal:g}x", None)
    ratio = ours / peer
    measured = f"{ratio:.2f}x ({ours:,.0f} vs {peer_label} {peer:,.0f} req/s)"
    return Target(name, measured, f">= {goal:g}x", ratio >= goal)


def throughput_targets(summaries: list[Summary]) -> list[Target]:
    """Targets that come from the throughput matrix (100 B, c64)."""
    cells = _index(summaries)
    ours_get = _rps(cells, "ours", GET_HIT)
    ours_put = _rps(cells, "ours", PUT)
    nginx_get = _rps(cells, "nginx", GET_HIT)
    targets = [
        _ratio_target(
            "GET hit 100 B c64 vs nginx GET", ours_get, nginx_get,
            GOAL_VS_NGINX_GET, "nginx",
        ),
        _ratio_target(
            "PUT 100 B c64 vs nginx GET", ours_put, nginx_get,
            GOAL_PUT_VS_NGINX_GET, "nginx",
        ),
        _ratio_target(
            "GET hit 100 B c64 vs Flask", ours_get, _rps(cells, "flask", GET_HIT),
            GOAL_VS_FLASK, "flask",
        ),
    ]  # fmt: skip
    p99s = {
        w: cells[c].p99_ms
        for w in (GET_HIT, PUT)
        if (c := Cell("ours", w, SMALL, TARGET_CONNS)) in cells
    }
    known = {w: p for w, p in p99s.items() if p is not None}
    if known:
        worst = max(known.values())
        measured = ", ".join(f"{WORKLOAD_LABELS[w]} {p:.2f} ms" for w, p in known.items())
        targets.append(
            Target("p99 latency 100 B c64", measured, f"<= {GOAL_P99_MS:g} ms",
                   worst <= GOAL_P99_MS)
        )  # fmt: skip
    else:
        targets.append(Target("p99 latency 100 B c64", "not measured", "", None))
    return targets


def memory_targets(memory: MemoryResults) -> list[Target]:
    """Per-object memory vs redis, and RSS under MAX_MEMORY."""
    targets: list[Target] = []
    by_key = {(r.server, r.count, r.size): r for r in memory.rows}
    for row in memory.rows:
        if row.server != "ours":
            continue
        redis = by_key.get(("redis", row.count, row.size))
        if redis is None or redis.per_object <= 0:
            continue
        ratio = row.per_object / redis.per_object
        targets.append(
            Target(
                f"RSS per object vs redis ({row.count:,} x {size_label(row.size)})",
                f"{ratio:.2f}x ({row.per_object:,.0f} vs {redis.per_object:,.0f} B)",
                f"<= {GOAL_MEMORY_VS_REDIS:g}x",
                ratio <= GOAL_MEMORY_VS_REDIS,
            )
        )
    targets.extend(_fill_target(fill) for fill in memory.fills)
    return targets


def _fill_target(fill: FillRun) -> Target:
    """The MAX_MEMORY target: every steady sample within the tolerance."""
    name = f"RSS growth with MAX_MEMORY={fill.max_memory // MIB} MB, {fill.policy} (cache full)"
    goal = f"within +/-{GOAL_FILL_TOLERANCE:.0%} of the limit"
    steady = fill.steady()
    if not steady:
        return Target(name, "not measured", goal, None)
    ratios = [s.rss_growth / fill.max_memory for s in steady]
    low, high = min(ratios), max(ratios)
    passed = low >= 1 - GOAL_FILL_TOLERANCE and high <= 1 + GOAL_FILL_TOLERANCE
    return Target(name, f"{low:.2f}x - {high:.2f}x of the limit", goal, passed)


def scaling_targets(get_levels: list[Level], evict_levels: list[Level]) -> list[Target]:
    """GET/s at the largest cache vs the smallest; evicting PUT/s vs with room."""
    targets: list[Target] = []
    if len(get_levels) >= 2:
        small, large = get_levels[0], get_levels[-1]
        targets.append(
            _ratio_target(
                f"GET/s with {int(large.name):,} objects vs {int(small.name):,}",
                large.rps, small.rps, GOAL_GET_SCALING, f"{int(small.name):,} objects",
            )
        )  # fmt: skip
    room = next((lv for lv in evict_levels if lv.name == ROOM), None)
    for level in evict_levels:
        if level.name == ROOM or room is None:
            continue
        targets.append(
            _ratio_target(
                f"evicting PUT/s ({level.name}) vs with room", level.rps, room.rps,
                GOAL_EVICT_VS_ROOM, "with room",
            )
        )  # fmt: skip
    return targets


def policy_targets(by_policy: list[Level]) -> list[Target]:
    """GET/s of each policy vs LRU's (the first level), from ``scaling.gets_by_policy``."""
    if len(by_policy) < 2:
        return []
    lru = by_policy[0]
    return [
        _ratio_target(
            f"GET/s with {level.name} vs {lru.name}", level.rps, lru.rps,
            GOAL_POLICY_GET_VS_LRU, lru.name,
        )
        for level in by_policy[1:]
    ]  # fmt: skip


def _spread(summary: Summary | None) -> str:
    """``median [min-max]`` of a cell, or the single value."""
    if summary is None:
        return ""
    if len(summary.samples) == 1:
        return f"{summary.rps:,.0f}"
    return f"{summary.rps:,.0f} [{summary.rps_min:,.0f}-{summary.rps_max:,.0f}]"


def _ratio(ours: Summary | None, peer: Summary | None) -> str:
    """``ours / peer`` as ``1.23x``, or empty."""
    if ours is None or peer is None or peer.rps <= 0:
        return ""
    return f"{ours.rps / peer.rps:.2f}x"


def throughput_table(summaries: list[Summary]) -> list[str]:
    """Markdown rows: one per (workload, size, conns) with every contender."""
    cells = _index(summaries)
    keys = list(dict.fromkeys((c.workload, c.size, c.connections) for c in cells))
    keys.sort(key=lambda k: (k[1], list(WORKLOAD_LABELS).index(k[0]), k[2]))
    lines = [
        "| workload | value | conns | ours req/s | ours p99 ms | ours MB/s "
        "| flask | nginx | redis | ours/flask | ours/nginx | ours/redis |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for workload, size, conns in keys:
        row = {name: cells.get(Cell(name, workload, size, conns)) for name in ("ours", *PEERS)}
        ours = row["ours"]
        p99 = f"{ours.p99_ms:.2f}" if ours and ours.p99_ms is not None else ""
        mb_s = f"{ours.mb_s:,.0f}" if ours and size >= MEDIUM else ""
        flag = " (!)" if ours and ours.unexpected else ""
        lines.append(
            f"| {WORKLOAD_LABELS[workload]} | {size_label(size)} | {conns} "
            f"| {_spread(ours)}{flag} | {p99} | {mb_s} | "
            + " | ".join(_spread(row[p]) for p in PEERS)
            + " | "
            + " | ".join(_ratio(ours, row[p]) for p in PEERS)
            + " |"
        )
    return lines


def _opt(value: float | None, fmt: str) -> str:
    """Format an optional number, empty for None."""
    return "" if value is None else format(value, fmt)


def memory_table(rows: list[MemoryRow]) -> list[str]:
    """Markdown rows: RSS growth per object and accounted bytes per server."""
    lines = [
        "| server | objects | value | RSS growth MB | RSS B/object | accounted MB "
        "| RSS/accounted | load s |",
        "|---|--:|---|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        accounted = None if row.accounted_bytes is None else row.accounted_bytes / MIB
        lines.append(
            f"| {row.server} | {row.count:,} | {size_label(row.size)} "
            f"| {row.growth / MIB:,.1f} | {row.per_object:,.0f} "
            f"| {_opt(accounted, ',.1f')} | {_opt(row.rss_over_accounted, '.2f')} "
            f"| {row.load_seconds:.1f} |"
        )
    return lines


def fill_table(fills: list[FillRun]) -> list[str]:
    """Markdown rows: RSS growth samples while writing past MAX_MEMORY."""
    lines = [
        "| MAX_MEMORY | policy | value | written MB | RSS growth MB | growth/limit | accounted MB"
        " | items |",
        "|--:|---|--:|--:|--:|--:|--:|--:|",
    ]
    for fill in fills:
        for sample in fill.samples:
            accounted = None if sample.accounted_bytes is None else sample.accounted_bytes / MIB
            lines.append(
                f"| {fill.max_memory // MIB} MB | {fill.policy} | {size_label(fill.value_size)} "
                f"| {sample.written_bytes / MIB:,.0f} "
                f"| {sample.rss_growth / MIB:,.1f} "
                f"| {sample.rss_growth / fill.max_memory:.2f} "
                f"| {_opt(accounted, ',.1f')} | {_opt(sample.items, ',')} |"
            )
    return lines


def _level_name(level: Level) -> str:
    """A level's name with thousands separators when it is a count."""
    return f"{int(level.name):,}" if level.name.isdigit() else level.name


def levels_table(title: str, levels: list[Level], base: Level | None) -> list[str]:
    """Markdown rows for scaling levels, with the ratio to ``base``."""
    lines = [
        f"| {title} | req/s median [min-max] | p99 ms | vs {_level_name(base) if base else '-'} |",
        "|---|--:|--:|--:|",
    ]
    for level in levels:
        rates = [s.rps for s in level.samples]
        spread = (
            f"{level.rps:,.0f}"
            if len(rates) == 1
            else f"{level.rps:,.0f} [{min(rates):,.0f}-{max(rates):,.0f}]"
        )
        ratio = f"{level.rps / base.rps:.2f}x" if base and base.rps > 0 else ""
        lines.append(f"| {_level_name(level)} | {spread} | {_opt(level.p99_ms, '.2f')} | {ratio} |")
    return lines


def targets_table(targets: list[Target]) -> list[str]:
    """Markdown rows: one per target with its verdict."""
    lines = ["| target | measured | goal | verdict |", "|---|---|---|---|"]
    lines.extend(f"| {t.name} | {t.measured} | {t.goal} | **{t.verdict}** |" for t in targets)
    return lines


# Rates measured earlier on this machine (server on core 0, wrk on core 1,
# c64, 100 B GET hits); a peer far below its anchor means a busy machine.
ANCHOR_RPS = {"flask": 1_062.0, "nginx": 49_369.0, "redis": 78_000.0, "minimal": 53_600.0}
BUSY_MACHINE_FRACTION = 0.8


def anchors_table(summaries: list[Summary]) -> list[str]:
    """Markdown: this run's peers vs their earlier anchors, plus a busy-machine warning."""
    cells = _index(summaries)
    lines = [
        "| peer (GET hit 100 B c64) | this run req/s | anchor req/s | ratio |",
        "|---|--:|--:|--:|",
    ]
    slow: list[str] = []
    for peer, anchor in ANCHOR_RPS.items():
        measured = _rps(cells, peer, GET_HIT)
        if measured is None:
            continue
        ratio = measured / anchor
        if ratio < BUSY_MACHINE_FRACTION:
            slow.append(peer)
        lines.append(f"| {peer} | {measured:,.0f} | {anchor:,.0f} | {ratio:.2f}x |")
    ours = _rps(cells, "ours", GET_HIT)
    minimal = _rps(cells, "minimal", GET_HIT)
    if ours is not None and minimal:
        lines += [
            "",
            f"Headroom: ours does {ours / minimal:.2f}x the GET hits of `minimal` "
            "(bench/baselines/minimal_server.py: httptools + uvloop with no TTL, limits, "
            "counters or timers), the share of the Python features on our hot path.",
        ]
    if slow:
        lines += [
            "",
            f"**Warning:** {', '.join(slow)} ran below {BUSY_MACHINE_FRACTION:.0%} of "
            "their anchors: the machine was probably busy with other work, so every "
            "absolute number here is low. Ratios between contenders measured in the "
            "same round are more robust than absolute rates.",
        ]
    return lines

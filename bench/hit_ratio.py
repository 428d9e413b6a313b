"""Miss ratios of our eviction policies on real traces, beside libCacheSim's, in one run.

One command::

    python bench/hit_ratio.py                  # the six traces in shared/traces/ (~10 min, 2 cores)
    python bench/hit_ratio.py --quick          # CI smoke run: the two smallest traces (~15 s)
    python bench/hit_ratio.py --traces web12,sprite --jobs 2
    python bench/hit_ratio.py my_trace.txt.gz  # any file of one integer key per line

What it does, per trace and per cache size (0.1 %, 1 % and 10 % of the trace's
unique keys, every object of size 1, so the capacity is an entry count):

- replays the trace through our real ``Store`` (``cache_api.store``) with
  ``max_items`` = that size, once per registered policy: ``get(key, now)``, and
  on a miss ``put(key, b"", b"", 0, now)``; keys are the lines' bytes. It
  times the replay (ops/s = requests per second through the store);
- runs libCacheSim (PyPI ``libcachesim``) on the same requests and size: LRU,
  FIFO, SIEVE, S3-FIFO, W-TinyLFU, ARC, LHD and Belady (the offline optimum),
  from an ``oracleGeneral`` binary copy of the trace written to a temporary
  directory. Its S3-FIFO degenerates below ``S3FIFO_MIN_OBJECTS`` objects (its
  10 % small queue is under 2 entries) and its W-TinyLFU below
  ``WTINYLFU_MIN_OBJECTS`` (its 1 % window is empty): those cells are marked
  "deg." and neither run nor compared;
- measures each policy's bookkeeping bytes per entry over REJECT (which holds
  none) with ``tracemalloc``: ``MEMORY_ENTRIES`` entries after as many
  evictions, every entry read once (see ``bytes_per_entry``);
- prints a table per trace (ours beside theirs), the throughput and memory per
  policy, the check of the recommended policy against the targets, and writes
  all of it as JSON (``--json``, default ``bench/hit_ratio/results.json``).

The work is split over ``--jobs`` processes (default: all cores); ops/s are
then measured with the other job running, the same for every policy.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import sys
import tempfile
import time
import tracemalloc
from array import array
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cache_api.policies import REGISTRY, make_policy  # noqa: E402
from cache_api.store import HANDLE, Store  # noqa: E402
from cache_api.types import FOREVER  # noqa: E402

TRACES_DIR_ENV = "CACHE_TRACES_DIR"
DEFAULT_TRACES_DIR = ROOT.parent / "shared" / "traces"
DEFAULT_TRACES = ("web12", "orm-busy", "w106", "sprite", "multi2", "gli")
QUICK_TRACES = ("gli", "multi2")
SIZES = (0.001, 0.01, 0.1)
"""Cache sizes as shares of a trace's unique keys."""
TARGET_SIZES = (0.01, 0.1)
"""The sizes the targets are judged at."""

RECOMMENDED = "W_TINYLFU_ADAPTIVE"
"""Our recommended policy, checked against the targets below."""
TARGET_MEAN_GAP = 0.01
"""Mean miss-ratio gap to the best libCacheSim policy per case, at most."""
TIE = 0.0005
"""Miss ratios this close count as tied (moonshot: best or tied-best)."""
MIN_RELATIVE_THROUGHPUT = 0.7
"""Every policy's replay ops/s, as a share of LRU's, at least."""

REPLAY_REPEATS = 3
"""Timed replays per trace, size and policy; the fastest counts, as ``timeit`` reports. One
replay of a large trace (about a second of CPU) varied by up to 10 % between two full runs."""
REPLAY_REPEATS_QUICK = 1
"""The same, for ``--quick``."""

S3FIFO_MIN_OBJECTS = 20
WTINYLFU_MIN_OBJECTS = 100
MEMORY_ENTRIES = 50_000
"""Entries of the cache whose bookkeeping ``bytes_per_entry`` measures."""
MEMORY_ENTRIES_QUICK = 5_000
"""The same, for ``--quick``."""
MEMORY_TURNOVERS = 3
MEMORY_SAMPLES = 8
MEMORY_KEY = b"key:%09d"
MEMORY_KEY_PREFIX = len(b"key:")
MEMORY_NOW = 1000.0
MEMORY_TTL_SPREAD_SECONDS = 1000

LIBCACHESIM = ("LRU", "FIFO", "Sieve", "S3FIFO", "WTinyLFU", "ARC", "LHD", "Belady")
"""libCacheSim algorithms run, by class name."""
ONLINE = ("LRU", "FIFO", "Sieve", "S3FIFO", "WTinyLFU", "ARC", "LHD")
"""libCacheSim algorithms that 'best' is taken over (Belady is the offline bound)."""
PAIRS = {
    "LRU": "LRU",
    "OLDEST_FIRST": "FIFO",
    "SIEVE": "Sieve",
    "S3_FIFO": "S3FIFO",
    "W_TINYLFU": "WTinyLFU",
}
"""Our policy -> the libCacheSim algorithm it implements."""
EXACT = ("LRU", "OLDEST_FIRST", "SIEVE")
"""Pairs that must agree to ``EXACT_TOLERANCE``; the others to ``CLOSE_TOLERANCE``."""
EXACT_TOLERANCE = 0.0001
CLOSE_TOLERANCE = 0.005
LIBCACHESIM_PARAMETERS = {
    "S3FIFO": "small_size_ratio=0.1, ghost_size_ratio=0.9, move_to_main_threshold=2 (defaults)",
    "WTinyLFU": "main_cache='SLRU' (seg-size 1:4), window_size=0.01 (defaults)",
}

ORACLE_RECORD = [("clock", "<u4"), ("obj_id", "<u8"), ("obj_size", "<u4"), ("next", "<i8")]
"""libCacheSim's oracleGeneral record: time, id, size, next access (-1: never)."""


# ----------------------------------------------------------------------------- traces


@dataclass(frozen=True)
class TraceInfo:
    """A trace file and its counts."""

    name: str
    path: str
    requests: int
    unique: int


def trace_name(path: Path) -> str:
    """``web12`` for ``.../web12.txt.gz``."""
    name = path.name
    for suffix in (".gz", ".txt", ".trace"):
        name = name.removesuffix(suffix)
    return name


def resolve_traces(names: Iterable[str]) -> list[Path]:
    """Paths of trace files: existing paths as given, else names in the traces folder."""
    folder = Path(os.environ.get(TRACES_DIR_ENV, DEFAULT_TRACES_DIR))
    paths = []
    for name in names:
        path = Path(name)
        if not path.exists():
            path = folder / f"{name}.txt.gz"
        if not path.exists():
            raise SystemExit(f"no trace {name!r} (looked in {folder}; set {TRACES_DIR_ENV})")
        paths.append(path)
    return paths


@lru_cache(maxsize=1)
def load_keys(path: str) -> list[bytes]:
    """The requests of a trace as ``bytes`` keys, one object per distinct key."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as lines:
        raw = lines.read().split()
    interned: dict[bytes, bytes] = {}
    return [interned.setdefault(key, key) for key in raw]


def write_oracle_general(keys: Sequence[bytes], out: Path) -> None:
    """Write ``keys`` as a libCacheSim oracleGeneral trace (dense ids, size 1, next access)."""
    import numpy as np  # noqa: PLC0415 (libcachesim's own dependency, needed only here)

    ids: dict[bytes, int] = {}
    dense = np.fromiter(
        (ids.setdefault(key, len(ids) + 1) for key in keys), dtype=np.uint64, count=len(keys)
    )
    n = len(dense)
    order = np.lexsort((np.arange(n), dense))
    following = np.full(n, -1, dtype=np.int64)
    same = dense[order[1:]] == dense[order[:-1]]
    following[order[:-1][same]] = order[1:][same]
    records = np.zeros(n, dtype=ORACLE_RECORD)
    records["clock"] = np.arange(1, n + 1)
    records["obj_id"] = dense
    records["obj_size"] = 1
    records["next"] = following
    records.tofile(out)


def capacity_of(unique: int, share: float) -> int:
    """Entries for a cache of ``share`` of ``unique`` keys (at least 1)."""
    return max(1, int(unique * share))


# ----------------------------------------------------------------------------- replays


def replay_store(
    policy: str, keys: Sequence[bytes], capacity: int, repeats: int = 1
) -> tuple[float, float]:
    """Replay ``keys`` through a real ``Store`` ``repeats`` times; return (miss ratio, CPU seconds).

    CPU time of this process (``time.process_time``), not wall time, so that
    other work on the machine does not skew the comparison between policies;
    the fastest of the repeats. Every repeat must miss alike (a policy is
    deterministic within a process), or this raises.
    """
    results = {_replay_once(policy, keys, capacity) for _ in range(repeats)}
    miss_ratios = {miss_ratio for miss_ratio, _ in results}
    if len(miss_ratios) != 1:
        raise RuntimeError(f"{policy} missed differently in repeated replays: {miss_ratios}")
    return min(results, key=lambda result: result[1])


def _replay_once(policy: str, keys: Sequence[bytes], capacity: int) -> tuple[float, float]:
    store = Store(make_policy(policy, capacity), max_items=capacity)
    get, put = store.get, store.put
    now = 0.0
    gc.collect()
    start = time.process_time()
    for key in keys:
        if get(key, now) is None:
            put(key, b"", b"", 0, now)
    seconds = time.process_time() - start
    return store.misses / len(keys), seconds


def degenerate(algorithm: str, capacity: int) -> bool:
    """Whether libCacheSim's ``algorithm`` degenerates at ``capacity`` objects."""
    if algorithm == "S3FIFO":
        return capacity < S3FIFO_MIN_OBJECTS
    if algorithm == "WTinyLFU":
        return capacity < WTINYLFU_MIN_OBJECTS
    return False


def libcachesim_miss_ratios(
    oracle_path: Path, capacity: int, algorithms: Sequence[str] = LIBCACHESIM
) -> dict[str, float | None]:
    """libCacheSim's miss ratio of each algorithm at ``capacity`` (None: degenerate)."""
    import libcachesim  # noqa: PLC0415 (imported where used: the rest runs without it)

    reader = libcachesim.TraceReader(str(oracle_path), libcachesim.TraceType.ORACLE_GENERAL_TRACE)
    ratios: dict[str, float | None] = {}
    for algorithm in algorithms:
        if degenerate(algorithm, capacity):
            ratios[algorithm] = None
            continue
        cache = getattr(libcachesim, algorithm)(capacity)
        ratios[algorithm] = float(cache.process_trace(reader)[0])
    return ratios


def _ours_task(path: str, policy: str, capacity: int, repeats: int) -> tuple[float, float]:
    return replay_store(policy, load_keys(path), capacity, repeats)


def _theirs_task(oracle: str, capacity: int) -> dict[str, float | None]:
    return libcachesim_miss_ratios(Path(oracle), capacity)


# ----------------------------------------------------------------------------- memory


def bytes_per_entry(policy: str, entries: int = MEMORY_ENTRIES) -> float:
    """Bookkeeping bytes per entry that ``policy`` holds over REJECT's, by ``tracemalloc``.

    The policy is driven as the store drives it, by slot, in a full cache of
    ``entries``: ``MEMORY_TURNOVERS`` x ``entries`` distinct keys are written
    (each write past the first ``entries`` evicts one and takes its slot, as the
    store's table reuses it, so any ghost fills), and each write also reads a
    live key written ``entries // 2`` writes earlier. The traced size is
    averaged over ``MEMORY_SAMPLES`` points of the last turnover, which smooths
    the steps of hash-table resizing. The same churn with no policy (evicting
    the oldest) is the baseline subtracted. VOLATILE_TTL's entries get TTLs
    spread over ``MEMORY_TTL_SPREAD_SECONDS`` distinct seconds, the others none.
    A policy that ``keeps_handles`` is charged the handle's bytes in each entry
    (``store.HANDLE``) on top; the harness keeps its slots and handles in arrays
    allocated before tracing starts.
    """
    if not REGISTRY[policy].evicts:
        return 0.0
    handle_bytes = HANDLE.size if REGISTRY[policy].keeps_handles else 0
    return _traced_per_entry(policy, entries) - _traced_per_entry(None, entries) + handle_bytes


def _traced_per_entry(policy: str | None, entries: int) -> float:
    """Traced bytes per live entry of the churn above; ``None``: no policy, the oldest goes."""
    volatile = policy == "VOLATILE_TTL"
    keeps_handles = policy is not None and REGISTRY[policy].keeps_handles
    total = MEMORY_TURNOVERS * entries
    expiries = [
        MEMORY_NOW + 1 + i % MEMORY_TTL_SPREAD_SECONDS if volatile else FOREVER
        for i in range(total)
    ]
    hashes = [hash(MEMORY_KEY % i) for i in range(total)]
    live = bytearray(total)
    handles = array("q", bytes(8 * total))
    slot_of = array("q", bytes(8 * total))
    key_at = array("q", bytes(8 * entries))
    sample_every = entries // MEMORY_SAMPLES
    samples = []
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    instance = None if policy is None else make_policy(policy, entries)
    for i in range(total):
        slot = i
        if i >= entries:
            slot = slot_of[i - entries] if instance is None else instance.victim()
            live[key_at[slot]] = 0
        key_at[slot], slot_of[i] = i, slot
        if instance is not None:
            handle = instance.on_insert(slot, hashes[i], expiries[i])
            handles[i] = handle if keeps_handles else slot
        live[i] = 1
        earlier = i - entries // 2
        if instance is not None and earlier >= 0 and live[earlier]:
            instance.on_access(handles[earlier])
        if i >= total - entries and (total - 1 - i) % sample_every == 0:
            samples.append(tracemalloc.get_traced_memory()[0] - base)
    tracemalloc.stop()
    return sum(samples) / len(samples) / entries


# ----------------------------------------------------------------------------- the run


def run(
    paths: Sequence[Path],
    policies: Sequence[str],
    jobs: int,
    log: Any,
    *,
    memory_entries: int = MEMORY_ENTRIES,
    repeats: int = REPLAY_REPEATS,
) -> dict[str, Any]:
    """Every replay and simulation; the results as a JSON-ready dict."""
    results: dict[str, Any] = {"traces": {}, "policies": list(policies)}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(max_workers=jobs) as pool:
        infos = []
        for path in paths:
            keys = load_keys(str(path))
            info = TraceInfo(trace_name(path), str(path), len(keys), len(set(keys)))
            oracle = Path(tmp) / f"{info.name}.oracleGeneral.bin"
            write_oracle_general(keys, oracle)
            infos.append((info, oracle))
            print(f"loaded {info.name}: {info.requests:,} requests, {info.unique:,} keys", file=log)
        load_keys.cache_clear()
        futures = {}
        # Biggest first, grouped by trace so that a worker keeps one trace loaded.
        for info, oracle in sorted(infos, key=lambda item: -item[0].requests):
            for share in SIZES:
                capacity = capacity_of(info.unique, share)
                futures[(info.name, share, "libCacheSim")] = pool.submit(
                    _theirs_task, str(oracle), capacity
                )
                for policy in policies:
                    futures[(info.name, share, policy)] = pool.submit(
                        _ours_task, info.path, policy, capacity, repeats
                    )
        for info, _ in infos:
            trace: dict[str, Any] = {
                "path": info.path,
                "requests": info.requests,
                "unique": info.unique,
                "sizes": {},
            }
            for share in SIZES:
                theirs = futures[(info.name, share, "libCacheSim")].result()
                ours = {}
                for policy in policies:
                    miss_ratio, seconds = futures[(info.name, share, policy)].result()
                    ours[policy] = {
                        "miss_ratio": miss_ratio,
                        "seconds": seconds,
                        "ops_per_s": info.requests / seconds,
                    }
                trace["sizes"][str(share)] = {
                    "capacity": capacity_of(info.unique, share),
                    "ours": ours,
                    "libcachesim": theirs,
                }
            results["traces"][info.name] = trace
            print(f"done {info.name} ({time.perf_counter() - started:.0f} s)", file=log)
    results["bytes_per_entry"] = {
        policy: bytes_per_entry(policy, memory_entries) for policy in policies
    }
    results["seconds"] = time.perf_counter() - started
    results["libcachesim_parameters"] = LIBCACHESIM_PARAMETERS
    results["summary"] = summarize(results)
    return results


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Agreement with libCacheSim, throughput, and the recommended policy against the targets."""
    policies: list[str] = results["policies"]
    agreement = []
    cases = []
    totals = {policy: [0.0, 0.0] for policy in policies}
    for name, trace in results["traces"].items():
        for share, cell in trace["sizes"].items():
            ours, theirs = cell["ours"], cell["libcachesim"]
            for policy, seconds in ((p, ours[p]["seconds"]) for p in policies):
                totals[policy][0] += trace["requests"]
                totals[policy][1] += seconds
            for policy, algorithm in PAIRS.items():
                if policy not in ours or theirs.get(algorithm) is None:
                    continue
                diff = ours[policy]["miss_ratio"] - theirs[algorithm]
                tolerance = EXACT_TOLERANCE if policy in EXACT else CLOSE_TOLERANCE
                agreement.append(
                    {
                        "trace": name,
                        "size": share,
                        "policy": policy,
                        "diff": diff,
                        "within": abs(diff) <= tolerance,
                    }
                )
            if float(share) in TARGET_SIZES and RECOMMENDED in ours and "LRU" in ours:
                online = {a: v for a, v in theirs.items() if a in ONLINE and v is not None}
                best_algorithm = min(online, key=online.__getitem__)
                mine = ours[RECOMMENDED]["miss_ratio"]
                cases.append(
                    {
                        "trace": name,
                        "size": share,
                        "miss_ratio": mine,
                        "lru": ours["LRU"]["miss_ratio"],
                        "best": online[best_algorithm],
                        "best_algorithm": best_algorithm,
                        "gap": mine - online[best_algorithm],
                        "no_worse_than_lru": mine <= ours["LRU"]["miss_ratio"],
                        "best_or_tied": mine <= online[best_algorithm] + TIE,
                    }
                )
    throughput = {p: (r / s if s else 0.0) for p, (r, s) in totals.items()}
    lru = throughput.get("LRU", 0.0)
    summary: dict[str, Any] = {
        "agreement": agreement,
        "ops_per_s": throughput,
        "relative_to_lru": {p: (v / lru if lru else None) for p, v in throughput.items()},
        "recommended": RECOMMENDED,
        "cases": cases,
    }
    if cases:
        summary["mean_gap"] = sum(c["gap"] for c in cases) / len(cases)
        summary["targets"] = {
            "no_worse_than_lru": all(c["no_worse_than_lru"] for c in cases),
            "mean_gap_within": summary["mean_gap"] <= TARGET_MEAN_GAP,
            "moonshot_best_or_tied": sum(c["best_or_tied"] for c in cases),
            "cases": len(cases),
            "throughput": all(
                v is not None and v >= MIN_RELATIVE_THROUGHPUT
                for v in summary["relative_to_lru"].values()
            ),
        }
    return summary


# ----------------------------------------------------------------------------- output


def _cell(value: float | None) -> str:
    return "deg." if value is None else f"{value:.4f}"


def report(results: dict[str, Any]) -> str:
    """The run as Markdown tables."""
    policies: list[str] = results["policies"]
    lines = []
    shares = [str(share) for share in SIZES]
    for name, trace in results["traces"].items():
        sizes = trace["sizes"]
        lines.append(
            f"### {name}: {trace['requests']:,} requests, {trace['unique']:,} keys "
            f"(sizes {', '.join(str(sizes[s]['capacity']) for s in shares)} entries)"
        )
        lines.append("")
        header = "| policy | libCacheSim | " + " | ".join(
            f"{float(s) * 100:g} % ours | {float(s) * 100:g} % lcs" for s in shares
        )
        lines.append(header + " |")
        lines.append("|---|---|" + "---:|---:|" * len(shares))
        paired = set()
        for policy in policies:
            algorithm = PAIRS.get(policy)
            row = [policy, algorithm or ""]
            for share in shares:
                cell = sizes[share]
                row.append(f"{cell['ours'][policy]['miss_ratio']:.4f}")
                row.append(_cell(cell["libcachesim"].get(algorithm)) if algorithm else "")
            if algorithm:
                paired.add(algorithm)
            lines.append("| " + " | ".join(row) + " |")
        for algorithm in LIBCACHESIM:
            if algorithm in paired:
                continue
            row = ["", algorithm]
            for share in shares:
                row += ["", _cell(sizes[share]["libcachesim"].get(algorithm))]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    summary = results["summary"]
    lines.append("### Throughput and memory (replay through the store)")
    lines.append("")
    lines.append(
        "| policy | ops/s | x LRU | bytes/entry over REJECT (tracemalloc)"
        " | charged under MAX_MEMORY |"
    )
    lines.append("|---|---:|---:|---:|---:|")
    for policy in policies:
        relative = summary["relative_to_lru"].get(policy)
        lines.append(
            f"| {policy} | {summary['ops_per_s'][policy]:,.0f} | "
            f"{'' if relative is None else f'{relative:.2f}'} | "
            f"{results['bytes_per_entry'][policy]:.0f} | {REGISTRY[policy].per_entry_bytes} |"
        )
    lines.append("")
    off = [a for a in summary["agreement"] if not a["within"]]
    lines.append(
        f"Agreement with libCacheSim: {len(summary['agreement']) - len(off)} of "
        f"{len(summary['agreement'])} comparable cells within tolerance "
        f"({EXACT_TOLERANCE} for {', '.join(EXACT)}; {CLOSE_TOLERANCE} for the others)."
    )
    for a in off:
        lines.append(f"- outside: {a['trace']} {a['size']} {a['policy']} diff {a['diff']:+.4f}")
    lines.append("")
    if summary.get("cases"):
        lines.append(f"### {RECOMMENDED} against the targets (1 % and 10 %)")
        lines.append("")
        lines.append("| trace | size | ours | LRU | best lcs | by | gap | <= LRU | best/tied |")
        lines.append("|---|---|---:|---:|---:|---|---:|---|---|")
        for c in summary["cases"]:
            lines.append(
                f"| {c['trace']} | {float(c['size']) * 100:g} % | {c['miss_ratio']:.4f} | "
                f"{c['lru']:.4f} | {c['best']:.4f} | {c['best_algorithm']} | {c['gap']:+.4f} | "
                f"{'yes' if c['no_worse_than_lru'] else 'NO'} | "
                f"{'yes' if c['best_or_tied'] else ''} |"
            )
        t = summary["targets"]
        lines.append("")
        lines.append(
            f"Mean gap {summary['mean_gap']:+.4f} (target <= {TARGET_MEAN_GAP}: "
            f"{'met' if t['mean_gap_within'] else 'NOT met'}); no worse than LRU in every case: "
            f"{'yes' if t['no_worse_than_lru'] else 'no'}; best or tied (+-{TIE}) in "
            f"{t['moonshot_best_or_tied']} of {t['cases']}; every policy >= "
            f"{MIN_RELATIVE_THROUGHPUT} x LRU ops/s: {'yes' if t['throughput'] else 'no'}."
        )
    lines.append(f"\nRun time {results['seconds']:.0f} s.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run, print the tables and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="trace files (default: shared/traces/)")
    parser.add_argument("--quick", action="store_true", help="smallest traces only (CI smoke)")
    parser.add_argument("--traces", help="comma-separated trace names, e.g. web12,sprite")
    parser.add_argument("--policies", help="comma-separated policies (default: all registered)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "hit_ratio" / "results.json")
    parser.add_argument(
        "--repeats", type=int, help=f"timed replays a cell, fastest kept (default {REPLAY_REPEATS})"
    )
    args = parser.parse_args(argv)
    if args.files:
        names: Sequence[str] = args.files
    elif args.traces:
        names = args.traces.split(",")
    else:
        names = QUICK_TRACES if args.quick else DEFAULT_TRACES
    policies = args.policies.split(",") if args.policies else list(REGISTRY)
    unknown = [p for p in policies if p not in REGISTRY]
    if unknown:
        parser.error(f"unknown policies: {', '.join(unknown)}")
    memory_entries = MEMORY_ENTRIES_QUICK if args.quick else MEMORY_ENTRIES
    repeats = args.repeats or (REPLAY_REPEATS_QUICK if args.quick else REPLAY_REPEATS)
    results = run(
        resolve_traces(names),
        policies,
        max(1, args.jobs),
        sys.stderr,
        memory_entries=memory_entries,
        repeats=repeats,
    )
    print(report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

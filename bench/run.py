#!/usr/bin/env python3
"""cache-api benchmark suite: ``python3 bench/run.py [--quick]``.

Installs what it needs (apt: wrk, nginx, redis, memcached; a venv in
bench/.venv with the project and Flask), re-executes itself inside the venv,
then measures throughput against Flask, nginx and redis, memory per object
against redis and memcached, and scaling with cache size and eviction.
Results go to bench/results/{latest,quick}.{md,json}; a run of some sections only
(``--only``) goes to bench/results/partial.{md,json}, so it never replaces a full run.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import contenders
import memory
import procs
import report
import scaling
import throughput

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_DIR = BENCH_DIR / ".venv"
VENV_PYTHON = VENV_DIR / "bin" / "python"
STAMP_FILE = VENV_DIR / ".bench-installed"
RESULTS_DIR = BENCH_DIR / "results"
IN_VENV_FLAG = "CACHE_API_BENCH_IN_VENV"
APT_TIMEOUT_S = 900
PIP_TIMEOUT_S = 600
VERSION_TIMEOUT_S = 10
BENCH_PIP_PACKAGES = ["flask>=3"]
FALLBACK_SERVER_PACKAGES = ["uvloop", "httptools"]
# command -> Debian package that provides it
SYSTEM_TOOLS = {
    "wrk": "wrk",
    "nginx": "nginx",
    "redis-server": "redis-server",
    "redis-benchmark": "redis-tools",
    "redis-cli": "redis-tools",
    "memcached": "memcached",
    "taskset": "util-linux",
}
KIB = 1024
MIB = 1024 * KIB

# --- mode presets -------------------------------------------------------------
FULL_ROUNDS = 3
QUICK_ROUNDS = 1
WRK_DURATION_S = 2  # wrk takes whole seconds
FULL_MEMORY_LOADS = [(1_000_000, 100), (100_000, 10 * 1024)]
QUICK_MEMORY_LOADS = [(100_000, 100)]
# (MAX_MEMORY, multiple of it written as new keys, value bytes)
FULL_FILLS = [
    (64 * MIB, 3.0, KIB, "LRU"),
    (256 * MIB, 2.0, 4 * KIB, "LRU"),
    (64 * MIB, 3.0, KIB, "W_TINYLFU_ADAPTIVE"),  # the recommended policy (README)
]
QUICK_FILLS = [(64 * MIB, 2.0, KIB, "LRU")]
FULL_GET_LEVELS = [1_000, 100_000, 1_000_000]
QUICK_GET_LEVELS = [1_000, 100_000]
FULL_SCALING_REPS = 5
"""Repetitions of each scaling comparison: single 2 s samples on these VMs spread by +-20 %,
so a median of 3 moved the ratios near their goals by 0.1 between runs (2026-12-04)."""
QUICK_SCALING_REPS = 1
FULL_GET_SCALING_SETS = 3
"""Fresh sets of servers (one per cache size) in the GET scaling comparison, each measured
``FULL_GET_SCALING_ROUNDS`` times: 3 x 2 samples a level. Five sets of one sample each took
585 s in all on 2026-12-07 (loading 1 M objects takes 13 s), too near the 10-minute bound."""
FULL_GET_SCALING_ROUNDS = 2
FULL_EVICT_POLICIES = ["LRU", "OLDEST_FIRST"]
QUICK_EVICT_POLICIES = ["LRU"]
GET_POLICIES = ["LRU", "W_TINYLFU_ADAPTIVE"]
"""LRU, the baseline, and the policy the README recommends."""
SECTIONS = ("throughput", "memory", "scaling")


# --- bootstrap (runs with the system python) ---------------------------------
def log(message: str) -> None:
    """Progress line on stdout, flushed at once."""
    print(message, flush=True)


def ensure_system_tools() -> None:
    """apt-get install the load generators and peer servers that are missing."""
    missing = sorted({pkg for cmd, pkg in SYSTEM_TOOLS.items() if not shutil.which(cmd)})
    if not missing:
        return
    log(f"installing with apt-get: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, timeout=APT_TIMEOUT_S, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", *missing],
        check=True,
        timeout=APT_TIMEOUT_S,
        env=env,
    )


def _install_fingerprint() -> str:
    """Hash of what the venv must contain: the bench's packages and the project as built.

    The build files and every source file count: ``pip install -e .`` compiles
    the request path (``setup.py``) into ``.so`` files that shadow the sources,
    so an edited source is rebuilt before it is measured.
    """
    digest = hashlib.sha256(" ".join(BENCH_PIP_PACKAGES).encode())
    sources = [REPO_ROOT / "pyproject.toml", REPO_ROOT / "setup.py"]
    sources += sorted((REPO_ROOT / "cache_api").rglob("*.py"))
    for path in sources:
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create bench/.venv and install the project + Flask into it (once)."""
    if not VENV_PYTHON.exists():
        log(f"creating venv {VENV_DIR}")
        subprocess.run(
            [sys.executable, "-m", "venv", str(VENV_DIR)], check=True, timeout=PIP_TIMEOUT_S
        )
    fingerprint = _install_fingerprint()
    if STAMP_FILE.exists() and STAMP_FILE.read_text() == fingerprint:
        return
    project = (
        ["-e", str(REPO_ROOT)]
        if (REPO_ROOT / "pyproject.toml").exists()
        else FALLBACK_SERVER_PACKAGES
    )
    log("installing the project and Flask into the bench venv")
    subprocess.run(
        [str(VENV_PYTHON), "-m", "pip", "install", "-q", *project, *BENCH_PIP_PACKAGES],
        check=True,
        timeout=PIP_TIMEOUT_S,
    )
    STAMP_FILE.write_text(fingerprint)


def reexec_in_venv() -> None:
    """Replace this process with the same command under the venv's python."""
    os.environ[IN_VENV_FLAG] = "1"
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


# --- the bench itself (runs inside the venv) ----------------------------------
def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="smoke run, about a minute")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument("--duration", type=int, help="whole seconds per wrk run")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}"
    )
    parser.add_argument(
        "--ours-cmd", help="command that starts the server under test (default: wsgi.py)"
    )
    parser.add_argument("--no-install", action="store_true", help="skip apt/venv setup")
    return parser.parse_args(argv)


def _version(cmd: list[str]) -> str:
    """The first version number a tool prints, or '?'."""
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=VERSION_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (done.stdout + done.stderr).decode(errors="replace")
    match = re.search(r"\d+\.\d+(?:\.\d+)?", text)
    return match.group(0) if match else "?"


def loadavg() -> str:
    """The 1/5/15-minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _git_commit() -> str:
    """Short commit of the repo, or 'uncommitted' (read-only git use)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            timeout=VERSION_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    commit = done.stdout.decode().strip()
    return commit if done.returncode == 0 and commit else "uncommitted"


def _hot_path_build() -> str:
    """How our server's request path runs here: compiled by mypyc, or pure Python."""
    spec = importlib.util.find_spec("cache_api.http")
    origin = spec.origin if spec is not None and spec.origin else ""
    compiled = origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    return "compiled by mypyc" if compiled else "pure Python"


def machine_info(loadavg_start: str) -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / MIB, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "hot_path": _hot_path_build(),
        "wrk": _version(["wrk", "--version"]),
        "nginx": _version(["nginx", "-v"]),
        "redis": _version(["redis-server", "--version"]),
        "memcached": _version(["memcached", "-V"]),
        "git_commit": _git_commit(),
        "loadavg_start": loadavg_start,
    }


class Bench:
    """Runs the selected sections and keeps their results."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick: bool = args.quick
        self.rounds: int = args.rounds or (QUICK_ROUNDS if self.quick else FULL_ROUNDS)
        self.duration: int = args.duration or WRK_DURATION_S
        self.sections = [s.strip() for s in args.only.split(",") if s.strip()]
        self.results: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.timings: dict[str, float] = {}

    def section(self, name: str, body: Callable[[], None]) -> None:
        """Run one section; a crash is recorded and the next section still runs."""
        if name not in self.sections:
            return
        log(f"== {name}")
        started = time.monotonic()
        try:
            body()
        except Exception as exc:
            self.errors[name] = f"{type(exc).__name__}: {exc}".strip()
            log(f"!! {name} failed:\n{traceback.format_exc()}")
        self.timings[name] = time.monotonic() - started
        log(f"== {name} done in {self.timings[name]:.0f} s")

    def throughput(self) -> None:
        """The interleaved ours/flask/nginx/redis matrix."""
        make_plan = throughput.quick_plan if self.quick else throughput.full_plan
        plan = make_plan(self.rounds, self.duration)
        log(f"{plan.count()} measurements x {plan.rounds} round(s) x ~{self.duration:g} s")
        runner = throughput.Runner(plan, log)
        try:
            runner.run()
        finally:  # keep what was measured even when a later cell failed
            summaries = list(runner.summaries.values())
            self.results["throughput"] = summaries
            self.results.setdefault("targets", []).extend(report.throughput_targets(summaries))

    def memory(self) -> None:
        """RSS per object vs redis/memcached, and RSS under MAX_MEMORY."""
        loads = QUICK_MEMORY_LOADS if self.quick else FULL_MEMORY_LOADS
        fills = QUICK_FILLS if self.quick else FULL_FILLS
        results = memory.MemoryResults()
        self.results["memory"] = results
        try:
            memory.run(loads, fills, log, into=results)
        finally:
            self.results.setdefault("targets", []).extend(report.memory_targets(results))

    def get_levels(self) -> list[int]:
        """Cache sizes (objects) of the GET scaling bench."""
        return QUICK_GET_LEVELS if self.quick else FULL_GET_LEVELS

    def scaling_reps(self) -> int:
        """Repetitions per scaling measurement."""
        return QUICK_SCALING_REPS if self.quick else FULL_SCALING_REPS

    def scaling(self) -> None:
        """GET/s vs number of stored objects; PUT/s when every write evicts."""
        reps = self.scaling_reps()
        policies = QUICK_EVICT_POLICIES if self.quick else FULL_EVICT_POLICIES
        sets, rounds = (1, 1) if self.quick else (FULL_GET_SCALING_SETS, FULL_GET_SCALING_ROUNDS)
        get_levels = scaling.get_scaling(self.get_levels(), sets, rounds, self.duration, log)
        self.results["get_scaling"] = get_levels
        by_policy = scaling.gets_by_policy(GET_POLICIES, reps, self.duration, log)
        self.results["get_by_policy"] = by_policy
        evict = scaling.evicting_puts(policies, reps, self.duration, log)
        self.results["evicting_puts"] = evict
        targets = report.scaling_targets(get_levels, evict) + report.policy_targets(by_policy)
        self.results.setdefault("targets", []).extend(targets)

    def run(self) -> None:
        """Every selected section, in order."""
        self.section("throughput", self.throughput)
        self.section("memory", self.memory)
        self.section("scaling", self.scaling)


def mode_line(bench: Bench) -> str:
    """One sentence on how the numbers were taken."""
    if bench.quick:
        return (
            f"**QUICK smoke run**: {bench.rounds} round(s), 100 B values, 64 connections, "
            "GET hit + PUT only, small memory/scaling loads. Single samples, not a "
            "measurement: use the full run for numbers."
        )
    return (
        f"Full run: {bench.rounds} rounds with the contenders interleaved in each; "
        "req/s cells show the median [min-max] over the rounds."
    )


def markdown(bench: Bench, machine: dict[str, Any], total_s: float) -> str:
    """The whole report as Markdown."""
    res = bench.results
    lines = [
        "# cache-api benchmark",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {machine['git_commit']}, "
        f"took {total_s:.0f} s. {mode_line(bench)}",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gib']} GiB, Linux {machine['kernel']}, Python "
        f"{machine['python']} (our request path {machine['hot_path']}); "
        f"wrk {machine['wrk']}, nginx {machine['nginx']}, "
        f"redis {machine['redis']}, memcached {machine['memcached']}. "
        "Servers pinned to core 0, "
        f"load generator (wrk -t1, redis-benchmark, loaders) to core 1, "
        f"{bench.duration:g} s per wrk run, loopback only. Load average before the "
        f"run: {machine['loadavg_start']} (anything well above 0 means other work "
        "competed for the 2 cores).",
        "",
        "## Targets (informational)",
        "",
        *report.targets_table(res.get("targets", [])),
    ]
    if "throughput" in res:
        lines += [
            "",
            "## Throughput (requests/s)",
            "",
            "Keys: 10,000 per size (256 for 1 MB values); random key per request. "
            "MB/s = value bytes x req/s. `(!)` marks cells with socket errors or "
            "unexpected non-2xx answers (see the JSON).",
            "",
            *report.throughput_table(res["throughput"]),
            "",
            "### Sanity: peers vs anchors measured earlier on this machine",
            "",
            *report.anchors_table(res["throughput"]),
        ]
    if "memory" in res:
        mem = res["memory"]
        lines += ["", "## Memory per object", "", *report.memory_table(mem.rows)]
        if mem.fills:
            lines += [
                "",
                "## Memory under CACHE_MAX_MEMORY (new keys, evicting)",
                "",
                *report.fill_table(mem.fills),
            ]
    if "get_scaling" in res:
        levels = res["get_scaling"]
        lines += [
            "",
            "## Scaling",
            "",
            *report.levels_table("GET hit, stored objects", levels, levels[0]),
        ]
    if "get_by_policy" in res:
        by_policy = res["get_by_policy"]
        lines += [
            "",
            *report.levels_table("GET hit, policy", by_policy, by_policy[0]),
        ]
    if "evicting_puts" in res:
        evict = res["evicting_puts"]
        lines += [
            "",
            *report.levels_table("PUT new keys, cache", evict, evict[0]),
        ]
    if bench.errors:
        lines += ["", "## Errors", ""]
        lines += [
            f"- {name}: {error.splitlines()[0]} (details in the JSON)"
            for name, error in bench.errors.items()
        ]
    return "\n".join(lines) + "\n"


def to_json(bench: Bench, machine: dict[str, Any], total_s: float) -> dict[str, Any]:
    """The whole run as JSON-serializable data."""
    res = bench.results
    return {
        "mode": "quick" if bench.quick else "full",
        "rounds": bench.rounds,
        "wrk_duration_s": bench.duration,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "seconds": {"total": total_s, **bench.timings},
        "targets": [t.to_json() for t in res.get("targets", [])],
        "throughput": [s.to_json() for s in res.get("throughput", [])],
        "memory": res["memory"].to_json() if "memory" in res else None,
        "get_scaling": [lv.to_json() for lv in res.get("get_scaling", [])],
        "get_by_policy": [lv.to_json() for lv in res.get("get_by_policy", [])],
        "evicting_puts": [lv.to_json() for lv in res.get("evicting_puts", [])],
        "errors": bench.errors,
    }


def main_in_venv(argv: list[str]) -> int:
    """Run the bench (we are inside the venv now)."""
    args = parse_args(argv)
    if args.ours_cmd:
        contenders.COMMANDS.ours = args.ours_cmd.split()
    elif not (REPO_ROOT / "wsgi.py").exists():
        log(f"no {REPO_ROOT / 'wsgi.py'}: nothing to benchmark (or pass --ours-cmd)")
        return 2
    procs.install_cleanup()
    procs.raise_open_files_limit()
    procs.pin_self_to_loadgen_core()
    if not procs.pinning_enabled():
        log("warning: fewer than 2 cores, running without CPU pinning")
    loadavg_start = loadavg()  # before our own load starts
    started = time.monotonic()
    bench = Bench(args)
    try:
        bench.run()
    finally:
        procs.stop_all()
    total = time.monotonic() - started
    machine = machine_info(loadavg_start)
    partial = set(bench.sections) != set(SECTIONS)
    name = "quick" if bench.quick else "partial" if partial else "latest"
    RESULTS_DIR.mkdir(exist_ok=True)
    text = markdown(bench, machine, total)
    (RESULTS_DIR / f"{name}.md").write_text(text)
    (RESULTS_DIR / f"{name}.json").write_text(
        json.dumps(to_json(bench, machine, total), indent=1) + "\n"
    )
    log("\n" + text)
    log(f"wrote {RESULTS_DIR / name}.md and .json in {total:.0f} s")
    return 1 if bench.errors else 0


def main() -> int:
    """Bootstrap (apt, venv) unless already inside the venv, then run."""
    args = sys.argv[1:]
    if os.environ.get(IN_VENV_FLAG) != "1":
        if "--no-install" not in args:
            ensure_system_tools()
            ensure_venv()
        if VENV_PYTHON.exists():
            reexec_in_venv()
    try:
        return main_in_venv(args)
    except KeyboardInterrupt:
        log("interrupted: servers stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())

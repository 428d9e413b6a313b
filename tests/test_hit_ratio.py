"""Our policies against libCacheSim on a real trace, computed in the same run.

On ``web12`` with a cache of 1 % of its unique keys (137 entries), replayed
through the real ``Store``: LRU, OLDEST_FIRST (FIFO) and SIEVE must match
libCacheSim's miss ratio to 0.0001; S3_FIFO and W_TINYLFU to 0.005, against
libCacheSim's ``S3FIFO`` and ``WTinyLFU`` with their default parameters
(small 10 %, ghost 90 %, move-to-main threshold 2; SLRU main, 1 % window).

W_TINYLFU's counting filter hashes with Python's salted ``hash`` (libCacheSim
uses a fixed XXH64), so its miss ratio depends on the process's hash seed:
over seeds 0-19 it spans 0.6432-0.6489 against libCacheSim's 0.6474, and one
CI run with a random seed landed 0.0051 away. It is compared as the mean over
``HASH_SEEDS`` fixed seeds, each replayed in its own process.

Needs ``libcachesim`` (the test extras) and the traces folder
(``shared/traces`` beside the repository, or ``CACHE_TRACES_DIR``).
"""

from __future__ import annotations

import gzip
import io
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from bench import hit_ratio

SHARE = 0.01
CASES = [
    ("LRU", "LRU", hit_ratio.EXACT_TOLERANCE),
    ("OLDEST_FIRST", "FIFO", hit_ratio.EXACT_TOLERANCE),
    ("SIEVE", "Sieve", hit_ratio.EXACT_TOLERANCE),
    ("S3_FIFO", "S3FIFO", hit_ratio.CLOSE_TOLERANCE),
]
HASH_SEEDS = range(8)
REPO = Path(__file__).resolve().parent.parent
REPLAY_IN_CHILD = """
import sys
from bench import hit_ratio
keys = hit_ratio.load_keys(sys.argv[1])
print(hit_ratio.replay_store(sys.argv[2], keys, int(sys.argv[3]))[0])
"""


@pytest.fixture(scope="module")
def web12(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], int, Path]:
    """The web12 requests, the cache size for 1 %, and its oracleGeneral copy."""
    path = hit_ratio.resolve_traces(["web12"])[0]
    keys = hit_ratio.load_keys(str(path))
    oracle = tmp_path_factory.mktemp("traces") / "web12.oracleGeneral.bin"
    hit_ratio.write_oracle_general(keys, oracle)
    return keys, hit_ratio.capacity_of(len(set(keys)), SHARE), oracle


@pytest.fixture(scope="module")
def theirs(web12: tuple[list[bytes], int, Path]) -> dict[str, float | None]:
    _, capacity, oracle = web12
    algorithms = [case[1] for case in CASES] + ["WTinyLFU"]
    return hit_ratio.libcachesim_miss_ratios(oracle, capacity, algorithms)


def replay_with_hash_seed(policy: str, capacity: int, seed: int) -> float:
    """``policy``'s miss ratio on web12, replayed in a process whose hash seed is ``seed``."""
    trace = str(hit_ratio.resolve_traces(["web12"])[0])
    env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", REPLAY_IN_CHILD, trace, policy, str(capacity)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return float(done.stdout)


@pytest.mark.parametrize(("policy", "algorithm", "tolerance"), CASES)
def test_matches_libcachesim_on_web12_at_1_percent(
    web12: tuple[list[bytes], int, Path],
    theirs: dict[str, float | None],
    policy: str,
    algorithm: str,
    tolerance: float,
) -> None:
    keys, capacity, _ = web12
    assert capacity == 137
    reference = theirs[algorithm]
    assert reference is not None
    ours, _ = hit_ratio.replay_store(policy, keys, capacity)
    assert abs(ours - reference) <= tolerance, (policy, ours, algorithm, reference)


def test_w_tinylfu_matches_libcachesim_on_web12_at_1_percent_over_hash_seeds(
    web12: tuple[list[bytes], int, Path], theirs: dict[str, float | None]
) -> None:
    _, capacity, _ = web12
    reference = theirs["WTinyLFU"]
    assert reference is not None
    ours = [replay_with_hash_seed("W_TINYLFU", capacity, seed) for seed in HASH_SEEDS]
    assert len(set(ours)) > 1, "the hash seed should reach the child processes"
    mean = statistics.fmean(ours)
    assert abs(mean - reference) <= hit_ratio.CLOSE_TOLERANCE, (mean, reference, ours)


def test_bench_runs_end_to_end_on_a_small_trace(tmp_path: Path) -> None:
    rng = random.Random(5)
    lines = "".join(f"{int(2000 * rng.random() ** 2)}\n" for _ in range(20000))
    trace = tmp_path / "tiny.txt.gz"
    trace.write_bytes(gzip.compress(lines.encode()))
    log = io.StringIO()
    results = hit_ratio.run([trace], ["REJECT", "LRU", "SIEVE"], 1, log, memory_entries=2000)
    sizes = results["traces"]["tiny"]["sizes"]
    assert set(sizes) == {str(share) for share in hit_ratio.SIZES}
    for cell in sizes.values():
        assert cell["libcachesim"]["S3FIFO"] is None or cell["capacity"] >= 20
        assert abs(cell["ours"]["LRU"]["miss_ratio"] - cell["libcachesim"]["LRU"]) <= 1e-4
        assert abs(cell["ours"]["SIEVE"]["miss_ratio"] - cell["libcachesim"]["Sieve"]) <= 1e-4
    assert results["bytes_per_entry"]["REJECT"] == 0
    assert all(a["within"] for a in results["summary"]["agreement"])
    table = hit_ratio.report(results)
    assert "### tiny" in table and "| SIEVE | Sieve |" in table

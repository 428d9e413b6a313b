"""In process: nanoseconds per ``Store.get`` hit with 1 k and with 1 M stored keys, per policy.

What the HTTP scaling row (GET/s at 1 M objects against 1 k) measures, without
the network: 100-byte values with a TTL, read in a random order through fresh
key objects (as a request's key is), so that the difference between the two
sizes is the cache misses of the table and of the policy's read hook.

    python bench/store_scaling.py [POLICY ...]     (default: REJECT LRU SIEVE)
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cache_api.policies import REGISTRY, make_policy  # noqa: E402
from cache_api.store import Store  # noqa: E402

SIZES = (1_000, 1_000_000)
READS = 1_000_000
VALUE = b"x" * 100
CONTENT_TYPE = b"application/octet-stream"
TTL_S = 3600
ROUNDS = 2
DEFAULT_POLICIES = ["REJECT", "LRU", "SIEVE"]


def ns_per_get(policy: str, keys: int) -> float:
    """Mean nanoseconds of one ``get`` hit over ``keys`` stored keys."""
    store = Store(make_policy(policy, 0))
    for i in range(keys):
        store.put(b"k:%d" % i, VALUE, CONTENT_TYPE, TTL_S, 0.0)
    rng = random.Random(1)
    reads = [b"k:%d" % rng.randrange(keys) for _ in range(READS)]
    get = store.get
    start = time.perf_counter()
    for key in reads:
        get(key, 1.0)
    return (time.perf_counter() - start) / READS * 1e9


def main() -> None:
    """Print the time of a get hit over 1 k and 1 M keys, per policy, ``ROUNDS`` times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "policies", nargs="*", metavar="POLICY", help=f"default: {' '.join(DEFAULT_POLICIES)}"
    )
    policies = parser.parse_args().policies or DEFAULT_POLICIES
    unknown = [policy for policy in policies if policy not in REGISTRY]
    if unknown:
        parser.error(f"unknown policies {unknown}; known: {', '.join(REGISTRY)}")
    for policy in policies:
        for _ in range(ROUNDS):
            small, large = (ns_per_get(policy, n) for n in SIZES)
            print(f"{policy:20} {small:6.0f} ns over 1 k keys, {large:6.0f} ns over 1 M")


if __name__ == "__main__":
    main()

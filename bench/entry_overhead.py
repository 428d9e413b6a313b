"""Measure the store's per-entry overhead in bytes, beyond key + value + Content-Type.

Run: ``python bench/entry_overhead.py [--entries N]``. For each policy it
starts a fresh Python process that stores N entries of 100-byte values with a
TTL (so the expiry wheel holds a reference too) and reads the growth of its
resident set (``VmRSS``). The keys and values are built before the first
reading. The store copies each key and value into its packed entry and keeps
no key object, so the growth holds them in full. What remains
per entry, beyond ``len(key) + len(value) + len(content_type)``, is the
overhead: the REJECT figure is
``store.ENTRY_OVERHEAD_BYTES``; each policy's extra is its ``per_entry_bytes``.
RSS rather than ``tracemalloc``, because the limit a user sets is memory the
process holds, allocator rounding included.

``--churn`` measures what a *full* cache costs, which is the state a cache
with ``MAX_MEMORY`` lives in: each policy in a store capped at ``--entries``
entries' worth of bytes takes six times as many new keys (every write past
the first turnover evicts), and the RSS growth per live entry is compared
with what the store accounts for it. Under churn a hash table holds deleted
slots until its next resize, which sizes it from three times the live count,
so its bytes per entry grow past the figure of a table filled once.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from cache_api.policies import REGISTRY

DEFAULT_ENTRIES = 1_000_000

PRELUDE = """
import gc, sys
from cache_api.policies import make_policy
from cache_api.server import release_large_frees
from cache_api.store import Store, entry_size

release_large_frees()
VALUE_BYTES, TTL_SECONDS, NOW, TURNOVERS = 100, 3600, 1000.0, 6
CONTENT_TYPE = b"application/octet-stream"

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
"""
"""What both measuring children start with: the server's allocator setting and an RSS probe."""

CHILD = (
    PRELUDE
    + """
policy, entries = sys.argv[1], int(sys.argv[2])
keys = [b"key:%08d" % i for i in range(entries)]
values = [bytes([i % 256]) * VALUE_BYTES for i in range(entries)]
payload = sum(map(len, keys)) + sum(map(len, values)) + entries * len(CONTENT_TYPE)
gc.collect()
store = Store(make_policy(policy))
before = rss()
for key, value in zip(keys, values):
    store.put(key, value, CONTENT_TYPE, TTL_SECONDS, NOW)
after = rss()
print((after - before - payload) / entries)
"""
)


def measure(policy: str, entries: int) -> float:
    """RSS bytes per entry beyond its payload lengths, for one policy, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, policy, str(entries)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout)


CHURN_CHILD = (
    PRELUDE
    + """
policy, entries = make_policy(sys.argv[1]), int(sys.argv[2])
value = b"v" * VALUE_BYTES
unit = entry_size(b"k:%07d" % 0, value, CONTENT_TYPE, 0)
store = Store(policy)
overhead = store._overhead
store = Store(policy, max_bytes=(unit + overhead) * entries)
gc.collect()
before = rss()
for i in range(entries * TURNOVERS):
    store.put(b"k:%07d" % i, value, CONTENT_TYPE, TTL_SECONDS, NOW + i * 1e-6)
grown = (rss() - before) / len(store)
print(grown, unit + overhead)
"""
)


def measure_churn(policy: str, entries: int) -> tuple[float, int]:
    """(RSS bytes per live entry, accounted bytes per entry) of a full, churning cache."""
    out = subprocess.run(
        [sys.executable, "-c", CHURN_CHILD, policy, str(entries)],
        check=True,
        capture_output=True,
        text=True,
    )
    grown, accounted = out.stdout.split()
    return float(grown), int(accounted)


def main() -> None:
    """Print the overhead per entry for every policy."""
    parser = argparse.ArgumentParser(description="Measure per-entry overhead bytes.")
    parser.add_argument("--entries", type=int, default=DEFAULT_ENTRIES)
    parser.add_argument("--churn", action="store_true", help="a full cache under churn")
    args = parser.parse_args()
    if args.churn:
        for name in REGISTRY:
            if REGISTRY[name].evicts:
                grown, accounted = measure_churn(name, args.entries)
                print(f"{name}: RSS {grown:.0f} B per live entry, accounted {accounted} B")
        return
    base = measure("REJECT", args.entries)
    print(f"REJECT (store.ENTRY_OVERHEAD_BYTES): {base:.1f} bytes per entry")
    for name in REGISTRY:
        if name != "REJECT":
            extra = measure(name, args.entries) - base
            print(f"{name}: +{extra:.1f} bytes per entry (per_entry_bytes)")


if __name__ == "__main__":
    main()

"""Measure the store's per-entry overhead in bytes, beyond key + value + Content-Type.

Run: ``python bench/entry_overhead.py [--entries N]``. For each policy it
starts a fresh Python process that stores N entries of 100-byte values with a
TTL (so the expiry wheel holds a reference too) and reads the growth of its
resident set (``VmRSS``). The keys and values are built before the first
reading. The store keeps the key objects, whose headers (rounded to
pymalloc's 16-byte blocks) are added back as overhead; it copies each value
into its packed entry, which the growth already holds in full. What remains
per entry, beyond ``len(key) + len(value) + len(content_type)``, is the
overhead: the REJECT figure is
``store.ENTRY_OVERHEAD_BYTES``; each policy's extra is its ``per_entry_bytes``.
RSS rather than ``tracemalloc``, because the limit a user sets is memory the
process holds, allocator rounding included.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from cache_api.policies import REGISTRY

DEFAULT_ENTRIES = 1_000_000

CHILD = """
import gc, sys
from cache_api.policies import make_policy
from cache_api.store import Store

VALUE_BYTES, TTL_SECONDS, NOW, BLOCK = 100, 3600, 1000.0, 16
CONTENT_TYPE = b"application/octet-stream"

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

def rounded(size):
    return (size + BLOCK - 1) // BLOCK * BLOCK

policy, entries = sys.argv[1], int(sys.argv[2])
keys = [b"key:%08d" % i for i in range(entries)]
values = [bytes([i % 256]) * VALUE_BYTES for i in range(entries)]
payload = sum(map(len, keys)) + sum(map(len, values)) + entries * len(CONTENT_TYPE)
headers = sum(rounded(k.__sizeof__()) for k in keys)
gc.collect()
store = Store(make_policy(policy))
before = rss()
for key, value in zip(keys, values):
    store.put(key, value, CONTENT_TYPE, TTL_SECONDS, NOW)
after = rss()
print((after - before + headers - payload) / entries)
"""


def measure(policy: str, entries: int) -> float:
    """RSS bytes per entry beyond its payload lengths, for one policy, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, policy, str(entries)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout)


def main() -> None:
    """Print the overhead per entry for every policy."""
    parser = argparse.ArgumentParser(description="Measure per-entry overhead bytes.")
    parser.add_argument("--entries", type=int, default=DEFAULT_ENTRIES)
    args = parser.parse_args()
    base = measure("REJECT", args.entries)
    print(f"REJECT (store.ENTRY_OVERHEAD_BYTES): {base:.1f} bytes per entry")
    for name in REGISTRY:
        if name != "REJECT":
            extra = measure(name, args.entries) - base
            print(f"{name}: +{extra:.1f} bytes per entry (per_entry_bytes)")


if __name__ == "__main__":
    main()

"""LRU: evict the least recently used entry (read or written).

Algorithm: exact LRU over ``uselog.UseLog``, where every write and every read
is a use. Until 2026-12-06 it was an ``OrderedDict`` whose ``move_to_end``
relinked the key on every hit; the log's reasons are in its module. The
decisions are LRU's exactly (the suite checks them against libCacheSim's
``LRU``).

Why: it is what Redis and memcached users expect, and the best online policy
where recency decides (sprite at 10 %, ``bench/hit_ratio.md``); it suffers
under scans and loops, which SIEVE, S3_FIFO and W_TINYLFU address.

Cost: on_insert, on_access, on_delete and victim() O(1) amortized (see
``uselog``); ``per_entry_bytes`` is the measured steady-state figure.
"""

from __future__ import annotations

from typing import ClassVar, Final

from mypy_extensions import i64

from cache_api.policies.uselog import UseLog
from cache_api.types import Key

LRU_BYTES_PER_ENTRY: Final = 157
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k and 400 k
entries of 100 B, six turnovers, 2026-12-06: 398 B per live entry; 411 with 64-bit positions
and records, 438 with the ordered dict's LRU): a slot's key pointer and position, the log, the
handle in the entry and allocator rounding. Filled once, 1 M entries cost 32 B an entry more
than REJECT's (64-bit: 40; the ordered dict: 49)."""


class LRU(UseLog):
    """Least recently used goes first. O(1) amortized per operation."""

    name: ClassVar[str] = "LRU"
    per_entry_bytes: ClassVar[int] = LRU_BYTES_PER_ENTRY

    def on_access(self, key: Key, handle: i64) -> None:
        """A read makes the entry the most recently used."""
        self.use(handle)

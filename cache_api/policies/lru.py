"""LRU: evict the least recently used entry (read or written).

Algorithm: exact LRU over ``uselog.UseLog``, where every write and every read
is a use. Until 2026-12-06 it was an ``OrderedDict`` whose ``move_to_end``
relinked the key on every hit; the log's reasons are in its module. The
decisions are LRU's exactly (the suite checks them against libCacheSim's
``LRU``).

Why: it is what Redis and memcached users expect, and the best online policy
where recency decides (sprite at 10 %, ``bench/hit_ratio.md``); it suffers
under scans and loops, which SIEVE, S3_FIFO and W_TINYLFU address.

Cost: on_insert, on_access, on_delete and victim() O(1) amortized; per entry,
``uselog.USE_LOG_BYTES_PER_ENTRY`` (see ``uselog``).
"""

from __future__ import annotations

from typing import ClassVar

from mypy_extensions import i64

from cache_api.policies.uselog import UseLog


class LRU(UseLog):
    """Least recently used goes first. O(1) amortized per operation."""

    name: ClassVar[str] = "LRU"

    def on_access(self, handle: i64) -> None:
        """A read makes the entry the most recently used."""
        self.use(handle)

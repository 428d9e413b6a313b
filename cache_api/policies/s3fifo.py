"""S3_FIFO: a small FIFO, a main FIFO and a ghost FIFO of recently evicted keys.

Algorithm: a new key enters the small queue (``SMALL_QUEUE_SHARE`` of the
capacity) unless the ghost queue remembers it, in which case it enters the
main queue. Reads only bump a per-entry counter (capped at
``MAX_FREQUENCY``). To evict: while the main queue is over its share, or the
small queue is empty, the main queue's oldest entry is judged: with a
non-zero counter it is reinserted at the newest end with the counter
decremented (a 2-bit CLOCK), else it is evicted. Otherwise the small queue's
oldest entry is judged: read at least ``PROMOTION_READS`` times while there,
it moves to the main queue; else it is evicted and its key goes to the ghost
queue (``GHOST_QUEUE_SHARE`` of the capacity, in keys). Until the first
eviction, once the small queue is full, new keys go straight to the main
queue so that a cold start fills the cache.

Small -> main promotion threshold: an entry moves to the main queue if it was
read ``PROMOTION_READS`` = 2 or more times while in the small queue (its
counter starts at 0 on insert); one read is not enough. That is libCacheSim's
``S3FIFO`` default (``move-to-main-threshold=2``), kept so that the two agree
exactly; the paper's algorithm listing promotes an entry "accessed at least
once" (libCacheSim's ``move-to-main-threshold=1``).

Source: Yang, Zhang, Qiu, Yue, Rashmi, "FIFO queues are all you need for cache
eviction", SOSP 2023; decision for decision it follows libCacheSim's
``S3FIFO.c`` (small-size-ratio 0.10, ghost-size-ratio 0.90,
move-to-main-threshold 2), and the test suite checks it against libCacheSim.

Why: most keys in real traces are read once; the small queue drops them after
a short probation without disturbing the main queue (quick demotion), and the
ghost readmits the ones that come back. Only FIFO queues: a read is one
counter bump, and it resists scans, unlike LRU.

Sizes are in entries (see ``capacity``): the capacity given, else the number
of live entries the first time the store asks for a victim.

Cost: on_insert, on_access, on_delete O(1); victim() O(1) amortized (every
entry skipped was promoted by reads, or is a reinsertion paid by one).
Per entry: one ordered-dict node in the small or main queue, plus the ghost's
keys (``GHOST_QUEUE_SHARE`` of an ordered-dict node per entry, and the ghost
keeps evicted keys' ``bytes`` alive); ``per_entry_bytes`` is the measured sum.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import ClassVar, Final

from cache_api.policies.capacity import CapacityAware, learned_capacity
from cache_api.policies.queues import pop_oldest
from cache_api.types import Key

SMALL_QUEUE_SHARE: Final = 0.10
"""Share of the capacity (in entries) for the small, probationary FIFO."""

GHOST_QUEUE_SHARE: Final = 0.90
"""Keys the ghost FIFO remembers, as a share of the capacity in entries."""

PROMOTION_READS: Final = 2
"""Reads in the small queue that earn a move to the main queue at eviction time."""

MAX_FREQUENCY: Final = 3
"""Saturation of the per-entry read counter (2 bits): at most 3 extra laps in main."""

S3FIFO_BYTES_PER_ENTRY: Final = 398
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k entries
of 100 B, six turnovers, 2026-11-29: 638 B per live entry against 525 accounted with the
tracemalloc figure charged before). Its bookkeeping alone (tracemalloc,
``bench/hit_ratio.py``, ghost full) is about 285 B: queues, ghost nodes and the evicted keys
the ghost keeps alive; the rest is allocator rounding and hash-table room under churn."""


class S3Fifo(CapacityAware):
    """S3-FIFO (SOSP'23): small FIFO + main FIFO with 2-bit CLOCK + ghost. O(1) amortized."""

    name: ClassVar[str] = "S3_FIFO"
    evicts: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = S3FIFO_BYTES_PER_ENTRY

    def __init__(self, capacity: int = 0) -> None:
        super().__init__(capacity)
        self._small: OrderedDict[Key, int] = OrderedDict()
        self._main: OrderedDict[Key, int] = OrderedDict()
        self._ghost: OrderedDict[Key, None] = OrderedDict()
        self._has_evicted = False
        self._capacity = 0
        self._small_max = 0
        self._main_max = 0
        self._ghost_max = 0
        self._resize(capacity)

    def _resize(self, capacity: int) -> None:
        """Split ``capacity`` entries (0 = not known yet: no limits) as libCacheSim does."""
        self._capacity = capacity
        self._small_max = int(capacity * SMALL_QUEUE_SHARE) if capacity else -1
        self._main_max = capacity - self._small_max if capacity else -1
        self._ghost_max = int(capacity * GHOST_QUEUE_SHARE) if capacity else -1

    def on_insert(self, key: Key, expires_at: float) -> None:
        """Enter the main queue if the ghost remembers ``key``, else the small queue."""
        ghost = self._ghost
        if key in ghost:
            del ghost[key]
            self._main[key] = 0
        elif not self._has_evicted and self._small_max >= 0 and len(self._small) >= self._small_max:
            self._main[key] = 0
        else:
            self._small[key] = 0
        # Trimmed here rather than in victim(), so that a key evicted to the
        # ghost during this very write is still recognised (libCacheSim looks
        # the key up in the ghost before it evicts).
        if self._ghost_max >= 0:
            while len(ghost) > self._ghost_max:
                pop_oldest(ghost)

    def on_access(self, key: Key) -> None:
        """Count the read (saturating); nothing moves."""
        small = self._small
        freq = small.get(key)
        if freq is not None:
            if freq < MAX_FREQUENCY:
                small[key] = freq + 1
            return
        main = self._main
        freq = main[key]
        if freq < MAX_FREQUENCY:
            main[key] = freq + 1

    def on_delete(self, key: Key) -> None:
        """Forget ``key`` (it is in the small or the main queue, never in the ghost)."""
        if self._small.pop(key, None) is None:
            del self._main[key]

    def victim(self) -> Key:
        """Evict from main if it is over its share or small is empty, else from small."""
        self._has_evicted = True
        small, main = self._small, self._main
        capacity = learned_capacity(self._hint, len(small) + len(main))
        if capacity != self._capacity:
            self._resize(capacity)
        if small and len(main) <= self._main_max:
            while small:
                key, freq = pop_oldest(small)
                if freq >= PROMOTION_READS:
                    main[key] = 0
                    continue
                self._ghost[key] = None
                return key
        while True:
            key, freq = pop_oldest(main)
            if freq:
                main[key] = freq - 1
                continue
            return key

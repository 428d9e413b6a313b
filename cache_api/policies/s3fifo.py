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

How: the small and main queues are two lists of ``queues.NodeLists``; an
entry's node, which the store keeps in the entry as its handle, holds its read
counter in its ``value``, so a read is one native array write and a
reinsertion a relink. The ghost is a ``queues.HashFifo`` of key hashes (the
store keeps no key object for its policies), in native arrays.
(Until 2026-12-05 the queues were FIFOs of keys too and the counters a key ->
counter dict: the same decisions, measured slower and larger;
``bench/hit_ratio.md``.)

Cost: on_insert, on_access, on_delete O(1); victim() O(1) amortized (every
entry skipped was promoted by reads, or is a reinsertion paid by one).
Per entry: a node (five array cells), its key's hash (8 bytes) and the
handle's 4 bytes in the entry, plus the ghost's hashes (``GHOST_QUEUE_SHARE``
of one to two 8-byte records and 21 to 43 bytes of index per entry);
``per_entry_bytes`` is the measured sum.
"""

from __future__ import annotations

from typing import ClassVar, Final

from librt.vecs import append, vec
from mypy_extensions import i64

from cache_api.policies.capacity import CapacityAware, learned_capacity
from cache_api.policies.queues import HashFifo, NodeLists

SMALL_QUEUE_SHARE: Final = 0.10
"""Share of the capacity (in entries) for the small, probationary FIFO."""

GHOST_QUEUE_SHARE: Final = 0.90
"""Keys the ghost FIFO remembers, as a share of the capacity in entries."""

PROMOTION_READS: Final = 2
"""Reads in the small queue that earn a move to the main queue at eviction time."""

MAX_FREQUENCY: Final = 3
"""Saturation of the per-entry read counter (2 bits): at most 3 extra laps in main."""

S3FIFO_BYTES_PER_ENTRY: Final = 131
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k entries
of 100 B, six turnovers, 2026-12-07, with the store's own table and the ghost in native arrays:
323 B per live entry; 452 B the evening before with the ghost as a dict and a deque of hashes,
531 B on 2026-12-05 with a dict of key objects, 589 with a key -> counter dict and key FIFO
queues (2026-12-04) and 638 with ordered-dict queues and ghost (2026-11-29)): the node, the
hash kept per node, the ghost's records and index (0.9 remembered hashes per entry), allocator
rounding and table room under churn."""


class S3Fifo(CapacityAware):
    """S3-FIFO (SOSP'23): small FIFO + main FIFO with 2-bit CLOCK + ghost. O(1) amortized."""

    name: ClassVar[str] = "S3_FIFO"
    evicts: ClassVar[bool] = True
    keeps_handles: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = S3FIFO_BYTES_PER_ENTRY

    def __init__(self, capacity: int = 0) -> None:
        super().__init__(capacity)
        lists = self._lists = NodeLists()
        """A node per stored entry, its read counter in ``value``; the small and main queues."""
        self._hashes: vec[i64] = vec[i64]()
        """Per node: its entry's key hash, for the ghost."""
        self._small: i64 = lists.new_list(0)
        self._main: i64 = lists.new_list(0)
        self._in_small: i64 = 0
        self._in_main: i64 = 0
        self._ghost = HashFifo()
        """The key hashes of the entries evicted from small, oldest first."""
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

    def on_insert(self, slot: i64, key_hash: i64, expires_at: float) -> i64:
        """Enter the main queue if the ghost remembers the key, else the small queue; the
        handle is the entry's node."""
        ghost = self._ghost
        lists = self._lists
        if ghost.take(key_hash) or (
            not self._has_evicted and self._small_max >= 0 and self._in_small >= self._small_max
        ):
            node = lists.add(self._main, slot, 0)
            self._in_main += 1
        else:
            node = lists.add(self._small, slot, 0)
            self._in_small += 1
        hashes = self._hashes
        while len(hashes) <= node:
            hashes = append(hashes, 0)
        hashes[node] = key_hash
        self._hashes = hashes
        # Trimmed here rather than in victim(), so that a key evicted to the
        # ghost during this very write is still recognised (libCacheSim looks
        # the key up in the ghost before it evicts).
        if self._ghost_max >= 0:
            while len(ghost) > self._ghost_max:
                ghost.pop_oldest()
        return node

    def on_access(self, handle: i64) -> None:
        """Count the read (saturating); nothing moves."""
        counters = self._lists.value
        counter = counters[handle]
        if counter != MAX_FREQUENCY:
            counters[handle] = counter + 1

    def on_delete(self, handle: i64) -> None:
        """Forget the entry (it is in the small or the main queue, never in the ghost)."""
        lists = self._lists
        if lists.tag[handle] == self._main:
            self._in_main -= 1
        else:
            self._in_small -= 1
        lists.remove(handle)

    def victim(self) -> i64:
        """Evict from main if it is over its share or small is empty, else from small."""
        self._has_evicted = True
        lists, small, main = self._lists, self._small, self._main
        counters = lists.value
        capacity = learned_capacity(self._hint, int(self._in_small + self._in_main))
        if capacity != self._capacity:
            self._resize(capacity)
        if self._in_small and self._in_main <= self._main_max:
            while self._in_small:
                node = lists.oldest(small)
                self._in_small -= 1
                if counters[node] >= PROMOTION_READS:
                    counters[node] = 0
                    lists.move_to_newest(main, node)
                    self._in_main += 1
                    continue
                self._ghost.append(self._hashes[node])
                return lists.remove(node)
        while True:
            node = lists.oldest(main)
            counter = counters[node]
            if counter:
                counters[node] = counter - 1
                lists.move_to_newest(main, node)
                continue
            self._in_main -= 1
            return lists.remove(node)

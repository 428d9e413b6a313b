"""SIEVE: one FIFO queue, a hand, and a visited bit per entry.

Algorithm: new entries enter at the newest end of a queue, unvisited; a read
sets the entry's visited bit and moves nothing. To evict, a hand walks from
where it last stopped towards the newest end (wrapping to the oldest): a
visited entry has its bit cleared and is passed over, staying where it is; the
first unvisited entry is evicted and the hand stops just past it. Survivors
keep their place, so new entries sit near the hand and are judged quickly,
while popular ones sift to the old end.

Source: Zhang, Yang, Yue, Vigfusson, Rashmi, "SIEVE is Simpler than LRU: an
Efficient Turn-Key Eviction Algorithm for Web Caches", NSDI 2024. It matches
libCacheSim's ``Sieve`` (``Sieve.c``) decision for decision, which the test
suite checks on a real trace.

Why: LRU's hit ratio or better on web workloads (it filters one-hit wonders
quickly), yet a read only sets a bit: no reordering on the hit path, which in
a lock-free cache is what scales and here is simply cheap.

How, in O(1): the queue is cut at the hand into two ``OrderedDict``\\ s, each
oldest first: ``_ahead`` (from the hand to the newest end: still to be judged
in this sweep) and ``_behind`` (passed over in this sweep, older than the
hand). The hand judges ``_ahead``'s first entry: a survivor moves to the end of
``_behind``, which keeps the global order. New entries append to ``_ahead``.
When ``_ahead`` runs out the hand wraps: the two swap. Visited bits are a set
of keys.

Parameters: none.

Cost: on_insert, on_access, on_delete O(1); victim() O(1) amortized (each step
of the hand clears a bit that a read set, or evicts). Per entry: one ordered-
dict node plus a set slot while visited; ``per_entry_bytes`` is the measured
steady-state figure.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import ClassVar, Final

from cache_api.policies.queues import pop_oldest
from cache_api.types import Key, Policy

SIEVE_BYTES_PER_ENTRY: Final = 251
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k entries
of 100 B, six turnovers, 2026-11-29: 491 B per live entry against 424 accounted with the
tracemalloc figure charged before). Its bookkeeping alone (tracemalloc,
``bench/hit_ratio.py``) is about 184 B: two ordered-dict nodes' worth with the hand's split,
plus the visited set; the rest is allocator rounding and hash-table room under churn."""


class Sieve(Policy):
    """SIEVE (NSDI'24): FIFO order, a hand, a visited bit. O(1) amortized per operation."""

    name: ClassVar[str] = "SIEVE"
    evicts: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = SIEVE_BYTES_PER_ENTRY

    def __init__(self) -> None:
        super().__init__()
        self._ahead: OrderedDict[Key, None] = OrderedDict()
        self._behind: OrderedDict[Key, None] = OrderedDict()
        self._visited: set[Key] = set()

    def on_insert(self, key: Key, expires_at: float) -> None:
        """Enter at the newest end, unvisited."""
        self._ahead[key] = None

    def on_access(self, key: Key) -> None:
        """Set the visited bit; nothing moves."""
        self._visited.add(key)

    def on_delete(self, key: Key) -> None:
        """Forget ``key``; if the hand was on it, the hand moves to the next newer entry."""
        self._visited.discard(key)
        ahead = self._ahead
        if key in ahead:
            del ahead[key]
            if not ahead:
                self._wrap()
        else:
            del self._behind[key]

    def victim(self) -> Key:
        """Move the hand to the first unvisited entry, clearing bits on the way; evict it."""
        ahead, behind, visited = self._ahead, self._behind, self._visited
        while True:
            key = pop_oldest(ahead)[0]
            if key in visited:
                visited.remove(key)
                behind[key] = None
                if not ahead:
                    ahead, behind = self._wrap()
                continue
            if not ahead:
                self._wrap()
            return key

    def _wrap(self) -> tuple[OrderedDict[Key, None], OrderedDict[Key, None]]:
        """The hand passed the newest entry: it starts again from the oldest."""
        self._ahead, self._behind = self._behind, self._ahead
        return self._ahead, self._behind

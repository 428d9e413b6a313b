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

How, in O(1): the queue is one list of ``queues.NodeLists``, oldest first;
each entry's node, which the store keeps in the entry as its handle, holds its
visited bit in its ``value``, and the hand is a node, or the list's sentinel
when the next sweep starts from the oldest entry. A read is one native array
write; the hand steps through native arrays. (Until 2026-12-04 the
queue was cut at the hand into two ordered dicts and the bits were a set
of keys: the same decisions, measured slower.)

Parameters: none.

Cost: on_insert, on_access, on_delete O(1); victim() O(1) amortized (each step
of the hand clears a bit that a read set, or evicts). Per entry: a node and
the handle's 4 bytes in the entry; ``per_entry_bytes`` is the measured
steady-state figure.
"""

from __future__ import annotations

from typing import ClassVar, Final

from mypy_extensions import i64

from cache_api.policies.queues import NodeLists
from cache_api.types import Policy

SIEVE_BYTES_PER_ENTRY: Final = 61
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k entries
of 100 B, six turnovers, 2026-12-07, with the store's own table: 253 B per live entry; 418 B
on 2026-12-05 with a dict of key objects, 539 with a key -> slot dict in the policy as well,
542 with the ordered dicts before that): a node, the handle in the entry and allocator
rounding."""


VISITED: Final = 1
"""A node's ``value`` once its entry was read (0: not since the hand last passed)."""


class Sieve(Policy):
    """SIEVE (NSDI'24): FIFO order, a hand, a visited bit. O(1) amortized per operation."""

    name: ClassVar[str] = "SIEVE"
    evicts: ClassVar[bool] = True
    keeps_handles: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = SIEVE_BYTES_PER_ENTRY

    def __init__(self) -> None:
        super().__init__()
        lists = self._lists = NodeLists()
        self._queue: i64 = lists.new_list(0)
        self._hand: i64 = self._queue
        """The next node to judge; the queue's sentinel: start from the oldest."""

    def on_insert(self, slot: i64, key_hash: i64, expires_at: float) -> i64:
        """Enter at the newest end, unvisited; the handle is the entry's node."""
        return self._lists.add(self._queue, slot, 0)

    def on_access(self, handle: i64) -> None:
        """Set the visited bit; nothing moves."""
        self._lists.value[handle] = VISITED

    def on_delete(self, handle: i64) -> None:
        """Forget the entry; if the hand was on it, the hand moves to the next newer entry."""
        lists = self._lists
        if handle == self._hand:
            self._hand = lists.next[handle]
        lists.remove(handle)

    def victim(self) -> i64:
        """Move the hand to the first unvisited entry, clearing bits on the way; evict it."""
        lists, queue = self._lists, self._queue
        visited, next_ = lists.value, lists.next
        hand = self._hand
        if hand == queue:
            hand = next_[queue]
        while visited[hand]:
            visited[hand] = 0
            hand = next_[hand]
            if hand == queue:
                hand = next_[queue]
        self._hand = next_[hand]
        return lists.remove(hand)

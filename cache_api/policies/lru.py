"""LRU: evict the least recently used entry (read or written).

Algorithm: exact LRU, kept as a log of uses. Every write and every read
appends the entry's slot to the log, and the slot remembers where its latest
record is. The victim is found at the log's old end: a record that is not
its slot's latest is stale (the entry was used again later, or has left) and
is skipped; the first current record is the least recently used entry. When
the log holds more than twice as many records as there are entries (plus
LOG_SLACK), it is rewritten with only the current records, in order.

Why, rather than a doubly linked list (until 2026-12-06 an ``OrderedDict``
whose ``move_to_end`` relinked the key on every hit): in a large cache each
hit then touched four cold places (the node index, the node and both
neighbours), about 430 ns at 1 M entries, a third of a read's time in process.
Here a hit writes one number in a native array (the slot's latest position,
its only cold access) and appends to the log's end, which stays in cache:
what SIEVE pays for its visited bit. The decisions are LRU's exactly (the
suite checks them against libCacheSim's ``LRU``). It is what Redis and
memcached users expect; it suffers under scans, which SIEVE, S3_FIFO and
W_TINYLFU address.

How: the store keeps each entry's slot in the entry as its handle (see
``types.Policy``), so no key -> slot table is needed; ``keys[slot]`` names the
victim. The log is a ``vec[i32]`` of slots with a read position; positions are
indexes into it, renumbered by a rewrite. Slots and positions are 32-bit, as the
handle in the entry is (``types.MAX_HANDLE``): a log never holds more than twice
the entries plus LOG_SLACK records.

Parameters: LOG_SLACK.

Cost: on_insert, on_access, on_delete O(1) amortized: a rewrite is O(n) after at
least n appends, a native loop over at most 2n + LOG_SLACK records (42-48 ms at
1 M entries on the benchmark machine on 2026-12-06, a day it ran at half speed),
so a pause every million uses or so, like the store's expiry wheel rebuild and a
dict's resize. victim() O(1) amortized (each skipped record was one append).
Per entry: a key pointer and a position (12 bytes), one to two log records (4
bytes each), the handle in the entry; ``per_entry_bytes`` is the measured
steady-state figure.
"""

from __future__ import annotations

from typing import ClassVar, Final

from librt.vecs import append, pop, vec
from mypy_extensions import i32, i64

from cache_api.policies.queues import NO_KEY
from cache_api.types import Key, Policy

LRU_BYTES_PER_ENTRY: Final = 157
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k and 400 k
entries of 100 B, six turnovers, 2026-12-06: 398 B per live entry; 411 with 64-bit positions
and records, 438 with the ordered dict's LRU): a slot's key pointer and position, the log, the
handle in the entry and allocator rounding. Filled once, 1 M entries cost 32 B an entry more
than REJECT's (64-bit: 40; the ordered dict: 49)."""

LOG_SLACK: Final = 64
"""Stale records the log tolerates beyond twice its live entries before a rewrite (records)."""

LEFT: Final = -1
"""A slot's latest position once its entry left (no record is current)."""


class LRU(Policy):
    """Least recently used goes first. O(1) amortized per operation."""

    name: ClassVar[str] = "LRU"
    evicts: ClassVar[bool] = True
    keeps_handles: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = LRU_BYTES_PER_ENTRY

    def __init__(self) -> None:
        super().__init__()
        self._keys: list[Key] = []
        self._latest: vec[i32] = vec[i32]()
        """Per slot: the log position of its latest record (LEFT once its entry left)."""
        self._free: vec[i32] = vec[i32]()
        self._log: vec[i32] = vec[i32]()
        self._read: i64 = 0
        """The log's old end: records before it were consumed."""

    def on_insert(self, key: Key, expires_at: float) -> i64:
        """A new entry is the most recently used; its handle is a slot."""
        free = self._free
        if len(free):
            free, freed = pop(free)
            self._free = free
            slot = i64(freed)
            self._keys[slot] = key
        else:
            slot = len(self._keys)
            self._keys.append(key)
            self._latest = append(self._latest, LEFT)
        self.on_access(key, slot)
        return slot

    def on_access(self, key: Key, handle: i64) -> None:
        """A read makes the entry the most recently used."""
        log = self._log
        position = len(log)
        self._latest[handle] = i32(position)
        self._log = append(log, i32(handle))
        if position >= 2 * (len(self._keys) - len(self._free)) + LOG_SLACK:
            self._rewrite()

    def on_delete(self, key: Key, handle: i64) -> None:
        """The entry left; its records are stale from now on."""
        self._release(handle)

    def victim(self) -> Key:
        """The least recently used entry: the first current record from the old end."""
        log, latest = self._log, self._latest
        position = self._read
        while latest[i64(log[position])] != position:
            position += 1
        self._read = position + 1
        return self._release(i64(log[position]))

    def _release(self, slot: i64) -> Key:
        """Free ``slot``; return the key it held."""
        keys = self._keys
        key = keys[slot]
        keys[slot] = NO_KEY
        self._latest[slot] = LEFT
        self._free = append(self._free, i32(slot))
        return key

    def _rewrite(self) -> None:
        """Keep only the current records, in order, and renumber their positions."""
        log, latest = self._log, self._latest
        kept = vec[i32]()
        position = self._read
        end = len(log)
        while position < end:
            slot = i64(log[position])
            if latest[slot] == position:
                latest[slot] = i32(len(kept))
                kept = append(kept, i32(slot))
            position += 1
        self._log = kept
        self._read = 0

"""A log of uses: the order LRU, OLDEST_FIRST and NEWEST_FIRST evict by.

What: each entry has a slot (the store's; see ``types.Policy``), and a use of
an entry appends its slot to a log, the slot remembering where its latest
record is. A record that is not its slot's latest
is stale (the entry was used again later, or has left) and is skipped; the
first current record from the log's old end is the least recently used entry,
the first from its new end the most recently used. When the log holds more
than twice as many records as there are entries (plus ``LOG_SLACK``), it is
rewritten with only the current records, in order. What counts as a use is the
policy's: LRU appends on every write and read, the write-order policies on
writes only.

Why, rather than a doubly linked list (until 2026-12-06 an ``OrderedDict``,
LRU's whose ``move_to_end`` relinked the key on every hit, and the store's own
table for the write-order policies): in a large cache each hit then touched
four cold places (the node index, the node and both neighbours), about 430 ns
at 1 M entries, a third of a read's time in process. Here a use writes one
number in a native array (the slot's latest position, its only cold access)
and appends to the log's end, which stays in cache; the store's table has no
list node per entry.

How: the log is a ``vec[i32]`` of slots with a read position at its old end;
positions are indexes into it, renumbered by a rewrite. Slots and positions
are 32-bit (``types.MAX_HANDLE``); a victim is named by its slot, so the log
holds no key.

Parameters: ``LOG_SLACK``.

Cost: a use O(1) amortized: a rewrite is O(n) after at least n appends, a
native loop over at most 2n + ``LOG_SLACK`` records (42-48 ms at 1 M entries
on the benchmark machine on 2026-12-06, a day it ran at half speed), so a pause
every million uses or so, like the store's expiry wheel rebuild and a dict's
resize. A victim O(1) amortized (each skipped record was one append). Per
entry: a position (4 bytes) and one to two log records (4 bytes each);
``USE_LOG_BYTES_PER_ENTRY`` is the measured figure, charged by all three policies.
"""

from __future__ import annotations

from typing import ClassVar, Final

from librt.vecs import append, pop, vec
from mypy_extensions import i32, i64

from cache_api.types import Policy

LOG_SLACK: Final = 64
"""Stale records the log tolerates beyond twice its live entries before a rewrite (records)."""

LEFT: Final = -1
"""A slot's latest position once its entry left (no record is current)."""

USE_LOG_BYTES_PER_ENTRY: Final = 30
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k entries
of 100 B, six turnovers, 2026-12-07, with the store's own table: 222 B per live entry
under LRU and OLDEST_FIRST, 218 under NEWEST_FIRST; on 2026-12-06, with a dict of
key objects and a key per slot here, 398 and 394; 438 with the ordered dict's LRU): a slot's
position, the log and allocator rounding, the largest of the three. Filled once, 1 M entries
cost 8 B an entry more than REJECT's."""


class UseLog(Policy):
    """Entries by slot, ordered by a log of their uses; a write is a use, a read is not here."""

    evicts: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = USE_LOG_BYTES_PER_ENTRY

    def __init__(self) -> None:
        super().__init__()
        self._latest: vec[i32] = vec[i32]()
        """Per slot: the log position of its latest record (LEFT once its entry left)."""
        self._live: i64 = 0
        self._log: vec[i32] = vec[i32]()
        self._read: i64 = 0
        """The log's old end: records before it were consumed."""

    def on_insert(self, slot: i64, key_hash: i64, expires_at: float) -> i64:
        """A new entry is used."""
        latest = self._latest
        while len(latest) <= slot:
            latest = append(latest, LEFT)
        self._latest = latest
        self._live += 1
        self.use(slot)
        return 0

    def on_delete(self, handle: i64) -> None:
        """The entry left; its records are stale from now on."""
        self._release(handle)

    def victim(self) -> i64:
        """The least recently used entry: the first current record from the old end."""
        log, latest = self._log, self._latest
        position = self._read
        while latest[i64(log[position])] != position:
            position += 1
        self._read = position + 1
        slot = i64(log[position])
        self._release(slot)
        return slot

    def newest(self) -> i64:
        """Forget and return the most recently used entry: the first current record from the
        new end (the records after it go too)."""
        log, latest = self._log, self._latest
        while True:
            log, record = pop(log)
            slot = i64(record)
            if latest[slot] == len(log):
                break
        self._log = log
        self._release(slot)
        return slot

    def use(self, slot: i64) -> None:
        """Record a use of the entry at ``slot``: it is now the most recently used."""
        log = self._log
        position = len(log)
        self._latest[slot] = i32(position)
        self._log = append(log, i32(slot))
        if position >= 2 * self._live + LOG_SLACK:
            self._rewrite()

    def _release(self, slot: i64) -> None:
        """The entry at ``slot`` left."""
        self._latest[slot] = LEFT
        self._live -= 1

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

"""OLDEST_FIRST and NEWEST_FIRST: evict by the order of writes.

Both keep the store's own table in an ``OrderedDict`` (a hash table threaded by
a doubly linked list, in C): the store appends every write at the newest end
and removes what leaves, so the table *is* the write order and these policies
hold nothing else. Victim is O(1) from either end. An overwrite is a new
write and moves the key to the newest end. Reads change nothing. OLDEST_FIRST
is FIFO; NEWEST_FIRST evicts the most recent write, which keeps a stable
working set under a one-off scan (the original's policy).

Cost: O(1) per operation; ``per_entry_bytes`` for the list node and the ordered
dict's node index.
"""

from collections import OrderedDict
from typing import ClassVar, Final

from mypy_extensions import i64

from cache_api.policies.queues import newest, oldest
from cache_api.types import Key, Policy

ORDERED_TABLE_BYTES_PER_ENTRY: Final = 198
"""An ordered table's list node (32 B), node index and extra hash-table room, as RSS,
for a full cache under churn, the state a cache with ``MAX_MEMORY`` lives in.

Measured by ``bench/entry_overhead.py --churn`` (200 k entries, six turnovers):
438 bytes an entry against 240 accounted for REJECT's plain table (2026-12-05,
at 200 k and 400 k entries; it was 395 when first measured on 2026-11-28, and
the charge had not followed). Filled once
without evictions, the same table costs only 58 bytes an entry more than the
plain one (``bench/entry_overhead.py``); a deleted slot holds room until the
next resize, which sizes the table from three times the live count.
"""


class OrderedTable(Policy):
    """The store's table kept in write order: the shared part of the order policies."""

    evicts: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = ORDERED_TABLE_BYTES_PER_ENTRY

    def __init__(self) -> None:
        self.order: OrderedDict[Key, bytes] = OrderedDict()
        """The store's table, in write order (``table`` is the same dict)."""
        super().__init__(self.order)

    def on_insert(self, key: Key, expires_at: float) -> i64:
        """The store appends ``key`` at the newest end."""
        return 0

    def on_delete(self, key: Key, handle: i64) -> None:
        """The store removed ``key`` from the order."""

    def victim(self) -> Key:
        """The key at the oldest end."""
        return oldest(self.order)


class OldestFirst(OrderedTable):
    """FIFO by write: the oldest write goes. O(1) per operation."""

    name: ClassVar[str] = "OLDEST_FIRST"

    def on_access(self, key: Key, handle: i64) -> None:
        """Reads do not change write order."""


class NewestFirst(OldestFirst):
    """LIFO by write: the newest write goes. O(1) per operation.

    It remembers the last key written: while that key is stored it is the
    newest (every write, overwrites included, passes through ``on_insert``),
    which spares the common victim a reversed iterator over the table (measured:
    about a tenth of the cost of a replayed miss). Otherwise (it was evicted or
    deleted since) the victim is read from the table's newest end.
    """

    name: ClassVar[str] = "NEWEST_FIRST"

    def __init__(self) -> None:
        super().__init__()
        self._last_write: Key | None = None

    def on_insert(self, key: Key, expires_at: float) -> i64:
        """``key`` is now the newest write."""
        self._last_write = key
        return 0

    def victim(self) -> Key:
        """The newest write."""
        key = self._last_write
        if key is not None and key in self.order:
            return key
        return newest(self.order)

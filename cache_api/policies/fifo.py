"""OLDEST_FIRST and NEWEST_FIRST: evict by the order of writes.

Both keep the keys in write order in an ``OrderedDict`` (a hash table threaded
by a doubly linked list, in C), so insert, delete and victim are O(1). An
overwrite is a new write and moves the key to the newest end. Reads change
nothing. OLDEST_FIRST is FIFO; NEWEST_FIRST evicts the most recent write,
which keeps a stable working set under a one-off scan (the original's policy).

Cost: O(1) per operation; about ``per_entry_bytes`` of bookkeeping per entry.
"""

from collections import OrderedDict
from typing import ClassVar

from cache_api.types import Entry, Key

ORDERED_DICT_BYTES_PER_ENTRY = 100
"""An OrderedDict[bytes, None] node, hash slot and links, as RSS (``bench/entry_overhead.py``)."""


class OldestFirst:
    """FIFO by write: the oldest write goes. O(1) per operation."""

    name: ClassVar[str] = "OLDEST_FIRST"
    evicts: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = ORDERED_DICT_BYTES_PER_ENTRY

    def __init__(self) -> None:
        self._order: OrderedDict[Key, None] = OrderedDict()

    def on_insert(self, key: Key, entry: Entry) -> None:
        """Append ``key`` at the newest end."""
        self._order[key] = None

    def on_access(self, key: Key) -> None:
        """Reads do not change write order."""

    def on_delete(self, key: Key) -> None:
        """Forget ``key``."""
        del self._order[key]

    def victim(self) -> Key:
        """The oldest write."""
        return self._order.popitem(last=False)[0]


class NewestFirst(OldestFirst):
    """LIFO by write: the newest write goes. O(1) per operation."""

    name: ClassVar[str] = "NEWEST_FIRST"

    def victim(self) -> Key:
        """The newest write."""
        return self._order.popitem(last=True)[0]

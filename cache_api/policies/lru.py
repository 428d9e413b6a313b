"""LRU: evict the least recently used entry (read or written).

Exact LRU over an ``OrderedDict`` (C hash table plus doubly linked list): a
hit moves the key to the recent end with ``move_to_end``, the victim is popped
from the other end. Exact rather than Redis's sampled approximation, because
the ordered dict makes exactness O(1). It is what Redis and memcached users
expect; it suffers under scans, which the policies of a later issue address.

Cost: O(1) per operation; about ``per_entry_bytes`` of bookkeeping per entry.
"""

from collections import OrderedDict
from typing import ClassVar

from cache_api.policies.fifo import ORDERED_DICT_BYTES_PER_ENTRY
from cache_api.types import Entry, Key


class LRU:
    """Least recently used goes first. O(1) per operation."""

    name: ClassVar[str] = "LRU"
    evicts: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = ORDERED_DICT_BYTES_PER_ENTRY

    def __init__(self) -> None:
        self._order: OrderedDict[Key, None] = OrderedDict()

    def on_insert(self, key: Key, entry: Entry) -> None:
        """``key`` is now the most recently used."""
        self._order[key] = None

    def on_access(self, key: Key) -> None:
        """``key`` is now the most recently used."""
        self._order.move_to_end(key)

    def on_delete(self, key: Key) -> None:
        """Forget ``key``."""
        del self._order[key]

    def victim(self) -> Key:
        """The least recently used key."""
        return self._order.popitem(last=False)[0]

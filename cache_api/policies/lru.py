"""LRU: evict the least recently used entry (read or written).

Exact LRU over the store's own table kept as an ``OrderedDict`` (C hash table
plus doubly linked list): the store appends each write at the recent end, a
hit moves the key there with ``move_to_end``, and the victim is the key at the
other end. Exact rather than Redis's sampled approximation, because the
ordered dict makes exactness O(1). It is what Redis and memcached users
expect; it suffers under scans, which SIEVE, S3_FIFO and W_TINYLFU address.

Cost: O(1) per operation; ``per_entry_bytes`` for the list node and the
ordered dict's node index.
"""

from collections.abc import Callable
from typing import ClassVar

from mypy_extensions import i64

from cache_api.policies.fifo import OrderedTable
from cache_api.types import Key


class LRU(OrderedTable):
    """Least recently used goes first. O(1) per operation."""

    name: ClassVar[str] = "LRU"

    def __init__(self) -> None:
        super().__init__()
        self._refresh: Callable[[Key], None] = self.order.move_to_end
        """The table's own ``move_to_end``, bound once: a hit costs one C call."""

    def on_access(self, key: Key, handle: i64) -> None:
        """A read makes ``key`` the most recently used."""
        self._refresh(key)

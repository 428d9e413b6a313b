"""OLDEST_FIRST and NEWEST_FIRST: evict by the order of writes.

Algorithm: ``uselog.UseLog`` where only a write is a use, so the log is the
write order: OLDEST_FIRST (FIFO) evicts from its old end, NEWEST_FIRST (LIFO)
from its new end. An overwrite is a new write (a delete then an insert) and
moves the key to the newest end. Reads change nothing. NEWEST_FIRST keeps a
stable working set under a one-off scan (the original's policy).

Why the log: until 2026-12-06 both kept the store's own table in an
``OrderedDict`` (a hash table threaded by a linked list, in C), which cost a
list node and a node index per entry (198 B of RSS an entry under churn,
against the log's 157) and an ordered insert and delete per write.

Cost: O(1) amortized per operation; per entry, the log's
``uselog.USE_LOG_BYTES_PER_ENTRY``.
"""

from typing import ClassVar

from mypy_extensions import i64

from cache_api.policies.uselog import UseLog


class OldestFirst(UseLog):
    """FIFO by write: the oldest write goes. O(1) amortized per operation."""

    name: ClassVar[str] = "OLDEST_FIRST"


class NewestFirst(OldestFirst):
    """LIFO by write: the newest write goes. O(1) amortized per operation."""

    name: ClassVar[str] = "NEWEST_FIRST"

    def victim(self) -> i64:
        """The newest write."""
        return self.newest()

"""Linear probing's one subtle rule: which entry may fill the hole a removal leaves.

Both open-addressing indexes (``table.Table``, the store's, and
``policies.queues.HashFifo``, S3_FIFO's ghost) remove an entry by backward
shift, as Knuth's Algorithm R does: the entries after the hole, up to the next
empty cell, move back into it one by one, each only if the hole lies on its
probe path, so that every lookup still ends at the first empty cell and no
tombstone is needed. The test wraps around the end of the cells.

Cost: O(1), a few native comparisons.
"""

from __future__ import annotations

from mypy_extensions import i64


def may_fill(hole: i64, cell: i64, home: i64) -> bool:
    """Whether the entry at ``cell``, whose probe starts at ``home``, may move back into
    ``hole`` (an earlier cell of the same run): unless ``home`` lies in (hole, cell], cyclically."""
    if hole < cell:
        return home <= hole or home > cell
    return home <= hole and home > cell

"""Capacity: how policies that size internal queues learn the cache's size.

What: S3_FIFO (a 10 % small queue, a ghost of 90 %), W_TINYLFU (a 1 % window,
an 80 % protected segment, a sketch sized to the cache) and LFU (a decay
period measured in cache turnovers) need the capacity *in entries*. The store
does not tell its policy; it only calls ``victim()`` until a write fits.

How: such a policy subclasses ``CapacityAware`` and takes ``capacity`` (entries,
0 = unknown) in its constructor; ``make_policy(name, capacity)`` passes it.
With a count capacity (``NUMBER_OF_SLOTS``) that is the number of slots. With
only a byte capacity (``MAX_MEMORY``) the server passes 0 and the policy learns
the figure: whenever the store asks for a victim the cache is full, so the
number of live entries at that moment *is* the capacity in entries for the
sizes being stored. ``learned_capacity`` applies the same rule when both limits
are set and the byte limit binds first (fewer live entries than slots).

Why not a byte-weighted split (as Caffeine weighs entries)? The store keeps the
sizes; a policy would have to duplicate them (8+ bytes an entry) and the
store's size function. Entry counts track the byte split closely when sizes
are not wildly skewed between the queues, and cost nothing.

Cost: O(1), one comparison per ``victim()``; no bytes per entry.
"""

from __future__ import annotations

from cache_api.types import Policy


class CapacityAware(Policy):
    """A policy that sizes its queues by the capacity in entries (0 = learn it)."""

    def __init__(self, capacity: int = 0) -> None:
        super().__init__()
        if capacity < 0:
            raise ValueError("capacity must be >= 0 entries")
        self._hint = capacity


def learned_capacity(hint: int, live: int) -> int:
    """The capacity in entries, seen at an eviction with ``live`` entries stored.

    The cache is full whenever the store asks for a victim, so ``live`` is the
    true capacity unless the given ``hint`` is smaller (never, for a count
    capacity: then ``live == hint``). Always at least 1.
    """
    if hint and hint <= live:
        return hint
    return max(live, 1)

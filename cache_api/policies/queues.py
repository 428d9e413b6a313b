"""Queues: the ordered-dict operations the policies share, and a ghost of dropped keys.

The policies keep their queues as ``OrderedDict`` (a C hash table threaded by a
doubly linked list: O(1) append, removal by key, move to the newest end, and
removal from either end). Compiled, a method call on an ``OrderedDict`` looks
the method up by name on every call, and a keyword argument adds CPython's
keyword parsing; these two functions call ``OrderedDict``'s own methods,
fetched once, with positional arguments (measured with ``popitem``: 331 ns
positional against 464 ns with ``last=False``, pop and re-append together).
Policies that touch one queue on every hit bind its ``move_to_end`` instead.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final, TypeVar

from cache_api.types import Key

V = TypeVar("V")

_popitem: Final = OrderedDict.popitem
_move_to_end: Final = OrderedDict.move_to_end


def pop_oldest(queue: OrderedDict[Key, V]) -> tuple[Key, V]:
    """Remove and return the oldest ``(key, value)`` of ``queue`` (KeyError if it is empty)."""
    return _popitem(queue, False)


def move_to_newest(queue: OrderedDict[Key, V], key: Key) -> None:
    """Make ``key`` the newest of ``queue`` (KeyError if it is not there)."""
    _move_to_end(queue, key)


class GhostKeys:
    """Keys recently dropped from a queue, remembered for the next ``size / 2`` to ``size`` drops.

    What: ``add(key)`` remembers a key, ``take(key)`` forgets it and says
    whether it was remembered. A key stays remembered for between
    ``generation`` (``size // 2``) and 2 x ``generation`` later adds; at most
    ``size`` keys are held.

    How: two generations of plain dicts. Adds go to the recent one; when it
    holds ``generation`` keys, it becomes the older one and the keys of the
    previous older one are dropped together (freed by CPython in one go).

    Why, rather than an ``OrderedDict`` FIFO trimmed on every add: an add is
    then one plain-dict insert (no linked node, no ``popitem`` and its tuple),
    where the trim was a large share of what a W_TINYLFU_ADAPTIVE miss cost;
    the exact FIFO bound is not needed by a ghost that only votes on the
    window's size.

    Cost: add O(1) amortized, take O(1) (two lookups at most).
    """

    __slots__ = ("generation", "older", "recent")

    def __init__(self, size: int) -> None:
        self.recent: dict[Key, None] = {}
        self.older: dict[Key, None] = {}
        self.generation = 1
        self.resize(size)

    def resize(self, size: int) -> None:
        """Hold at most ``size`` keys (2 if ``size`` < 2) from now on."""
        self.generation = max(size // 2, 1)

    def add(self, key: Key) -> None:
        """Remember ``key`` (the newest)."""
        recent = self.recent
        recent[key] = None
        if len(recent) >= self.generation:
            self.older = recent
            self.recent = {}

    def take(self, key: Key) -> bool:
        """Forget ``key``; whether it was remembered."""
        found = False
        recent, older = self.recent, self.older
        if key in recent:
            del recent[key]
            found = True
        if key in older:  # also there when it was added again before being taken
            del older[key]
            found = True
        return found

    def __len__(self) -> int:
        return len(self.recent) + len(self.older)

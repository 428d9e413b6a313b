"""Queues: the ordered-dict operations the policies share, a FIFO of keys, and a ghost.

The policies keep their queues as ``OrderedDict`` (a C hash table threaded by a
doubly linked list: O(1) append, removal by key, move to the newest end, and
removal from either end). Compiled, a method call on an ``OrderedDict`` looks
the method up by name on every call, and a keyword argument adds CPython's
keyword parsing; these two functions call ``OrderedDict``'s own methods,
fetched once, with positional arguments (measured with ``popitem``: 331 ns
positional against 464 ns with ``last=False``, pop and re-append together).
Policies that touch one queue on every hit bind its ``move_to_end`` instead.
``KeyFifo`` calls ``deque``'s methods the same way.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Final, TypeVar, final

from librt.vecs import append, pop, vec
from mypy_extensions import i64

from cache_api.types import Key

V = TypeVar("V")

_popitem: Final = OrderedDict.popitem
_move_to_end: Final = OrderedDict.move_to_end
_reversed: Final = OrderedDict.__reversed__
_popleft: Final = deque.popleft
_append: Final = deque.append


def pop_oldest(queue: OrderedDict[Key, V]) -> tuple[Key, V]:
    """Remove and return the oldest ``(key, value)`` of ``queue`` (KeyError if it is empty)."""
    return _popitem(queue, False)


def oldest(queue: OrderedDict[Key, V]) -> Key:
    """The oldest key of ``queue``, left in place (KeyError if it is empty).

    A loop rather than ``next(iter(queue))``: compiled, ``next`` is looked up on
    the ``builtins`` module by name and called generically on every use.
    """
    for key in queue:
        return key
    raise KeyError("the queue is empty")


def newest(queue: OrderedDict[Key, V]) -> Key:
    """The newest key of ``queue``, left in place (KeyError if it is empty)."""
    for key in _reversed(queue):
        return key
    raise KeyError("the queue is empty")


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


FORGOTTEN_SLACK: Final = 64
"""Forgotten copies a ``KeyFifo`` tolerates beyond its live keys before it compacts (keys)."""


class KeyFifo:
    """Keys in arrival order: append, pop the oldest, and forget any key, each O(1) amortized.

    What: a FIFO queue of keys for policies that only ever take from the old end
    (S3_FIFO's queues and ghost). ``forget(key)`` removes a key the caller knows
    is queued, wherever it is.

    How: a ``deque`` of keys and a count of forgotten copies per key. A forgotten
    key stays in the deque until it reaches the old end, where ``pop_oldest``
    skips it. A key queued again after being forgotten is behind its forgotten
    copies, so the first copies of a key to reach the old end are always the
    forgotten ones. When forgotten copies outnumber the live keys (plus
    ``FORGOTTEN_SLACK``), the deque is rebuilt without them.

    Why, rather than an ``OrderedDict``: no linked node and no second hash table
    per key; a pop is a ``popleft`` where ``OrderedDict.popitem`` looked the key
    up twice and built a tuple (measured in S3_FIFO: see its module).

    Cost: append and pop O(1) amortized (every skipped copy was one forget), forget
    O(1) amortized over the compactions. Per key: one deque slot (8 bytes); a
    forgotten key holds a dict entry until its copy leaves.
    """

    __slots__ = ("_forgotten", "_live", "_order")

    def __init__(self) -> None:
        self._order: deque[Key] = deque()
        self._forgotten: dict[Key, int] = {}
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def append(self, key: Key) -> None:
        """Queue ``key`` as the newest."""
        _append(self._order, key)
        self._live += 1

    def pop_oldest(self) -> Key:
        """Remove and return the oldest live key (IndexError if there is none)."""
        order = self._order
        forgotten = self._forgotten
        while True:
            key = _popleft(order)
            if forgotten and self._skip(key):
                continue
            self._live -= 1
            return key

    def forget(self, key: Key) -> None:
        """Remove ``key``, which must be queued (live) here."""
        forgotten = self._forgotten
        forgotten[key] = forgotten.get(key, 0) + 1
        self._live -= 1
        if len(self._order) > 2 * self._live + FORGOTTEN_SLACK:
            self._compact()

    def _skip(self, key: Key) -> bool:
        """Whether this copy of ``key`` was forgotten (and consume it)."""
        forgotten = self._forgotten
        copies = forgotten.get(key, 0)
        if not copies:
            return False
        if copies == 1:
            del forgotten[key]
        else:
            forgotten[key] = copies - 1
        return True

    def _compact(self) -> None:
        """Rebuild the deque with only the live keys, in order."""
        self._order = deque(key for key in self._order if not self._skip(key))


NO_KEY: Final = b""
"""What ``SlotLists.keys`` holds at a sentinel's slot and at a free slot."""


@final
class SlotLists:
    """Doubly linked lists of integer slots: append, unlink and move to the newest end, natively.

    What: a slot is an index that a policy hands to one key (``allocate``) and
    takes back when the key leaves (``release``); ``keys[slot]`` is its key and
    ``tag[slot]`` a number: for a slot in a list, the list's sentinel; for a
    sentinel, whatever its policy keeps there. ``value[slot]`` is a number the
    policy keeps with a key (0 when allocated): a visited bit, a hash. A *list* is a sentinel slot
    (``new_list``); ``push_newest(head, slot)`` appends to the list whose
    sentinel is ``head`` (``add(head, key, value)`` allocates, appends and sets
    the value in one call), ``unlink(slot)`` takes a slot out of whatever list
    holds it, ``oldest(head)`` is the list's first slot (``head`` itself when
    the list is empty).

    How: each list is a ring through its sentinel, in ``prev`` and ``next``
    (``vec[i64]``, mypyc's native arrays); released slots are reused, newest
    first.

    Why, rather than one ``OrderedDict`` per list: a policy that moves a key
    between many lists (LFU's levels) paid, per move, a hash delete and a hash
    insert in two ordered dicts plus the update of a key -> list dict; here
    the key's one slot is found once (a plain ``dict`` of the policy) and a
    move is a few native array writes. Compiled, each operation is a direct C
    call with no argument parsing.

    Cost: every operation O(1) (``allocate`` amortized over the arrays'
    growth). Per slot: 32 bytes of arrays and a list pointer to its key; freed
    slots on a stack of 8 bytes each.
    """

    def __init__(self) -> None:
        self.prev: vec[i64] = vec[i64]()
        self.next: vec[i64] = vec[i64]()
        self.tag: vec[i64] = vec[i64]()
        self.value: vec[i64] = vec[i64]()
        self.keys: list[Key] = []
        self._free: vec[i64] = vec[i64]()

    def allocate(self, key: Key) -> i64:
        """A slot for ``key``, in no list (``push_newest`` tags it with its list)."""
        free = self._free
        if len(free):
            free, slot = pop(free)
            self._free = free
            self.keys[slot] = key
            self.tag[slot] = slot
            self.value[slot] = 0
            self.prev[slot] = slot
            self.next[slot] = slot
            return slot
        slot = len(self.tag)
        self.keys.append(key)
        self.tag = append(self.tag, slot)
        self.value = append(self.value, 0)
        self.prev = append(self.prev, slot)
        self.next = append(self.next, slot)
        return slot

    def add(self, head: i64, key: Key, value: i64) -> i64:
        """A slot for ``key`` holding ``value``, appended at the newest end of the list of
        sentinel ``head``: ``allocate``, ``push_newest`` and a ``value`` write in one call.

        ``allocate``'s free-slot steps are written out here rather than shared through a
        helper: the call cost 40 instructions an insert (W_TINYLFU, measured).
        """
        prev, next_ = self.prev, self.next
        last = prev[head]
        free = self._free
        if len(free):
            free, slot = pop(free)
            self._free = free
            self.keys[slot] = key
            self.tag[slot] = head
            self.value[slot] = value
            prev[slot] = last
            next_[slot] = head
        else:
            slot = len(self.tag)
            self.keys.append(key)
            self.tag = append(self.tag, head)
            self.value = append(self.value, value)
            self.prev = prev = append(prev, last)
            self.next = next_ = append(next_, head)
        next_[last] = slot
        prev[head] = slot
        return slot

    def new_list(self, tag: i64) -> i64:
        """The sentinel slot of a new, empty list, with ``tag``."""
        head = self.allocate(NO_KEY)
        self.tag[head] = tag
        return head

    def release(self, slot: i64) -> None:
        """Free ``slot`` (out of any list, or an empty list's sentinel) for reuse."""
        self.keys[slot] = NO_KEY
        self._free = append(self._free, slot)

    def is_empty(self, head: i64) -> bool:
        """Whether the list of sentinel ``head`` holds no slot."""
        return self.next[head] == head

    def oldest(self, head: i64) -> i64:
        """The first slot of the list of sentinel ``head`` (``head`` if it is empty)."""
        return self.next[head]

    def unlink(self, slot: i64) -> None:
        """Take ``slot`` out of its list."""
        prev, next_ = self.prev, self.next
        before, after = prev[slot], next_[slot]
        next_[before] = after
        prev[after] = before

    def remove(self, slot: i64) -> Key:
        """Take ``slot`` out of its list and free it; return the key it held.

        ``unlink`` and ``release`` written out: compiled, each call re-read the arrays.
        """
        prev, next_ = self.prev, self.next
        before, after = prev[slot], next_[slot]
        next_[before] = after
        prev[after] = before
        keys = self.keys
        key = keys[slot]
        keys[slot] = NO_KEY
        self._free = append(self._free, slot)
        return key

    def push_newest(self, head: i64, slot: i64) -> None:
        """Append ``slot`` (in no list) at the newest end of the list of sentinel ``head``,
        and tag it with ``head``."""
        prev, next_ = self.prev, self.next
        last = prev[head]
        next_[last] = slot
        prev[slot] = last
        next_[slot] = head
        prev[head] = slot
        self.tag[slot] = head

    def move_to_newest(self, head: i64, slot: i64) -> None:
        """Move ``slot`` from wherever it is to the newest end of the list of ``head``.

        ``unlink`` and ``push_newest`` written out, as in ``remove``.
        """
        prev, next_ = self.prev, self.next
        before, after = prev[slot], next_[slot]
        next_[before] = after
        prev[after] = before
        last = prev[head]
        next_[last] = slot
        prev[slot] = last
        next_[slot] = head
        prev[head] = slot
        self.tag[slot] = head

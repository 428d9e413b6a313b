"""Queues the policies share: slot lists, a FIFO of keys and a ghost of hashes.

``SlotLists`` (doubly linked lists of native integer slots) carry LFU's levels,
SIEVE's queue, S3_FIFO's and the W-TinyLFUs' queues; ``KeyFifo`` carries
S3_FIFO's ghost, ``GhostHashes`` W_TINYLFU_ADAPTIVE's. (LRU and the write-order
policies keep a log of uses instead: ``uselog``.) Compiled, a method call on a
``deque`` looks the method up by name on every call; ``KeyFifo`` calls the
type's own methods, fetched once, with positional arguments.
"""

from __future__ import annotations

from collections import deque
from typing import Final, final

from librt.vecs import append, pop, vec
from mypy_extensions import i64

from cache_api.types import Key

_popleft: Final = deque.popleft
_append: Final = deque.append


GHOST_CELLS_PER_KEY: Final = 4
"""Cells of a ``GhostHashes`` table per key it remembers (rounded up to a power of two)."""

SEQUENCE_BITS: Final = 32
"""Low bits of a ghost cell: the number of the add that wrote it (modulo 2**32)."""

SEQUENCE_MASK: Final = (1 << SEQUENCE_BITS) - 1

FINGERPRINT_MASK: Final = -(1 << SEQUENCE_BITS)
"""High bits of a ghost cell: the key's hash's high 32 bits."""

EMPTY_CELL: Final = 0


@final
class GhostHashes:
    """The keys of the last ``size`` drops from a queue, remembered by hash.

    What: ``add(h)`` remembers the key whose ``hash`` is ``h``; ``take(h)``
    says whether that key was among the last ``size`` adds, and forgets it.
    A key is sometimes forgotten early (see below); never remembered falsely
    but by a 32-bit fingerprint collision (one in four billion).

    How: a direct-mapped table of ``vec[i64]`` cells, at least
    ``GHOST_CELLS_PER_KEY`` per remembered key, a power of two. A key's cell
    is picked by its hash's high 32 bits (its fingerprint), and holds the
    fingerprint and the number of the add that wrote it; ``take`` compares
    the fingerprint and the age (adds since). A later add that lands in the
    same cell overwrites it: of keys taken at the end of their ``size`` adds,
    at least ``exp(-1 / GHOST_CELLS_PER_KEY)`` = 78 % are still found (89 % over
    uniform ages). A new ``size`` applies to the adds already made, as if the
    ghost had always had it; growing the table re-places the cells by their
    fingerprints, and it never shrinks.

    Why, rather than dicts of keys (``GhostKeys``, until 2026-12-06): a ghost
    only votes on W_TINYLFU_ADAPTIVE's window size, so an occasional lost vote
    costs little, while the dicts cost four failed lookups an insert and one
    dict insert an eviction (callgrind: 551 and 338 instructions, a third of
    the policy's cost per miss). Here an add or a take is one native array
    access (about 35 instructions), no key object is kept alive, and the
    memory is the same (a full cache of 200 k entries under churn: 472 B RSS
    per live entry with either).

    Cost: add and take O(1); growing O(table), amortized over the adds that
    needed it. 8 bytes a cell: 32 to 64 bytes per remembered key.
    """

    def __init__(self, size: int) -> None:
        self.cells: vec[i64] = vec[i64]()
        self.mask: i64 = 0
        self.size: i64 = 1
        """Adds a key is remembered for."""
        self.added: i64 = 0
        """Adds so far (the latest add's number)."""
        self.resize(size)

    def resize(self, size: int) -> None:
        """Remember the last ``size`` adds (1 if ``size`` < 1) from now on."""
        self.size = max(size, 1)
        width = 1 << (int(self.size) * GHOST_CELLS_PER_KEY - 1).bit_length()
        if width <= len(self.cells):
            return
        old = self.cells
        cells = vec[i64]([EMPTY_CELL] * width)
        mask: i64 = width - 1
        for cell in old:
            if cell != EMPTY_CELL:
                cells[(cell >> SEQUENCE_BITS) & mask] = cell
        self.cells, self.mask = cells, mask

    def add(self, h: i64) -> None:
        """Remember the key whose ``hash`` is ``h`` (the newest)."""
        self.added += 1
        self.cells[(h >> SEQUENCE_BITS) & self.mask] = (h & FINGERPRINT_MASK) | (
            self.added & SEQUENCE_MASK
        )

    def take(self, h: i64) -> bool:
        """Forget the key whose ``hash`` is ``h``; whether it was remembered."""
        cells = self.cells
        i = (h >> SEQUENCE_BITS) & self.mask
        cell = cells[i]
        if cell == EMPTY_CELL or (cell ^ h) & FINGERPRINT_MASK or not self._young(cell):
            return False
        cells[i] = EMPTY_CELL
        return True

    def _young(self, cell: i64) -> bool:
        """Whether ``cell`` was written by one of the last ``size`` adds."""
        return (self.added - (cell & SEQUENCE_MASK)) & SEQUENCE_MASK < self.size


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

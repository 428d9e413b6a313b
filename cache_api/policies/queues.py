"""Queues the policies share: node lists, a FIFO of hashes and a ghost of hashes.

``NodeLists`` (doubly linked lists of native integer nodes) carry LFU's levels,
SIEVE's queue, S3_FIFO's and the W-TinyLFUs' queues; ``HashFifo`` carries
S3_FIFO's ghost, ``GhostHashes`` W_TINYLFU_ADAPTIVE's. (LRU and the write-order
policies keep a log of uses instead: ``uselog``.) All are native arrays, so a
compiled policy calls them directly and boxes no number.
"""

from __future__ import annotations

from typing import Final, final

from librt.vecs import append, pop, vec
from mypy_extensions import i64

from cache_api.probing import may_fill

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


STALE_SLACK: Final = 64
"""Stale records a ``HashFifo`` tolerates beyond its live hashes before it compacts (records)."""

MIN_HASH_CELLS: Final = 16
"""The smallest ``HashFifo`` index (cells; a power of two)."""


@final
class HashFifo:
    """Key hashes in arrival order, exactly: append, take, pop the oldest, each O(1) amortized.

    What: a FIFO queue of ``hash(key)`` values for a policy that only ever takes
    from the old end and asks whether a hash is queued (S3_FIFO's ghost).
    ``take(h)`` forgets ``h`` wherever it is and says whether it was there.
    Hashes stand for keys: the store keeps no key object for its policies, and
    two keys sharing a 64-bit hash are rarer than anything a hit ratio shows.

    How: the order is a ``vec[i64]`` of records (hashes) with a read position
    at its old end; an open-addressing index (linear probing, backward-shift
    removal by ``probing.may_fill``, two ``vec[i64]``: hash and position + 1)
    maps each queued hash to the position of its record. A record whose hash
    maps elsewhere (taken, or
    queued again later) is stale and skipped at the old end; when the records
    exceed twice the live hashes plus ``STALE_SLACK``, the live ones are
    copied down and renumbered, as ``uselog`` rewrites its log.

    Why, rather than a ``dict`` of hashes and a ``deque`` (until this change):
    compiled, every dict or deque operation boxed the 64-bit hash into a
    Python ``int`` and hashed it again; S3_FIFO's replays spent a fifth of
    their instructions there. Here everything is native arrays.

    Cost: append, take and pop O(1) amortized (expected, below ``MAX_LOAD``
    of the index); a compaction O(n) after at least n appends or takes. Per
    hash: one or two 8-byte records and 21 to 43 bytes of index.
    """

    def __init__(self) -> None:
        self._order: vec[i64] = vec[i64]()
        self._read: i64 = 0
        self._hashes: vec[i64] = vec[i64]([0] * MIN_HASH_CELLS)
        self._positions: vec[i64] = vec[i64]([0] * MIN_HASH_CELLS)
        """Per cell: the position of its hash's record plus one (0: an empty cell)."""
        self._mask: i64 = MIN_HASH_CELLS - 1
        self._live: i64 = 0

    def __len__(self) -> int:
        return int(self._live)

    def append(self, h: i64) -> None:
        """Queue ``h`` as the newest (a queued ``h`` moves to the newest end)."""
        position = len(self._order)
        self._order = append(self._order, h)
        i = self._cell_of(h)
        if i >= 0:
            self._positions[i] = position + 1
        else:
            if (self._live + 1) * 4 > len(self._hashes) * 3:
                self._grow()
            self._place(h, position + 1)
            self._live += 1
        if len(self._order) - self._read > 2 * self._live + STALE_SLACK:
            self._compact()

    def take(self, h: i64) -> bool:
        """Forget ``h``; whether it was queued."""
        i = self._cell_of(h)
        if i < 0:
            return False
        self._remove_cell(i)
        if len(self._order) - self._read > 2 * self._live + STALE_SLACK:
            self._compact()
        return True

    def pop_oldest(self) -> i64:
        """Remove and return the oldest queued hash (IndexError if there is none)."""
        if not self._live:
            raise IndexError("pop from an empty HashFifo")
        order = self._order
        while True:
            position = self._read
            h = order[position]
            self._read = position + 1
            i = self._current_cell(h, position)
            if i >= 0:
                self._remove_cell(i)
                return h

    def _cell_of(self, h: i64) -> i64:
        """The cell holding ``h``, or -1."""
        hashes, positions, mask = self._hashes, self._positions, self._mask
        i = h & mask
        while positions[i]:
            if hashes[i] == h:
                return i
            i = (i + 1) & mask
        return -1

    def _current_cell(self, h: i64, position: i64) -> i64:
        """The cell of ``h`` if the record at ``position`` is its current one, else -1 (stale)."""
        i = self._cell_of(h)
        if i >= 0 and self._positions[i] == position + 1:
            return i
        return -1

    def _place(self, h: i64, position: i64) -> None:
        hashes, positions, mask = self._hashes, self._positions, self._mask
        i = h & mask
        while positions[i]:
            i = (i + 1) & mask
        hashes[i] = h
        positions[i] = position

    def _remove_cell(self, i: i64) -> None:
        """Empty cell ``i``, shifting the cells of its chain back."""
        hashes, positions, mask = self._hashes, self._positions, self._mask
        j = i
        while True:
            j = (j + 1) & mask
            if not positions[j]:
                break
            home = hashes[j] & mask
            if may_fill(i, j, home):
                hashes[i] = hashes[j]
                positions[i] = positions[j]
                i = j
        positions[i] = 0
        self._live -= 1

    def _grow(self) -> None:
        old_hashes, old_positions = self._hashes, self._positions
        width = 2 * len(old_hashes)
        self._hashes = vec[i64]([0] * width)
        self._positions = vec[i64]([0] * width)
        self._mask = width - 1
        for i in range(len(old_hashes)):
            if old_positions[i]:
                self._place(old_hashes[i], old_positions[i])

    def _compact(self) -> None:
        """Keep only the live records, in order, and renumber their positions."""
        order = self._order
        kept = vec[i64]()
        for position in range(self._read, len(order)):
            h = order[position]
            i = self._current_cell(h, position)
            if i >= 0:
                self._positions[i] = len(kept) + 1
                kept = append(kept, h)
        self._order = kept
        self._read = 0


NO_OWNER: Final = -1
"""What ``NodeLists.owners`` holds at a sentinel and at a free node."""


@final
class NodeLists:
    """Doubly linked lists of integer nodes: append, unlink and move to the newest end, natively.

    What: a node is an index that a policy hands to one entry (``allocate``)
    and takes back when the entry leaves (``release``); ``owners[node]`` is the
    entry's slot in the store (``types.Policy``), what ``victim()`` returns, and
    ``tag[node]`` a number: for a node in a list, the list's sentinel; for a
    sentinel, whatever its policy keeps there. ``value[node]`` is a number the
    policy keeps with an entry (0 when allocated): a visited bit, a hash. A
    *list* is a sentinel node (``new_list``); ``push_newest(head, node)``
    appends to the list whose sentinel is ``head`` (``add(head, owner, value)``
    allocates, appends and sets the value in one call), ``unlink(node)`` takes
    a node out of whatever list holds it, ``oldest(head)`` is the list's first
    node (``head`` itself when the list is empty). The node is the policy's
    handle, which the store keeps in the entry.

    How: each list is a ring through its sentinel, in ``prev`` and ``next``
    (``vec[i64]``, mypyc's native arrays); released nodes are reused, newest
    first.

    Why, rather than one ``OrderedDict`` per list: a policy that moves an entry
    between many lists (LFU's levels) paid, per move, a hash delete and a hash
    insert in two ordered dicts plus the update of a key -> list dict; here the
    entry's node comes with it (the handle) and a move is a few native array
    writes. Compiled, each operation is a direct C call with no argument parsing.

    Cost: every operation O(1) (``allocate`` amortized over the arrays'
    growth). Per node: 40 bytes of arrays; freed nodes on a stack of 8 bytes each.
    """

    def __init__(self) -> None:
        self.prev: vec[i64] = vec[i64]()
        self.next: vec[i64] = vec[i64]()
        self.tag: vec[i64] = vec[i64]()
        self.value: vec[i64] = vec[i64]()
        self.owners: vec[i64] = vec[i64]()
        self._free: vec[i64] = vec[i64]()

    def allocate(self, owner: i64) -> i64:
        """A node for the entry at store slot ``owner``, in no list (``push_newest`` tags it)."""
        free = self._free
        if len(free):
            free, node = pop(free)
            self._free = free
            self.owners[node] = owner
            self.tag[node] = node
            self.value[node] = 0
            self.prev[node] = node
            self.next[node] = node
            return node
        node = len(self.tag)
        self.owners = append(self.owners, owner)
        self.tag = append(self.tag, node)
        self.value = append(self.value, 0)
        self.prev = append(self.prev, node)
        self.next = append(self.next, node)
        return node

    def add(self, head: i64, owner: i64, value: i64) -> i64:
        """A node for the entry at ``owner`` holding ``value``, appended at the newest end of
        the list of sentinel ``head``: ``allocate``, ``push_newest`` and a ``value`` write in
        one call.

        ``allocate``'s free-node steps are written out here rather than shared through a
        helper: the call cost 40 instructions an insert (W_TINYLFU, measured).
        """
        prev, next_ = self.prev, self.next
        last = prev[head]
        free = self._free
        if len(free):
            free, node = pop(free)
            self._free = free
            self.owners[node] = owner
            self.tag[node] = head
            self.value[node] = value
            prev[node] = last
            next_[node] = head
        else:
            node = len(self.tag)
            self.owners = append(self.owners, owner)
            self.tag = append(self.tag, head)
            self.value = append(self.value, value)
            self.prev = prev = append(prev, last)
            self.next = next_ = append(next_, head)
        next_[last] = node
        prev[head] = node
        return node

    def new_list(self, tag: i64) -> i64:
        """The sentinel node of a new, empty list, with ``tag``."""
        head = self.allocate(NO_OWNER)
        self.tag[head] = tag
        return head

    def release(self, node: i64) -> None:
        """Free ``node`` (out of any list, or an empty list's sentinel) for reuse."""
        self.owners[node] = NO_OWNER
        self._free = append(self._free, node)

    def is_empty(self, head: i64) -> bool:
        """Whether the list of sentinel ``head`` holds no node."""
        return self.next[head] == head

    def oldest(self, head: i64) -> i64:
        """The first node of the list of sentinel ``head`` (``head`` if it is empty)."""
        return self.next[head]

    def unlink(self, node: i64) -> None:
        """Take ``node`` out of its list."""
        prev, next_ = self.prev, self.next
        before, after = prev[node], next_[node]
        next_[before] = after
        prev[after] = before

    def remove(self, node: i64) -> i64:
        """Take ``node`` out of its list and free it; return its owner's slot.

        ``unlink`` and ``release`` written out: compiled, each call re-read the arrays.
        """
        prev, next_ = self.prev, self.next
        before, after = prev[node], next_[node]
        next_[before] = after
        prev[after] = before
        owners = self.owners
        owner = owners[node]
        owners[node] = NO_OWNER
        self._free = append(self._free, node)
        return owner

    def push_newest(self, head: i64, node: i64) -> None:
        """Append ``node`` (in no list) at the newest end of the list of sentinel ``head``,
        and tag it with ``head``."""
        prev, next_ = self.prev, self.next
        last = prev[head]
        next_[last] = node
        prev[node] = last
        next_[node] = head
        prev[head] = node
        self.tag[node] = head

    def move_to_newest(self, head: i64, node: i64) -> None:
        """Move ``node`` from wherever it is to the newest end of the list of ``head``.

        ``unlink`` and ``push_newest`` written out, as in ``remove``.
        """
        prev, next_ = self.prev, self.next
        before, after = prev[node], next_[node]
        next_[before] = after
        prev[after] = before
        last = prev[head]
        next_[last] = node
        prev[node] = last
        next_[node] = head
        prev[head] = node
        self.tag[node] = head

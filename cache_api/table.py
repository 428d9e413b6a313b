"""The store's table: entries by key, each entry one ``bytes`` blob that ends with its key.

Open addressing over entry blobs
--------------------------------
What: every entry has a *slot*, its index in ``entries`` (a list of blobs),
from ``claim`` until ``remove``; freed slots are reused, newest first. An
index of ``cells`` (a power-of-two ``vec[i64]``, linear probing) finds a
key's slot: a cell holds ``FINGERPRINT_BITS`` of the key's hash above the
slot number plus one (0: an empty cell). A lookup compares fingerprints, then
the key itself against the blob's end (``bytes.endswith``, a native memcmp)
and the key length the blob records at ``KEY_LENGTH_AT``. Each slot's
fingerprint is also kept by slot (``vec[i32]``), so that an entry named only
by its slot (an eviction, an expiry) finds its cell without hashing its key
again. A removal shifts the cells after it back (``probing.may_fill``; no
tombstones), so a probe always ends at the first empty cell.

Why, rather than a ``dict`` of key objects: a dict entry (hash, key and value
pointers, and its index cell) and a separate key object (a 33-byte header
plus the key, rounded up by the allocator) cost about 90 bytes an entry; here
the key lives in the entry's blob and an entry costs a list pointer, a
4-byte fingerprint and, at most ``MAX_LOAD``, 10.7 to 21.3 bytes of cells.
The policies and the expiry wheel name entries by slot, so no key object is
kept alive for them either. A hit
touches three places (a cell, the list, the blob) where the dict touched four
(its index, its entry, the stored key to compare, the value). The hash is
Python's salted SipHash, as the dict's was, so a client cannot aim keys at
one chain.

Cost: find, claim and remove O(1) expected (linear probing below
``MAX_LOAD``); claim O(n) when the cells double, amortized over the n claims
before it. The cells never shrink, as a dict's do not until it is rebuilt.
Per entry: 8 bytes of list, 4 of fingerprint, 10.7 to 21.3 bytes of cells,
and the key and its length in the blob.
"""

from __future__ import annotations

from typing import Final, final

from librt.strings import read_i16_le
from librt.vecs import append, pop, vec
from mypy_extensions import i32, i64

from cache_api.probing import may_fill

KEY_LENGTH_AT: Final = 9
"""Where a blob records its key's length (``int16``, little-endian); the key is its last bytes."""

MAX_KEY_BYTES: Final = 2**15 - 1
"""The longest key a blob can record."""

FINGERPRINT_BITS: Final = 31
"""Bits of a key's hash that a cell keeps; the low ones also pick its first cell."""

FINGERPRINT_MASK: Final = (1 << FINGERPRINT_BITS) - 1
SLOT_BITS: Final = 32
SLOT_MASK: Final = (1 << SLOT_BITS) - 1
EMPTY_CELL: Final = 0
EMPTY_BLOB: Final = b""
"""What ``entries`` holds at a free slot, and at a claimed one until the caller fills it."""

MIN_CELLS: Final = 8
MAX_LOAD_NUMERATOR: Final = 3
MAX_LOAD_DENOMINATOR: Final = 4
"""``MAX_LOAD`` = 3/4: the cells double before more than three quarters are in use."""


def fingerprint(key_hash: i64) -> i64:
    """The part of ``hash(key)`` a cell keeps."""
    return key_hash & FINGERPRINT_MASK


@final
class Table:
    """Entry blobs by slot, and an open-addressing index of their keys (see the module notes)."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        """Per slot: its entry's blob, or ``EMPTY_BLOB`` for a free slot."""
        self._prints: vec[i32] = vec[i32]()
        """Per slot: its key's fingerprint (``fingerprint(hash(key))``)."""
        self._free: vec[i32] = vec[i32]()
        self._cells: vec[i64] = vec[i64]([EMPTY_CELL] * MIN_CELLS)
        self._mask: i64 = MIN_CELLS - 1
        self._used: i64 = 0

    def __len__(self) -> int:
        return int(self._used)

    def find(self, key: bytes, key_hash: i64) -> i64:
        """The slot of the entry whose key is ``key`` (``key_hash`` = ``hash(key)``), or -1."""
        cells, mask, entries = self._cells, self._mask, self.entries
        print_ = fingerprint(key_hash)
        length = len(key)
        i = print_ & mask
        while True:
            cell = cells[i]
            if cell == EMPTY_CELL:
                return -1
            if cell >> SLOT_BITS == print_:
                slot = (cell & SLOT_MASK) - 1
                blob = entries[slot]
                if blob.endswith(key) and read_i16_le(blob, KEY_LENGTH_AT) == length:
                    return slot
            i = (i + 1) & mask

    def claim(self, key_hash: i64) -> i64:
        """A slot for a new key of hash ``key_hash`` (which must not be stored), indexed at once;
        the caller fills ``entries[slot]``."""
        if (self._used + 1) * MAX_LOAD_DENOMINATOR > len(self._cells) * MAX_LOAD_NUMERATOR:
            self._grow()
        print_ = fingerprint(key_hash)
        free = self._free
        if len(free):
            free, freed = pop(free)
            self._free = free
            slot = i64(freed)
            self._prints[slot] = i32(print_)
        else:
            slot = len(self.entries)
            self.entries.append(EMPTY_BLOB)
            self._prints = append(self._prints, i32(print_))
        self._place((print_ << SLOT_BITS) | (slot + 1))
        self._used += 1
        return slot

    def remove(self, slot: i64) -> None:
        """Forget the entry at ``slot`` and free the slot."""
        cells, mask = self._cells, self._mask
        print_ = i64(self._prints[slot])
        wanted = (print_ << SLOT_BITS) | (slot + 1)
        i = print_ & mask
        while cells[i] != wanted:
            i = (i + 1) & mask
        j = i
        while True:
            j = (j + 1) & mask
            cell = cells[j]
            if cell == EMPTY_CELL:
                break
            home = (cell >> SLOT_BITS) & mask
            if may_fill(i, j, home):
                cells[i] = cell
                i = j
        cells[i] = EMPTY_CELL
        self.entries[slot] = EMPTY_BLOB
        self._free = append(self._free, i32(slot))
        self._used -= 1

    def _place(self, cell: i64) -> None:
        """Put ``cell`` in the first empty cell from its key's own."""
        cells, mask = self._cells, self._mask
        i = (cell >> SLOT_BITS) & mask
        while cells[i] != EMPTY_CELL:
            i = (i + 1) & mask
        cells[i] = cell

    def _grow(self) -> None:
        """Double the cells and re-place every key by its fingerprint (no blob is read)."""
        old = self._cells
        self._cells = vec[i64]([EMPTY_CELL] * (2 * len(old)))
        self._mask = 2 * len(old) - 1
        for cell in old:
            if cell != EMPTY_CELL:
                self._place(cell)

"""TinyLFU frequency estimates: Caffeine's count-min sketch, libCacheSim's counting Bloom filter.

``FrequencySketch`` (below, W_TINYLFU_ADAPTIVE's) is described here;
``CountingBloomFilter`` (W_TINYLFU's, a port of libCacheSim's
``minimalIncrementCBF`` so that W_TINYLFU can match libCacheSim's
``WTinyLFU``) in its class docstring.

What: ``increment(key)`` counts one occurrence, ``frequency(key)`` estimates
how often ``key`` occurred lately: never less than the truth (until a counter
saturates at 15), more only when all of its counters collide with other keys.

Source: Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache
Admission Policy", ACM TOS 2017, as Caffeine's ``FrequencySketch``: 4-bit
counters (``MAX_COUNT`` 15), ``SKETCH_DEPTH`` 4 counters per key, all four in
one 64-byte block (one cache line: a count costs one memory miss, not four),
and the "reset": after ``SAMPLE_SIZE_PER_ENTRY`` x capacity increments every
counter is halved, so old popularity fades and counts stay small. Two
differences: a counter takes a byte, not a nibble, and there are
``COUNTERS_PER_ENTRY`` 32 of them per entry of capacity (Caffeine: 16), which
costs the same memory as Caffeine's longs would and over-counts less.

How: one table of byte counters (``vec[u8]``, see below), a power of two
wide, cut into blocks of ``BLOCK_COUNTERS``. The low bits of ``hash(k)`` pick
k's block; bits ``HIGH_BITS_SHIFT`` and up pick one counter in each quarter of
it. Python's 64-bit ``hash`` is cached in the ``bytes`` object, and salted per
process, which keeps an attacker from aiming collisions at a key (Caffeine
adds random admission for that instead).

Halving is lazy: ``halve`` only counts a new epoch, and a block catches up
on the halvings it missed when a count next touches it (each counter shifted
right by that many, or cleared after ``COUNT_BITS`` of them), which reads
exactly as if every counter had been halved at once. A block's epoch is a
16-bit stamp, so a block left untouched through 32,768 halvings in a row
would catch up on too few; with the sample at ``SAMPLE_SIZE_PER_ENTRY`` x
capacity a block is touched about 20 times per halving, so that does not
happen, and a counter that missed halvings holds at most 15 anyway. Why:
halving the whole table at once (one ``bytes.translate`` and two copies)
stopped the server for 72 ms at a capacity of 1 M entries (32 MiB of
counters, 2026-12-07), once every 10 M counts; now no count pays more than
one block's 64 shifts.

Why ``vec[u8]`` and 64-bit ``i64`` arithmetic (mypyc's native types, from
``librt`` and ``mypy_extensions``): compiled, a count is then a few machine
instructions, where a ``bytearray`` store and a hash above 2**62 each went
through a boxed Python ``int`` (measured: the sketch policies replayed at a
quarter to half of LRU's speed, most of it that boxing). Interpreted, they
behave as a ``bytearray`` and an ``int``.

Cost: increment and frequency O(1), four counters in one cache line and the
block's stamp, plus at most one block's catching up; halving O(1).
``COUNTERS_PER_ENTRY`` bytes per entry of capacity, the width rounded up to a
power of two (so 32 to 64), and a 2-byte stamp per 64 counters.
"""

from __future__ import annotations

import math
from typing import Final

from librt.vecs import vec
from mypy_extensions import i16, i64, u8

from cache_api.types import Key

DEPTH_SHIFT: Final = 2
"""A key has ``1 << DEPTH_SHIFT`` counters (``SKETCH_DEPTH``)."""

SKETCH_DEPTH: Final = 1 << DEPTH_SHIFT
"""Counters per key, one in each quarter of its block (as Caffeine)."""

COUNTERS_PER_ENTRY: Final = 32
"""Counters (bytes) per entry of capacity (Caffeine: 16 nibbles; see above)."""

BLOCK_SHIFT: Final = 6
"""A block is ``1 << BLOCK_SHIFT`` = 64 counters: one 64-byte cache line."""

BLOCK_COUNTERS: Final = 1 << BLOCK_SHIFT

QUARTER_SHIFT: Final = BLOCK_SHIFT - DEPTH_SHIFT
"""A key's counter in each quarter of its block (16 counters) is picked by this many (4) bits.

Declared by shifts and differences only, so that mypyc folds it (and ``QUARTER_MASK``) into
the loops below as a literal; a derived value it cannot fold is read and unboxed per step."""

QUARTER_MASK: Final = (1 << QUARTER_SHIFT) - 1

MAX_COUNT: Final = 15
"""Counter saturation: 4 bits."""

COUNT_BITS: Final = 4
"""Halvings after which any count (at most ``MAX_COUNT``) is 0."""

EPOCH_MASK: Final = (1 << 15) - 1
"""Halvings are told apart modulo 32,768 in a block's 16-bit stamp."""

SAMPLE_SIZE_PER_ENTRY: Final = 10
"""Increments between two halvings, per entry of capacity (Caffeine: 10)."""

MIN_SKETCH_CAPACITY: Final = 64
"""Smallest capacity a sketch is sized for, in entries."""

HIGH_BITS_SHIFT: Final = 32
"""Counters within a block (and the Bloom filter's step) come from ``hash(key) >> HIGH_BITS_SHIFT``:
bits the block index (the filter's start) does not use."""

_HALF: Final = bytes(count >> 1 for count in range(256))


def _counters(initial: bytes) -> vec[u8]:
    """A row of byte counters holding ``initial``."""
    return vec[u8](initial)


class FrequencySketch:
    """Approximate recent frequency of keys: 4-bit counters, 4 a key in one block, halved often."""

    __slots__ = (
        "block_mask",
        "capacity",
        "countdown",
        "counters",
        "epoch",
        "resets",
        "sample_size",
        "stamps",
    )

    def __init__(self, capacity: int) -> None:
        capacity = max(capacity, MIN_SKETCH_CAPACITY)
        width = 1 << (capacity * COUNTERS_PER_ENTRY - 1).bit_length()
        self.capacity = width // COUNTERS_PER_ENTRY
        """Entries of capacity the table is wide enough for (a power of two)."""
        self.counters = _counters(bytes(width))
        self.block_mask: i64 = (width >> BLOCK_SHIFT) - 1
        self.stamps: vec[i16] = vec[i16]([0] * (width >> BLOCK_SHIFT))
        """Per block: the epoch its counters are halved up to."""
        self.epoch: i16 = 0
        """``resets`` modulo 32,768: the epoch every block reads as."""
        self.sample_size: i64 = SAMPLE_SIZE_PER_ENTRY * capacity
        self.countdown: i64 = self.sample_size
        """Increments left until the next halving."""
        self.resets: i64 = 0
        """Halvings so far (a cached frequency is stale after one)."""

    def set_sample_size(self, capacity: int) -> None:
        """Halve every ``SAMPLE_SIZE_PER_ENTRY`` x ``capacity`` increments from now on."""
        self.sample_size = SAMPLE_SIZE_PER_ENTRY * max(capacity, 1)
        self.countdown = min(self.countdown, self.sample_size)

    def increment(self, key: Key) -> None:
        """Count one occurrence of ``key``: each of its counters below 15 goes up by one."""
        self.increment_hash(hash(key))

    def increment_hash(self, h: i64) -> None:
        """``increment`` of the key whose ``hash`` is ``h`` (for callers that keep it)."""
        block = h & self.block_mask
        if self.stamps[block] != self.epoch:
            self._catch_up(block)
        counters = self.counters
        i = block << BLOCK_SHIFT
        bits = h >> HIGH_BITS_SHIFT
        end = i + BLOCK_COUNTERS
        while i < end:
            counter = i + (bits & QUARTER_MASK)
            count = counters[counter]
            if count < MAX_COUNT:
                counters[counter] = count + 1
            bits >>= QUARTER_SHIFT
            i += 1 << QUARTER_SHIFT
        self.countdown -= 1
        if not self.countdown:
            self.halve()

    def frequency(self, key: Key) -> int:
        """The estimated recent count of ``key`` (0..15): the least of its counters."""
        return self.frequency_of_hash(hash(key))

    def frequency_of_hash(self, h: i64) -> int:
        """``frequency`` of the key whose ``hash`` is ``h``."""
        block = h & self.block_mask
        if self.stamps[block] != self.epoch:
            self._catch_up(block)
        counters = self.counters
        i = block << BLOCK_SHIFT
        bits = h >> HIGH_BITS_SHIFT
        end = i + BLOCK_COUNTERS
        least: u8 = MAX_COUNT
        while i < end:
            count = counters[i + (bits & QUARTER_MASK)]
            least = min(least, count)
            bits >>= QUARTER_SHIFT
            i += 1 << QUARTER_SHIFT
        return least

    def halve(self) -> None:
        """Halve every counter (lazily, see the module) and start the next sample: the sketch
        forgets."""
        self.resets += 1
        self.epoch = i16(self.resets & EPOCH_MASK)
        self.countdown = self.sample_size

    def _catch_up(self, block: i64) -> None:
        """Apply to ``block`` the halvings since its stamp."""
        behind = (i64(self.epoch) - i64(self.stamps[block])) & EPOCH_MASK
        self.stamps[block] = self.epoch
        counters = self.counters
        i = block << BLOCK_SHIFT
        end = i + BLOCK_COUNTERS
        shift = u8(min(behind, COUNT_BITS))
        while i < end:
            counters[i] = counters[i] >> shift
            i += 1


CBF_ERROR: Final = 0.001
"""The false-positive rate libCacheSim sizes its filter for (``minimalIncrementCBF_init``)."""

CBF_COUNTERS_PER_ENTRY: Final = -math.log(CBF_ERROR) / math.log(2) ** 2
"""Counters per entry of the sized-for population: -ln(error) / ln(2)^2 = 14.38."""

CBF_HASHES: Final = 10
"""Counters per key: ln(2) x counters per entry, rounded up (libCacheSim's formula; a test checks
it). A literal, so that mypyc folds it: a computed ``Final`` is read and unboxed at each use."""

CBF_MAX_COUNT: Final = 255
"""Counter saturation: a byte."""

HASH_HALF_MASK: Final = (1 << HIGH_BITS_SHIFT) - 1
"""The low 32 bits of a hash: the filter's start and step each come from one such half."""

CBF_MAX_WIDTH: Final = 1 << 31
"""Widest filter (counters): a 32-bit hash half times the width then stays below 2**63."""


class CountingBloomFilter:
    """libCacheSim's ``minimalIncrementCBF``: 10 counters per key, all incremented, min read.

    ``W_TINYLFU`` uses it to reproduce libCacheSim's ``WTinyLFU`` (see its
    module). Sized for ``entries`` keys at ``CBF_ERROR``: ``CBF_HASHES``
    counters per key out of ``CBF_COUNTERS_PER_ENTRY`` x ``entries``, chosen by
    double hashing, ``a + i * b`` modulo the width, from Python's salted
    ``hash`` (libCacheSim hashes its 8-byte object id with two seeded XXH64):
    ``a`` and ``b`` come from the hash's two 32-bit halves by multiply-shift
    range reduction (Lemire, "Fast Random Integer Generation in an Interval",
    2019), ``(half * n) >> 32``, as uniform as a modulo and a multiplication
    instead of a division (compiled, a modulo of ``i64`` is a call).
    ``add`` increments every counter of the key (libCacheSim's "minimal
    increment" compares but increments all), ``estimate`` reads their minimum,
    ``decay`` halves them all.

    One difference: a counter is a byte that saturates at 255 (libCacheSim's
    are 32-bit), which only matters between two keys both counted over 255
    times since the last halving -- never a contest that decides anything on
    these traces' cold candidates and victims. The step ``b`` is below a tenth
    of the width, so a key's ten counters are distinct.

    Cost: ``add`` and ``estimate`` O(``CBF_HASHES``), native loops when
    compiled; ``decay`` O(width) in C. 14.38 bytes per sized-for entry.
    """

    __slots__ = ("counters", "max_step", "width")

    def __init__(self, entries: int) -> None:
        width = max(math.ceil(CBF_COUNTERS_PER_ENTRY * max(entries, 1)), 2 * CBF_HASHES)
        self.width: i64 = min(width, CBF_MAX_WIDTH)
        self.max_step: i64 = self.width // CBF_HASHES
        self.counters = _counters(bytes(self.width))

    def add(self, key: Key) -> int:
        """Count one occurrence of ``key``: each of its counters goes up by one (to 255).

        Returns ``estimate(key)`` as it was before this count, so that a contest
        that reads a candidate's count and then counts it hashes it once.
        """
        return self.add_hash(hash(key))

    def add_hash(self, h: i64) -> int:
        """``add`` of the key whose ``hash`` is ``h`` (for callers that keep it)."""
        width = self.width
        counters = self.counters
        i = ((h & HASH_HALF_MASK) * width) >> HIGH_BITS_SHIFT
        step = ((((h >> HIGH_BITS_SHIFT) & HASH_HALF_MASK) * self.max_step) >> HIGH_BITS_SHIFT) + 1
        least: u8 = CBF_MAX_COUNT
        left: i64 = CBF_HASHES
        while left:
            count = counters[i]
            least = min(least, count)
            if count < CBF_MAX_COUNT:
                counters[i] = count + 1
            i += step
            if i >= width:
                i -= width
            left -= 1
        return least

    def estimate(self, key: Key) -> int:
        """The least of ``key``'s counters: its count, plus what collisions added."""
        return self.estimate_hash(hash(key))

    def estimate_hash(self, h: i64) -> int:
        """``estimate`` of the key whose ``hash`` is ``h``."""
        width = self.width
        counters = self.counters
        i = ((h & HASH_HALF_MASK) * width) >> HIGH_BITS_SHIFT
        step = ((((h >> HIGH_BITS_SHIFT) & HASH_HALF_MASK) * self.max_step) >> HIGH_BITS_SHIFT) + 1
        least: u8 = CBF_MAX_COUNT
        left: i64 = CBF_HASHES
        while left:
            count = counters[i]
            least = min(least, count)
            i += step
            if i >= width:
                i -= width
            left -= 1
        return least

    def decay(self) -> None:
        """Halve every counter."""
        self.counters = _counters(bytes(self.counters).translate(_HALF))

"""TinyLFU frequency estimates: Caffeine's count-min sketch, libCacheSim's counting Bloom filter.

``FrequencySketch`` (below, W_TINYLFU_ADAPTIVE's) is described here;
``CountingBloomFilter`` (W_TINYLFU's, a port of libCacheSim's
``minimalIncrementCBF`` so that W_TINYLFU can match libCacheSim's
``WTinyLFU``) in its class docstring.

What: ``increment(key)`` counts one occurrence, ``frequency(key)`` estimates
how often ``key`` occurred lately: never less than the truth (until a counter
saturates at 15), more only when both of its counters collide with other keys.

Source: Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache
Admission Policy", ACM TOS 2017, as Caffeine's ``FrequencySketch``: 4-bit
counters (``MAX_COUNT`` 15), 16 counters per entry of capacity, and the
"reset": after ``SAMPLE_SIZE_PER_ENTRY`` x capacity
increments every counter is halved, so old popularity fades and counts stay
small. Two differences, both for Python's sake: ``SKETCH_DEPTH`` is 2 counters
per key (Caffeine: 4), which halves the interpreted work per count (measured:
4 rows made the replay 40 % slower), with rows twice as wide
(``COUNTERS_PER_ENTRY`` 32, Caffeine 16) to over-count as little; and a counter
takes a byte, not a nibble.

How: two rows of byte counters (``vec[u8]``, see below), each a power of two
wide; key k uses counter ``hash(k) & mask`` of the first row and
``(hash(k) >> 32) & mask`` of the second: independent bits of Python's 64-bit
``hash`` (cached in the ``bytes`` object, and salted per process, which keeps
an attacker from aiming collisions at a key; Caffeine adds random admission
for that instead). Halving is one C-speed ``bytes.translate`` per row.

Why ``vec[u8]`` and 64-bit ``i64`` arithmetic (mypyc's native types, from
``librt`` and ``mypy_extensions``): compiled, a count is then a few machine
instructions, where a ``bytearray`` store and a hash above 2**62 each went
through a boxed Python ``int`` (measured: the sketch policies replayed at a
quarter to half of LRU's speed, most of it that boxing). Interpreted, they
behave as a ``bytearray`` and an ``int``.

Cost: increment and frequency O(1); halving O(width) once per
``SAMPLE_SIZE_PER_ENTRY`` x capacity increments, O(1) amortized.
``COUNTERS_PER_ENTRY`` bytes per entry of capacity, the row width rounded up
to a power of two (so 32 to 64).
"""

from __future__ import annotations

import math
from typing import Final

from librt.vecs import vec
from mypy_extensions import i64, u8

from cache_api.types import Key

SKETCH_DEPTH: Final = 2
"""Rows: counters per key (Caffeine: 4; see above)."""

COUNTERS_PER_ENTRY: Final = 32
"""Counters per entry of capacity, over both rows (Caffeine: 16 over 4 rows).

Two rows twice as wide over-count about as little as Caffeine's four: with 16,
the (then Caffeine-style) W_TINYLFU missed up to 0.007 more than libCacheSim on web12;
with 32, within 0.004 (``tests/test_hit_ratio.py``, ten hash seeds)."""

MAX_COUNT: Final = 15
"""Counter saturation: 4 bits."""

SAMPLE_SIZE_PER_ENTRY: Final = 10
"""Increments between two halvings, per entry of capacity (Caffeine: 10)."""

MIN_SKETCH_CAPACITY: Final = 64
"""Smallest capacity a sketch is sized for, in entries."""

HIGH_ROW_SHIFT: Final = 32
"""The second row is indexed by ``hash(key) >> HIGH_ROW_SHIFT``: bits the first row does not use."""

_HALF: Final = bytes(count >> 1 for count in range(256))


def _counters(initial: bytes) -> vec[u8]:
    """A row of byte counters holding ``initial``."""
    return vec[u8](initial)


class FrequencySketch:
    """Approximate recent frequency of keys, 4-bit counters in two rows, halved every sample.

    Rows, mask and countdown are public for tests.
    """

    __slots__ = ("capacity", "countdown", "high", "low", "mask", "resets", "sample_size")

    def __init__(self, capacity: int) -> None:
        capacity = max(capacity, MIN_SKETCH_CAPACITY)
        width = 1 << (capacity * COUNTERS_PER_ENTRY // SKETCH_DEPTH - 1).bit_length()
        self.capacity = width * SKETCH_DEPTH // COUNTERS_PER_ENTRY
        """Entries of capacity the rows are wide enough for (a power of two)."""
        self.low = _counters(bytes(width))
        """First row, indexed by the low bits of ``hash(key)``."""
        self.high = _counters(bytes(width))
        """Second row, indexed by bits ``HIGH_ROW_SHIFT`` and up of ``hash(key)``."""
        self.mask: i64 = width - 1
        self.sample_size = SAMPLE_SIZE_PER_ENTRY * capacity
        self.countdown = self.sample_size
        """Increments left until the next halving."""
        self.resets = 0
        """Halvings so far (a cached frequency is stale after one)."""

    def set_sample_size(self, capacity: int) -> None:
        """Halve every ``SAMPLE_SIZE_PER_ENTRY`` x ``capacity`` increments from now on."""
        self.sample_size = SAMPLE_SIZE_PER_ENTRY * max(capacity, 1)
        self.countdown = min(self.countdown, self.sample_size)

    def increment(self, key: Key) -> None:
        """Count one occurrence of ``key``: each of its counters below 15 goes up by one."""
        h: i64 = hash(key)
        mask = self.mask
        row = self.low
        i = h & mask
        count = row[i]
        if count < MAX_COUNT:
            row[i] = count + 1
        row = self.high
        i = (h >> HIGH_ROW_SHIFT) & mask
        count = row[i]
        if count < MAX_COUNT:
            row[i] = count + 1
        self.countdown -= 1
        if not self.countdown:
            self.halve()

    def frequency(self, key: Key) -> int:
        """The estimated recent count of ``key`` (0..15): the lesser of its counters."""
        h: i64 = hash(key)
        mask = self.mask
        low = self.low[h & mask]
        high = self.high[(h >> HIGH_ROW_SHIFT) & mask]
        return low if low < high else high

    def halve(self) -> None:
        """Halve every counter and start the next sample: the sketch forgets."""
        self.low = _counters(bytes(self.low).translate(_HALF))
        self.high = _counters(bytes(self.high).translate(_HALF))
        self.countdown = self.sample_size
        self.resets += 1


CBF_ERROR: Final = 0.001
"""The false-positive rate libCacheSim sizes its filter for (``minimalIncrementCBF_init``)."""

CBF_COUNTERS_PER_ENTRY: Final = -math.log(CBF_ERROR) / math.log(2) ** 2
"""Counters per entry of the sized-for population: -ln(error) / ln(2)^2 = 14.38."""

CBF_HASHES: Final = math.ceil(math.log(2) * CBF_COUNTERS_PER_ENTRY)
"""Counters per key: ln(2) x counters per entry, rounded up = 10."""

CBF_MAX_COUNT: Final = 255
"""Counter saturation: a byte."""


class CountingBloomFilter:
    """libCacheSim's ``minimalIncrementCBF``: 10 counters per key, all incremented, min read.

    ``W_TINYLFU`` uses it to reproduce libCacheSim's ``WTinyLFU`` (see its
    module). Sized for ``entries`` keys at ``CBF_ERROR``: ``CBF_HASHES``
    counters per key out of ``CBF_COUNTERS_PER_ENTRY`` x ``entries``, chosen by
    double hashing, ``a + i * b`` modulo the width, from Python's salted
    ``hash`` (libCacheSim hashes its 8-byte object id with two seeded XXH64).
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
        self.width: i64 = max(math.ceil(CBF_COUNTERS_PER_ENTRY * max(entries, 1)), 2 * CBF_HASHES)
        self.max_step: i64 = self.width // CBF_HASHES
        self.counters = _counters(bytes(self.width))

    def add(self, key: Key) -> None:
        """Count one occurrence of ``key``: each of its counters goes up by one (to 255)."""
        h: i64 = hash(key)
        width = self.width
        counters = self.counters
        i = h % width
        step = (h >> HIGH_ROW_SHIFT) % self.max_step + 1
        left: i64 = CBF_HASHES
        while left:
            count = counters[i]
            if count < CBF_MAX_COUNT:
                counters[i] = count + 1
            i += step
            if i >= width:
                i -= width
            left -= 1

    def estimate(self, key: Key) -> int:
        """The least of ``key``'s counters: its count, plus what collisions added."""
        h: i64 = hash(key)
        width = self.width
        counters = self.counters
        i = h % width
        step = (h >> HIGH_ROW_SHIFT) % self.max_step + 1
        least = CBF_MAX_COUNT
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

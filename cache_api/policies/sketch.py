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

How: two ``bytearray`` rows, each a power of two wide; key k uses counter
``hash(k) & mask`` of the first row and ``(hash(k) >> 32) & mask`` of the
second: independent bits of Python's 64-bit ``hash`` (cached in the ``bytes``
object, and salted per process, which keeps an attacker from aiming
collisions at a key; Caffeine adds random admission for that instead).
Halving is one C-speed ``bytearray.translate`` per row.

Cost: increment and frequency O(1); halving O(width) once per
``SAMPLE_SIZE_PER_ENTRY`` x capacity increments, O(1) amortized.
``COUNTERS_PER_ENTRY`` bytes per entry of capacity, the row width rounded up
to a power of two (so 32 to 64).
"""

from __future__ import annotations

import math
from typing import Final

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


class FrequencySketch:
    """Approximate recent frequency of keys, 4-bit counters in two rows, halved every sample.

    ``W_TINYLFU_ADAPTIVE`` inlines ``increment`` and ``frequency`` in its hooks (a method
    call costs as much as the counting); rows, mask and countdown are public.
    """

    __slots__ = ("capacity", "countdown", "high", "low", "mask", "resets", "sample_size")

    def __init__(self, capacity: int) -> None:
        capacity = max(capacity, MIN_SKETCH_CAPACITY)
        width = 1 << (capacity * COUNTERS_PER_ENTRY // SKETCH_DEPTH - 1).bit_length()
        self.capacity = width * SKETCH_DEPTH // COUNTERS_PER_ENTRY
        """Entries of capacity the rows are wide enough for (a power of two)."""
        self.low = bytearray(width)
        """First row, indexed by the low bits of ``hash(key)``."""
        self.high = bytearray(width)
        """Second row, indexed by bits ``HIGH_ROW_SHIFT`` and up of ``hash(key)``."""
        self.mask = width - 1
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
        h = hash(key)
        mask = self.mask
        row = self.low
        i = h & mask
        if row[i] < MAX_COUNT:
            row[i] += 1
        row = self.high
        i = (h >> HIGH_ROW_SHIFT) & mask
        if row[i] < MAX_COUNT:
            row[i] += 1
        self.countdown -= 1
        if not self.countdown:
            self.halve()

    def frequency(self, key: Key) -> int:
        """The estimated recent count of ``key`` (0..15): the lesser of its counters."""
        h = hash(key)
        mask = self.mask
        low = self.low[h & mask]
        high = self.high[(h >> HIGH_ROW_SHIFT) & mask]
        return low if low < high else high

    def halve(self) -> None:
        """Halve every counter and start the next sample: the sketch forgets."""
        self.low = self.low.translate(_HALF)
        self.high = self.high.translate(_HALF)
        self.countdown = self.sample_size
        self.resets += 1


CBF_ERROR: Final = 0.001
"""The false-positive rate libCacheSim sizes its filter for (``minimalIncrementCBF_init``)."""

CBF_COUNTERS_PER_ENTRY: Final = -math.log(CBF_ERROR) / math.log(2) ** 2
"""Counters per entry of the sized-for population: -ln(error) / ln(2)^2 = 14.38."""

CBF_HASHES: Final = math.ceil(math.log(2) * CBF_COUNTERS_PER_ENTRY)
"""Counters per key: ln(2) x counters per entry, rounded up = 10."""


_PLUS_ONE: Final = bytes(min(count + 1, 255) for count in range(256))


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

    Two differences, for speed: the step ``b`` is below a tenth of the width,
    so a key's counters wrap around the end at most once and are read and
    written as one or two extended slices of a ``bytearray`` (C loops, no
    Python loop over the 10 counters); and a counter is a byte that saturates
    at 255 (libCacheSim's are 32-bit), which only matters between two keys
    both counted over 255 times since the last halving -- never a contest that
    decides anything on these traces' cold candidates and victims.

    Cost: ``add`` and ``estimate`` O(``CBF_HASHES``) in C; ``decay`` O(width)
    in C. 14.38 bytes per sized-for entry.
    """

    __slots__ = ("counters", "max_step", "width")

    def __init__(self, entries: int) -> None:
        self.width = max(math.ceil(CBF_COUNTERS_PER_ENTRY * max(entries, 1)), 2 * CBF_HASHES)
        self.max_step = self.width // CBF_HASHES
        self.counters = bytearray(self.width)

    def add(self, key: Key) -> None:
        """Count one occurrence of ``key``: each of its counters goes up by one (to 255)."""
        h = hash(key)
        width = self.width
        counters = self.counters
        start = h % width
        step = (h >> 32) % self.max_step + 1
        last = start + (CBF_HASHES - 1) * step
        if last < width:
            last += 1
            counters[start:last:step] = counters[start:last:step].translate(_PLUS_ONE)
        else:
            counters[start:width:step] = counters[start:width:step].translate(_PLUS_ONE)
            start += (width - start + step - 1) // step * step - width
            last += 1 - width
            counters[start:last:step] = counters[start:last:step].translate(_PLUS_ONE)

    def estimate(self, key: Key) -> int:
        """The least of ``key``'s counters: its count, plus what collisions added."""
        h = hash(key)
        width = self.width
        counters = self.counters
        start = h % width
        step = (h >> 32) % self.max_step + 1
        last = start + (CBF_HASHES - 1) * step
        if last < width:
            return min(counters[start : last + 1 : step])
        low = min(counters[start:width:step])
        start += (width - start + step - 1) // step * step - width
        high = min(counters[start : last + 1 - width : step])
        return low if low < high else high

    def decay(self) -> None:
        """Halve every counter."""
        self.counters = self.counters.translate(_HALF)

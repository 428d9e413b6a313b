"""W_TINYLFU and W_TINYLFU_ADAPTIVE: a window LRU before a segmented-LRU main, TinyLFU admission.

Algorithm: new entries enter a small LRU *window* (``WINDOW_SHARE`` of the
capacity). The rest is the *main* space, a segmented LRU: a read of an entry in
its *probation* segment promotes it to the *protected* segment
(``PROTECTED_SHARE`` of main), whose least recently used entry is demoted back
to probation's newest end when protected overflows. Every read and every
insert counts the key in a frequency sketch (``sketch.FrequencySketch``: 4-bit
count-min, halved every 10 x capacity counts). When the cache is full, the
window's least recently used entry is the *candidate*: it enters main
(probation) only if the sketch says it is more frequent than main's *victim*
(probation's least recently used entry, or protected's if probation is
empty); the loser is evicted, and a tie keeps the victim. While main has room
(warm-up), candidates enter it without a contest -- into protected once
probation is full, as libCacheSim's SLRU fills its lowest segment with room.

Source: Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache
Admission Policy", ACM TOS 2017, and Caffeine's ``BoundedLocalCache`` (1 %
window, main 80 % protected, 4-bit sketch of 16 counters an entry reset at
10 x capacity, counting every read and write). The contest follows libCacheSim's
``WTinyLFU`` (``main-cache=SLRU``, ``window-size=0.01``), the variant the test
suite compares with; libCacheSim's own counter is a counting Bloom filter
that ignores window hits, hence small differences. Caffeine's random
admission of frequent candidates (a defence against hash flooding) is left
out: the sketch hashes with the process's salted ``hash``.

Why: admission by frequency keeps one-hit wonders and scans out of the main
space (loops such as ``gli``, search and database traffic), while the window
gives a new key time to build up a count.

W_TINYLFU_ADAPTIVE moves the window/main split as ARC moves its target
(Megiddo & Modha, FAST 2003) rather than by Caffeine's hill climber: two ghost
FIFOs of keys (``GHOST_SHARE`` of the capacity each) remember the candidates
the admission turned away and the keys evicted from main. A miss on a key of
the first means the window was too small: it grows by ``WINDOW_STEP`` entry,
up to the whole cache (plain LRU). A miss on a key of the second shrinks it,
down to ``MIN_WINDOW``. Caffeine's hill climber (a sample of 10 x capacity
requests, steps of 6.25 %) was tried first: on these traces it moved too
slowly to pay (``bench/hit_ratio.md``); the ghosts react within a few hundred
misses, and let the policy become LRU where recency wins (sprite at 10 %).

Parameters: ``WINDOW_SHARE``, ``PROTECTED_SHARE``, ``MIN_WINDOW``,
``GHOST_SHARE``, ``WINDOW_STEP``, and the sketch's. Sizes are in entries (see
``capacity``).

Cost: on_insert, on_access, on_delete O(1); victim() O(1) amortized (one
contest; warm-up moves are paid by the inserts that filled the window). Every
read and insert costs a sketch increment (two counters, inlined: the most
expensive part, about as much again as LRU's whole hook). Per entry: one
ordered-dict node, the sketch's 16-32 bytes, and for the adaptive variant the
ghosts' nodes (``2 * GHOST_SHARE`` per entry) and the evicted keys they keep
alive; ``per_entry_bytes`` is the measured total.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import ClassVar

from cache_api.policies.capacity import CapacityAware, learned_capacity
from cache_api.policies.sketch import HIGH_ROW_SHIFT, MAX_COUNT, FrequencySketch
from cache_api.types import Key

WINDOW_SHARE = 0.01
"""Share of the capacity (in entries) for the admission window (Caffeine's initial 1 %)."""

PROTECTED_SHARE = 0.80
"""Share of the main space for the protected segment (Caffeine and libCacheSim: 80 %)."""

MIN_WINDOW = 1
"""Fewest entries in the window."""

GHOST_SHARE = 0.10
"""Keys each ghost FIFO of the adaptive variant remembers, per entry of capacity."""

WINDOW_STEP = 1.0
"""Entries the adaptive window grows or shrinks by on one ghost hit."""

W_TINYLFU_BYTES_PER_ENTRY = 165
"""Measured by ``bench/hit_ratio.py`` (tracemalloc, steady state): queue nodes plus sketch."""

W_TINYLFU_ADAPTIVE_BYTES_PER_ENTRY = 182
"""Measured likewise, with both ghosts full (their keys included)."""


class WTinyLfu(CapacityAware):
    """W-TinyLFU with a fixed 1 % window (Caffeine without its hill climber). O(1)."""

    name: ClassVar[str] = "W_TINYLFU"
    evicts: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = W_TINYLFU_BYTES_PER_ENTRY
    adaptive: ClassVar[bool] = False

    def __init__(self, capacity: int = 0) -> None:
        super().__init__(capacity)
        self.table: dict[Key, bytes] = {}
        self._window: OrderedDict[Key, None] = OrderedDict()
        self._probation: OrderedDict[Key, None] = OrderedDict()
        self._protected: OrderedDict[Key, None] = OrderedDict()
        self._sketch = FrequencySketch(capacity)
        self._turned_away: OrderedDict[Key, None] = OrderedDict()
        """Adaptive: candidates the admission refused (a larger window would have kept them)."""
        self._evicted_main: OrderedDict[Key, None] = OrderedDict()
        """Adaptive: keys evicted from main (a larger main would have kept them)."""
        self._capacity = 0
        self._window_size = 0.0
        self._window_max = MIN_WINDOW
        self._main_max = 0
        self._protected_max = 0
        self._probation_max = 0
        self._ghost_max = 0
        self._victim: Key | None = None
        self._victim_frequency = 0
        self._victim_resets = 0
        if capacity:
            self._resize(capacity)

    # ------------------------------------------------------------------ sizing

    def _resize(self, capacity: int) -> None:
        """Adopt ``capacity`` entries: rescale the window, grow the sketch if needed."""
        if self._capacity:
            self._window_size *= capacity / self._capacity
        else:
            self._window_size = capacity * WINDOW_SHARE
        self._capacity = capacity
        self._ghost_max = int(capacity * GHOST_SHARE)
        if capacity > self._sketch.capacity:
            self._sketch = FrequencySketch(capacity)
        self._sketch.set_sample_size(capacity)
        self._set_window(self._window_size)

    def _set_window(self, size: float) -> None:
        """Split the capacity: ``size`` entries of window, the rest main (80 % protected)."""
        self._window_size = size
        self._window_max = max(MIN_WINDOW, int(size))
        self._main_max = max(self._capacity - self._window_max, 0)
        self._protected_max = int(self._main_max * PROTECTED_SHARE)
        self._probation_max = self._main_max - self._protected_max
        probation, protected = self._probation, self._protected
        while len(protected) > self._protected_max:
            probation[protected.popitem(last=False)[0]] = None

    # ------------------------------------------------------------------- hooks

    def on_insert(self, key: Key, expires_at: float) -> None:
        """Enter the window; count the key. Adaptive: a ghost hit moves the split."""
        if self.adaptive:
            if key in self._turned_away:
                del self._turned_away[key]
                self._set_window(min(self._window_size + WINDOW_STEP, self._capacity))
            elif key in self._evicted_main:
                del self._evicted_main[key]
                self._set_window(max(self._window_size - WINDOW_STEP, MIN_WINDOW))
        self._window[key] = None
        # FrequencySketch.increment, inlined.
        sketch = self._sketch
        h = hash(key)
        mask = sketch.mask
        row = sketch.low
        i = h & mask
        if row[i] < MAX_COUNT:
            row[i] += 1
        row = sketch.high
        i = (h >> HIGH_ROW_SHIFT) & mask
        if row[i] < MAX_COUNT:
            row[i] += 1
        sketch.countdown -= 1
        if not sketch.countdown:
            sketch.halve()

    def on_access(self, key: Key) -> None:
        """Count the read; refresh the LRU position, promoting probation to protected."""
        # FrequencySketch.increment, inlined.
        sketch = self._sketch
        h = hash(key)
        mask = sketch.mask
        row = sketch.low
        i = h & mask
        if row[i] < MAX_COUNT:
            row[i] += 1
        row = sketch.high
        i = (h >> HIGH_ROW_SHIFT) & mask
        if row[i] < MAX_COUNT:
            row[i] += 1
        sketch.countdown -= 1
        if not sketch.countdown:
            sketch.halve()
        protected = self._protected
        if key in protected:
            protected.move_to_end(key)
            return
        probation = self._probation
        if key in probation:
            del probation[key]
            protected[key] = None
            if len(protected) > self._protected_max:
                probation[protected.popitem(last=False)[0]] = None
            return
        self._window.move_to_end(key)

    def on_delete(self, key: Key) -> None:
        """Forget ``key`` (its counts stay in the sketch)."""
        for queue in (self._window, self._probation, self._protected):
            if key in queue:
                del queue[key]
                return
        raise KeyError(key)

    def victim(self) -> Key:
        """The loser of the window candidate's contest with main's victim (see the module)."""
        window, probation, protected = self._window, self._probation, self._protected
        in_window = len(window)
        in_main = len(probation) + len(protected)
        if in_window + in_main != self._capacity:
            capacity = learned_capacity(self._hint, in_window + in_main)
            if capacity != self._capacity:
                self._resize(capacity)
        if in_window >= self._window_max and in_main < self._main_max:
            in_window = self._fill_main()
        if in_window and in_window >= self._window_max:
            candidate = window.popitem(last=False)[0]
            main = probation or protected
            if main:
                victim = next(iter(main))
                sketch = self._sketch
                if victim is not self._victim or sketch.resets != self._victim_resets:
                    # Cached while the same key stays main's victim and no halving happens:
                    # only its own reads (which move it away) or a collision could change it.
                    self._victim = victim
                    self._victim_frequency = sketch.frequency(victim)
                    self._victim_resets = sketch.resets
                # FrequencySketch.frequency(candidate), inlined.
                h = hash(candidate)
                mask = sketch.mask
                frequency = min(sketch.low[h & mask], sketch.high[(h >> HIGH_ROW_SHIFT) & mask])
                if frequency > self._victim_frequency:
                    del main[victim]
                    probation[candidate] = None
                    if self.adaptive:
                        self._remember(self._evicted_main, victim)
                    return victim
            if self.adaptive:
                self._remember(self._turned_away, candidate)
            return candidate
        main = probation or protected
        if main:
            key = main.popitem(last=False)[0]
            if self.adaptive:
                self._remember(self._evicted_main, key)
            return key
        key = window.popitem(last=False)[0]
        if self.adaptive:
            self._remember(self._turned_away, key)
        return key

    def _remember(self, ghost: OrderedDict[Key, None], key: Key) -> None:
        """Append ``key`` to ``ghost``, dropping its oldest key beyond ``GHOST_SHARE``."""
        ghost[key] = None
        if len(ghost) > self._ghost_max:
            ghost.popitem(last=False)

    def _fill_main(self) -> int:
        """Move window candidates into main without a contest while main has room.

        Warm-up (libCacheSim's SLRU fills its lowest segment with room, so
        protected too), or after the window shrank. Returns the window's size.
        """
        window, probation, protected = self._window, self._probation, self._protected
        while len(window) >= self._window_max and len(probation) + len(protected) < self._main_max:
            candidate = window.popitem(last=False)[0]
            if len(probation) < self._probation_max or len(protected) >= self._protected_max:
                probation[candidate] = None
            else:
                protected[candidate] = None
        return len(window)


class WTinyLfuAdaptive(WTinyLfu):
    """W-TinyLFU whose window follows ghost hits, from 1 entry to the whole cache (LRU)."""

    name: ClassVar[str] = "W_TINYLFU_ADAPTIVE"
    per_entry_bytes: ClassVar[int] = W_TINYLFU_ADAPTIVE_BYTES_PER_ENTRY
    adaptive: ClassVar[bool] = True

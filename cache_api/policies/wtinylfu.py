"""W_TINYLFU and W_TINYLFU_ADAPTIVE: a window LRU before a segmented-LRU main, TinyLFU admission.

Algorithm (both): new entries enter a small LRU *window*. The rest of the
capacity is the *main* space, a segmented LRU: a read of an entry in its
*probation* segment promotes it to the *protected* segment, whose least
recently used entry is demoted back to probation's newest end when protected
overflows. A frequency counter (a sketch) estimates how often each key came
lately. When the cache is full, the window's least recently used entry is the
*candidate*: it enters main (probation) only if the sketch says it is more
frequent than main's *victim* (probation's least recently used entry, or
protected's if probation is empty); the loser is evicted, and a tie keeps the
victim. While main has room (warm-up), candidates enter it without a contest.

Source: Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache
Admission Policy", ACM TOS 2017; Caffeine's ``BoundedLocalCache``; and
libCacheSim's ``WTinyLFU.c`` / ``SLRU.c`` / ``minimalIncrementCBF.c``.

Why: admission by frequency keeps one-hit wonders and scans out of the main
space (loops such as ``gli``, search and database traffic), while the window
gives a new key time to build up a count.

W_TINYLFU is libCacheSim's ``WTinyLFU`` with its defaults
(``main-cache=SLRU,window-size=0.01``), decision for decision, so that the two
can be compared (``bench/hit_ratio.py``, ``tests/test_hit_ratio.py``):

- window ``int(1 % x capacity)`` entries (at least ``MIN_WINDOW``; libCacheSim
  has none below 100 entries and caches nothing), main the rest; probation
  ``int(0.2 x main)``, protected ``int(0.8 x main)`` (``seg-size=1:4``), each
  truncated, so they often sum to one entry less than main. libCacheSim's SLRU
  then, when a promotion demotes protected's LRU into a full probation, evicts
  probation's LRU on that *read*; here that entry is set aside and is the next
  victim (a read of it before then puts it back in the window, as the miss and
  re-insert would there), and the next candidate enters main free;
- the counter is libCacheSim's counting Bloom filter
  (``sketch.CountingBloomFilter``: 10 counters a key out of 14.38 per main
  entry), which counts every insert, every *main* hit (window hits are not
  counted) and each candidate once more after its contest or free entry, and
  is halved every ``DECAY_PERIOD_PER_ENTRY`` (32) x main-size main hits.

Measured against libCacheSim on the six traces: within 0.005 on every
comparable cell of the last full run (``bench/hit_ratio.md``). On the smallest
(``gli`` at 10 %, 252 entries) the hash function decides: the filter is sized
for main's entries but counts every key of the trace, so its estimates are
mostly collisions, and which keys collide depends on the hash (libCacheSim:
XXH64 of its object id; here: Python's salted ``hash``). Over seven hash seeds
the same code lands between +0.002 and +0.010 there.

W_TINYLFU_ADAPTIVE (the recommended policy) is Caffeine's design rather than
libCacheSim's: its sketch is ``sketch.FrequencySketch`` (4-bit count-min,
counting every read and every insert, halved every 10 x capacity counts),
protected ``PROTECTED_SHARE`` (80 %) of main, probation the rest; the window
starts at ``WINDOW_SHARE`` (1 %) and moves the split as ARC moves its target
(Megiddo & Modha, FAST 2003) rather than by Caffeine's hill climber: two ghosts
(``queues.GhostHashes``: each remembers, by hash, its last ``GHOST_SHARE`` x
capacity keys, a few of them lost early) remember the candidates the admission
turned away and the keys evicted from main. A miss on a key of
the first means the window was too small: it grows by ``WINDOW_STEP`` entry,
up to the whole cache (plain LRU). A miss on a key of the second shrinks it,
down to ``MIN_WINDOW``. Warm-up fills protected once probation is full.

Caffeine's hill climber (a sample of 10 x capacity requests, steps of 6.25 %)
was tried first: on these traces it moved too slowly to pay
(``bench/hit_ratio.md``); the ghosts react within a few hundred misses, and
let the window grow to the whole cache where recency wins. Caffeine's
random admission of frequent candidates (a defence against hash flooding) is
left out: the sketch hashes with the process's salted ``hash``.

On top of that split, each eviction of W_TINYLFU_ADAPTIVE follows one of two
experts, as ``hedge.Hedge`` shares them: *frequency* (the contest above) or
*recency* (the least recently used entry of the whole cache, kept by an
embedded ``lru.LRU`` over the entries' nodes). A miss on a key of either
ghost above is frequency's mistake; a miss on a key recency evicted (a third
ghost, ``RECENCY_GHOST_SHARE`` x capacity keys) is recency's. Why: the window
grows one entry per ghost hit, too slowly where recency wins from the moment
the cache fills (sprite at 10 %: 0.139 against LRU's 0.1352, the one case of
twelve where it lost to LRU); with the hedge it misses 0.1328-0.1347 there
over eleven hash seeds. What it costs: on w106 at 10 % the hedge follows
recency for long stretches and misses 0.079-0.082 (0.072 without it; LRU
0.0823), and the mean gap to the best libCacheSim policy went from -0.011 to
-0.006 (``bench/hit_ratio.md``).

Parameters: ``WINDOW_SHARE``, ``MIN_WINDOW``; W_TINYLFU: ``PROBATION_PARTS``,
``PROTECTED_PARTS``, ``SLRU_PARTS``, ``DECAY_PERIOD_PER_ENTRY`` and the
filter's (``sketch.CBF_*``); W_TINYLFU_ADAPTIVE: ``PROTECTED_SHARE``,
``GHOST_SHARE``, ``WINDOW_STEP``, ``RECENCY_GHOST_SHARE``, the sketch's and the
hedge's. Sizes are in entries (see ``capacity``).

Cost: on_insert, on_access, on_delete O(1); victim() O(1) amortized (one
contest; warm-up moves are paid by the inserts that filled the window).
W_TINYLFU: an insert, a main hit and a contest each touch 10 filter counters.
W_TINYLFU_ADAPTIVE: every read and insert costs a four-counter sketch
increment in one cache line and a use in the recency log. Compiled, both
counts are native loops over ``vec[u8]`` counters (``sketch``); the replay
speeds against LRU are in ``bench/hit_ratio.md``. The queues are lists of ``queues.NodeLists`` (see
``WindowedSlru``), which replaced three ``OrderedDict`` (2026-12-04: the same
decisions, 21-26 % fewer instructions per replayed request); an entry's node
is its handle, kept by the store in the entry (2026-12-05: 12 % fewer
instructions again, and 121 B less resident memory per entry under churn than
a key -> slot dict). Per entry: a node (five array cells, the key's hash one),
the handle's 4 bytes in the entry, and the counters (W_TINYLFU 14.4 bytes,
the adaptive variant 32-64), and for the adaptive variant the ghosts' cells
(8 bytes each, 4 to 8 per ghost key: 6.4 to 12.8 bytes per entry for the
window's two, 64 to 128 for recency's) and the recency log (``uselog``);
``per_entry_bytes`` is the measured total.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Final

from mypy_extensions import i64

from cache_api.policies.capacity import CapacityAware, learned_capacity
from cache_api.policies.hedge import Hedge
from cache_api.policies.lru import LRU
from cache_api.policies.queues import GhostHashes, NodeLists
from cache_api.policies.sketch import CountingBloomFilter, FrequencySketch

WINDOW_SHARE: Final = 0.01
"""Share of the capacity (in entries) for the admission window (libCacheSim's 1 %; the adaptive
variant's start, as Caffeine's)."""

PROTECTED_SHARE: Final = 0.80
"""W_TINYLFU_ADAPTIVE: share of the main space for the protected segment (Caffeine: 80 %)."""

MIN_WINDOW: Final = 1
"""Fewest entries in the window."""

GHOST_SHARE: Final = 0.10
"""Keys each ghost of the adaptive variant remembers (its last adds), per entry of capacity."""

RECENCY_GHOST_SHARE: Final = 2.0
"""Keys the adaptive variant's recency ghost remembers (its last adds), per entry of capacity:
recency is followed rarely, so its ghost looks further back."""

WINDOW_STEP: Final = 1.0
"""Entries the adaptive window grows or shrinks by on one ghost hit."""

PROBATION_PARTS, PROTECTED_PARTS, SLRU_PARTS = 1, 4, 5
"""W_TINYLFU's SLRU segments, libCacheSim's ``seg-size=1:4``: each truncated to whole entries."""

DECAY_PERIOD_PER_ENTRY: Final = 32
"""W_TINYLFU halves its filter every 32 x main-size main hits (libCacheSim's "sample size")."""

W_TINYLFU_BYTES_PER_ENTRY: Final = 76
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its
payload and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k
entries of 100 B, six turnovers, 2026-12-07, with the store's own table: 268 B per live
entry; 435 B on 2026-12-05 with a dict of key objects, 556 with a key -> slot dict in the policy
as well): queue nodes, the handle in the entry, the filter and allocator rounding."""

W_TINYLFU_ADAPTIVE_BYTES_PER_ENTRY: Final = 215
"""Measured likewise (407 B per live entry since the hedge's recency log and ghost, 2026-12-07;
305 before; 471 on 2026-12-05, 594 with a key -> slot dict), the ghosts included."""


class WindowedSlru(CapacityAware):
    """The queues both variants share: a window LRU, then main's probation and protected LRUs.

    Every entry has one node in ``_lists``, which the store keeps in the entry as
    its handle, in one of the queues, each a list of ``NodeLists`` whose
    sentinel tells which: a hit finds its queue with one array read, and a
    move between queues is a few native array writes. The queues' lengths
    are kept here, and each entry's key ``hash`` (from the store, which hashes
    every request's key once) in its node's ``value``: the frequency counts
    then hash no key at all (compiled, ``hash()`` boxes half of all hashes
    into a Python ``int``: measured, about 130 instructions a count).
    """

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        lists = self._lists = NodeLists()
        self._window: i64 = lists.new_list(0)
        self._probation: i64 = lists.new_list(0)
        self._protected: i64 = lists.new_list(0)
        self._in_window: i64 = 0
        self._in_probation: i64 = 0
        self._in_protected: i64 = 0
        self._in_other: i64 = 0
        """Entries in any other queue of a variant (W_TINYLFU's dropped entries)."""

    def _add(self, slot: i64, key_hash: i64, queue: i64) -> i64:
        """Queue the new entry at ``slot`` (its key's ``hash`` is ``key_hash``) as the newest
        of ``queue``; return its node."""
        node = self._lists.add(queue, slot, key_hash)
        self._count(queue, 1)
        return node

    def _move(self, node: i64, queue: i64) -> None:
        """Move ``node`` to the newest end of ``queue`` (the same queue or another)."""
        lists = self._lists
        self._count(lists.tag[node], -1)
        lists.move_to_newest(queue, node)
        self._count(queue, 1)

    def _drop(self, node: i64) -> i64:
        """Forget the entry at ``node``; return its slot."""
        lists = self._lists
        self._count(lists.tag[node], -1)
        return lists.remove(node)

    def _count(self, queue: i64, change: i64) -> None:
        """Add ``change`` to the length of ``queue``."""
        if queue == self._window:
            self._in_window += change
        elif queue == self._probation:
            self._in_probation += change
        elif queue == self._protected:
            self._in_protected += change
        else:
            self._in_other += change

    def on_delete(self, handle: i64) -> None:
        """Forget the entry (its counts stay in the sketch)."""
        self._drop(handle)

    def _demote_protected(self, protected_max: i64) -> None:
        """Move protected's least recently used entries to probation's newest end, down to
        ``protected_max``."""
        lists = self._lists
        while self._in_protected > protected_max:
            self._move(lists.oldest(self._protected), self._probation)


class WTinyLfuAdaptive(WindowedSlru):
    """W-TinyLFU whose window follows ghost hits and whose evictions follow recency or frequency
    as a hedge learns from their mistakes. O(1) amortized."""

    name: ClassVar[str] = "W_TINYLFU_ADAPTIVE"
    evicts: ClassVar[bool] = True
    keeps_handles: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = W_TINYLFU_ADAPTIVE_BYTES_PER_ENTRY

    def __init__(self, capacity: int = 0, hedge: Hedge | None = None) -> None:
        super().__init__(capacity)
        self._sketch = FrequencySketch(capacity)
        self._turned_away = GhostHashes(0)
        """Candidates the admission refused (a larger window would have kept them)."""
        self._evicted_main = GhostHashes(0)
        """Keys evicted from main (a larger main would have kept them)."""
        self._recency = LRU()
        """Every entry, by its node, in the order of use: the recency expert's choice."""
        self._hedge = hedge if hedge is not None else Hedge()
        self._by_recency = GhostHashes(0)
        """Keys the recency expert evicted (a mistake if one comes back)."""
        self._capacity = 0
        self._window_size = 0.0
        self._window_max: i64 = MIN_WINDOW
        self._main_max: i64 = 0
        self._protected_max: i64 = 0
        self._probation_max: i64 = 0
        self._victim: i64 = -1
        self._victim_hash: i64 = 0
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
        self._turned_away.resize(int(capacity * GHOST_SHARE))
        self._evicted_main.resize(int(capacity * GHOST_SHARE))
        self._by_recency.resize(int(capacity * RECENCY_GHOST_SHARE))
        if capacity > self._sketch.capacity:
            self._sketch = FrequencySketch(capacity)
        self._sketch.set_sample_size(capacity)
        self._set_window(self._window_size)

    def _set_window(self, size: float) -> None:
        """Split the capacity: ``size`` entries of window, the rest main (80 % protected)."""
        self._window_size = size
        window = max(MIN_WINDOW, int(size))
        main = max(self._capacity - window, 0)
        protected = int(main * PROTECTED_SHARE)
        self._window_max, self._main_max = window, main
        self._protected_max, self._probation_max = protected, main - protected
        self._demote_protected(self._protected_max)

    # ------------------------------------------------------------------- hooks

    def on_insert(self, slot: i64, key_hash: i64, expires_at: float) -> i64:
        """Enter the window; count the key. A ghost hit moves the split or teaches the hedge."""
        if self._by_recency.take(key_hash):
            self._hedge.recency_erred()
        elif self._turned_away.take(key_hash):
            self._hedge.frequency_erred()
            self._set_window(min(self._window_size + WINDOW_STEP, self._capacity))
        elif self._evicted_main.take(key_hash):
            self._hedge.frequency_erred()
            self._set_window(max(self._window_size - WINDOW_STEP, MIN_WINDOW))
        self._sketch.increment_hash(key_hash)
        node = self._add(slot, key_hash, self._window)
        self._recency.on_insert(node, key_hash, expires_at)
        return node

    def on_delete(self, handle: i64) -> None:
        """Forget the entry (its counts stay in the sketch)."""
        self._recency.on_delete(handle)
        self._drop(handle)

    def on_access(self, handle: i64) -> None:
        """Count the read; refresh the LRU position, promoting probation to protected."""
        lists = self._lists
        node = handle
        self._sketch.increment_hash(lists.value[node])
        self._recency.on_access(node)
        queue = lists.tag[node]
        if queue != self._probation:
            lists.move_to_newest(queue, node)
            return
        self._move(node, self._protected)
        self._demote_protected(self._protected_max)

    def victim(self) -> i64:
        """The loser of the window candidate's contest with main's victim (see the module)."""
        lists = self._lists
        in_window = self._in_window
        in_main = self._in_probation + self._in_protected
        if in_window + in_main != self._capacity:
            capacity = learned_capacity(self._hint, int(in_window + in_main))
            if capacity != self._capacity:
                self._resize(capacity)
        if in_window >= self._window_max and in_main < self._main_max:
            in_window = self._fill_main()
        main = self._probation if self._in_probation else self._protected
        if in_window and in_window >= self._window_max:
            candidate_node = lists.oldest(self._window)
            if not lists.is_empty(main):
                if self._hedge.choose_recency():
                    node = self._recency.victim()
                    self._by_recency.add(lists.value[node])
                    return self._drop(node)
                victim_node = lists.oldest(main)
                victim_hash = lists.value[victim_node]
                sketch = self._sketch
                if (
                    victim_node != self._victim
                    or victim_hash != self._victim_hash
                    or sketch.resets != self._victim_resets
                ):
                    # Cached while the same entry stays main's victim and no halving happens:
                    # only its own reads (which move it away) or a collision could change it.
                    self._victim, self._victim_hash = victim_node, victim_hash
                    self._victim_frequency = sketch.frequency_of_hash(victim_hash)
                    self._victim_resets = sketch.resets
                if sketch.frequency_of_hash(lists.value[candidate_node]) > self._victim_frequency:
                    victim = self._evict(victim_node, self._evicted_main)
                    self._move(candidate_node, self._probation)
                    return victim
            return self._evict(candidate_node, self._turned_away)
        if not lists.is_empty(main):
            return self._evict(lists.oldest(main), self._evicted_main)
        return self._evict(lists.oldest(self._window), self._turned_away)

    def _evict(self, node: i64, ghost: GhostHashes) -> i64:
        """Forget the entry at ``node``, remembering its key in ``ghost``; return its slot."""
        ghost.add(self._lists.value[node])
        self._recency.on_delete(node)
        return self._drop(node)

    def _fill_main(self) -> i64:
        """Move window candidates into main without a contest while main has room.

        Warm-up (libCacheSim's SLRU fills its lowest segment with room, so
        protected too), or after the window shrank. Returns the window's size.
        """
        lists = self._lists
        while (
            self._in_window >= self._window_max
            and self._in_probation + self._in_protected < self._main_max
        ):
            candidate = lists.oldest(self._window)
            if (
                self._in_probation < self._probation_max
                or self._in_protected >= self._protected_max
            ):
                self._move(candidate, self._probation)
            else:
                self._move(candidate, self._protected)
        return self._in_window


class WTinyLfu(WindowedSlru):
    """libCacheSim's ``WTinyLFU`` (defaults: 1 % window, SLRU main 1:4, counting Bloom filter).

    ``counts`` makes the filter for a main area of that many entries; tests
    pass one large enough to count without collisions, to work traces by hand.
    """

    name: ClassVar[str] = "W_TINYLFU"
    evicts: ClassVar[bool] = True
    keeps_handles: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = W_TINYLFU_BYTES_PER_ENTRY

    def __init__(
        self, capacity: int = 0, counts: Callable[[int], CountingBloomFilter] = CountingBloomFilter
    ) -> None:
        super().__init__(capacity)
        self._counts = counts
        self._dropped: i64 = self._lists.new_list(0)
        """Probation entries libCacheSim's SLRU evicts on a read (see the module): next victims,
        counted in ``_in_other``."""
        self._capacity = 0
        self._window_max: i64 = 1
        self._main_max: i64 = 0
        self._probation_max: i64 = 0
        self._protected_max: i64 = 0
        self._filter = counts(0)
        self._hits_left = 1
        if capacity:
            self._resize(capacity)

    def _resize(self, capacity: int) -> None:
        """Split ``capacity`` entries as libCacheSim does (integer truncations included)."""
        self._capacity = capacity
        window = max(int(capacity * WINDOW_SHARE), MIN_WINDOW)
        main = max(capacity - window, 0)
        self._window_max, self._main_max = window, main
        self._probation_max = int(PROBATION_PARTS / SLRU_PARTS * main)
        self._protected_max = int(PROTECTED_PARTS / SLRU_PARTS * main)
        self._filter = self._counts(main)
        self._hits_left = DECAY_PERIOD_PER_ENTRY * max(main, 1)
        self._demote_protected(self._protected_max)

    def on_insert(self, slot: i64, key_hash: i64, expires_at: float) -> i64:
        """Enter the window; count the key."""
        self._filter.add_hash(key_hash)
        return self._add(slot, key_hash, self._window)

    def on_access(self, handle: i64) -> None:
        """A main hit is counted and promotes; a window hit only refreshes its LRU position."""
        lists = self._lists
        node = handle
        queue = lists.tag[node]
        if queue == self._window:
            lists.move_to_newest(queue, node)
            return
        if queue == self._protected:
            lists.move_to_newest(queue, node)
        elif queue == self._probation:
            self._move(node, self._protected)
            if self._in_protected > self._protected_max:
                self._move(lists.oldest(self._protected), self._probation)
                if self._in_probation > self._probation_max:
                    self._move(lists.oldest(self._probation), self._dropped)
        else:
            # Dropped from main by libCacheSim: its read is a miss there and re-inserts.
            self._move(node, self._window)
            self._filter.add_hash(lists.value[node])
            return
        self._filter.add_hash(lists.value[node])
        self._hits_left -= 1
        if not self._hits_left:
            self._hits_left = DECAY_PERIOD_PER_ENTRY * max(int(self._main_max), 1)
            self._filter.decay()

    def _enter_main(self, node: i64) -> None:
        """libCacheSim's ``SLRU_insert``: the lowest segment with room, else probation."""
        if self._in_probation < self._probation_max or self._in_protected >= self._protected_max:
            self._move(node, self._probation)
        else:
            self._move(node, self._protected)

    def victim(self) -> i64:
        """libCacheSim's ``WTinyLFU_evict``: the window's LRU enters main or contests its victim."""
        lists = self._lists
        if self._in_other:
            return self._drop(lists.oldest(self._dropped))
        live = self._in_window + self._in_probation + self._in_protected
        if live != self._capacity:
            capacity = learned_capacity(self._hint, int(live))
            if capacity != self._capacity:
                self._resize(capacity)
        cbf = self._filter
        hashes = lists.value
        while self._in_window:
            candidate_node = lists.oldest(self._window)
            candidate_hash = hashes[candidate_node]
            if self._in_probation + self._in_protected < self._main_max:
                self._enter_main(candidate_node)  # main has room: in without a contest
                cbf.add_hash(candidate_hash)
                continue
            main = self._probation if self._in_probation else self._protected
            if lists.is_empty(main):  # no main space at all (capacity 1): the window is the cache
                cbf.add_hash(candidate_hash)
                return self._drop(candidate_node)
            victim_node = lists.oldest(main)
            victim_count = cbf.estimate_hash(hashes[victim_node])
            if cbf.add_hash(candidate_hash) > victim_count:  # the candidate's count before this add
                victim = self._drop(victim_node)
                self._enter_main(candidate_node)
                return victim
            return self._drop(candidate_node)
        main = self._probation if self._in_probation else self._protected
        return self._drop(lists.oldest(main))

"""Expiry: an index of when entries expire, and the bounded active-expiry cycle.

Expiry index: a timing wheel of one-second buckets
---------------------------------------------------
What: entries with a finite TTL have their slot (``table``) appended to the
bucket of the second in which they expire,
``floor(expires_at / EXPIRY_BUCKET_SECONDS)``. A min-heap holds the bucket
numbers. ``pop_expired(now)`` yields slots whose entries have expired, in
expiry order, until none is left at ``now``.

Why: a write can only lose a slot to eviction once no expired entry is left,
so the store must find *an* expired entry in O(1) whenever one exists, and the
active cycle must reclaim entries that are never read again. Redis samples
random keys instead; the wheel is exact where sampling only estimates. A heap
of (time, key) pairs is exact too, but costs about 70 bytes per entry; a
bucket reference is a 4-byte slot in a native array.

How: TTLs are whole seconds, so a write at ``now`` expires at least one second
later and never lands in the bucket containing ``now``. The oldest bucket is
therefore closed once ``now`` has reached it; it is then sorted once by expiry
and drained from its earliest end. A live entry's reference may sit in an
earlier bucket than its expiry, never a later one: an overwrite that keeps or
extends the expiry (a client refreshing a TTL) files nothing, and the drain
moves the reference on to the entry's own second when it meets it there, as a
hierarchical timing wheel cascades. An overwrite that shortens the expiry files
a new reference; deletes and those overwrites leave stale references behind,
which the drain skips (the slot is free, or its entry expires before the
bucket; a reused slot's new entry is judged by its own expiry). When
references exceed ``COMPACT_STALE_FACTOR`` times the live entries, the store
rebuilds the wheel, so stale memory stays bounded.

Cost: O(1) to add, and nothing for a write that keeps or extends a live
entry's expiry; O(1) to move a reference on; O(log b) per bucket opened, for b
buckets; O(k log k) once per bucket of k keys when it opens, i.e. O(log k)
amortized per key; 4 bytes per volatile entry plus about 100 bytes per
non-empty second.

Active expiry cycle
-------------------
What: every ``ACTIVE_EXPIRE_TICK_SECONDS`` the server calls ``tick()``, which
reclaims expired entries in loops of ``ACTIVE_EXPIRE_KEYS_PER_LOOP``, reading
the clock after each loop, and stops when nothing more has expired, after
``ACTIVE_EXPIRE_MAX_KEYS_PER_TICK`` keys, or at ``ACTIVE_EXPIRE_BUDGET_SECONDS``.
This is Redis's ``activeExpireCycle`` (expire.c) with the wheel in place of
random sampling, so "repeat while the sampled stale ratio is high" becomes
"repeat while the wheel still has expired keys". A backlog larger than one
tick's budget drains over several ticks, and ``time_cap_reached`` counts the
ticks that hit the budget, as Redis's ``expired_time_cap_reached_count`` does.

Cost: at most ``ACTIVE_EXPIRE_BUDGET_SECONDS`` of every tick (2.5 % of one core
at the defaults), and nothing when no entry has expired.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Final, Protocol

from librt.vecs import append, vec
from mypy_extensions import i32, i64

from cache_api.types import FOREVER, Clock

EXPIRY_BUCKET_SECONDS: Final = 1.0
"""Width of one wheel bucket, in seconds; must not exceed the smallest TTL (1 s)."""

COMPACT_STALE_FACTOR: Final = 2
"""Rebuild the wheel when its references exceed this many times the stored entries."""

COMPACT_MIN_REFS: Final = 1024
"""Never rebuild a wheel holding fewer references than this."""

ACTIVE_EXPIRE_TICK_SECONDS: Final = 0.1
"""How often the server runs one active-expiry tick (10 Hz, Redis's default ``hz``)."""

ACTIVE_EXPIRE_KEYS_PER_LOOP: Final = 20
"""Keys reclaimed between two clock reads (Redis's ``ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP``)."""

ACTIVE_EXPIRE_MAX_KEYS_PER_TICK: Final = 20_000
"""Most keys one tick may reclaim, whatever the clock says."""

ACTIVE_EXPIRE_BUDGET_SECONDS: Final = 0.0025
"""Most time one tick may spend, in seconds (2.5 ms of each 100 ms tick)."""

STALE_RATIO_SMOOTHING: Final = 0.05
"""Weight of the newest tick in the smoothed stale-ratio estimate (an EMA)."""

ExpiryOf = Callable[[int], float | None]
"""The current ``expires_at`` of the entry at a slot, or None if the slot is free."""


def _sort_latest_first(slots: list[int], expiry_of: ExpiryOf) -> None:
    """Sort ``slots`` by their entries' expiry, latest first (free slots last).

    A function of its own so that only the sort pays for its closure: compiled, a
    nested function's environment is built on every call of the function holding it.
    """

    def latest_first(slot: int) -> float:
        expires_at = expiry_of(slot)
        return -math.inf if expires_at is None else expires_at

    slots.sort(key=latest_first, reverse=True)


def bucket_of(expires_at: float) -> int:
    """The wheel bucket that an expiry time falls in."""
    return math.floor(expires_at / EXPIRY_BUCKET_SECONDS)


class ExpiryWheel:
    """Which slots expire when: a timing wheel of one-second buckets (see the module notes)."""

    def __init__(self) -> None:
        self._buckets: dict[int, vec[i32]] = {}
        self._heap: list[int] = []
        self._open: list[int] = []
        self._open_start = self._open_end = 0.0
        self.refs = 0
        """References held, stale ones included."""

    def clear(self) -> None:
        """Forget every reference (before a rebuild)."""
        self._buckets.clear()
        self._heap.clear()
        self._open = []
        self._open_start = self._open_end = 0.0
        self.refs = 0

    def add(self, slot: i64, expires_at: float, replaced: float | None = None) -> None:
        """Remember that the entry at ``slot`` expires at ``expires_at`` (finite).

        ``replaced`` is the ``expires_at`` of the live entry this write replaced
        at the same slot, if any: when it is no later than ``expires_at``, the
        reference filed for it (in its bucket or an earlier one) stands for the
        new entry too, and the drain moves it on (see the module notes).
        """
        if replaced is not None and replaced <= expires_at and not math.isinf(replaced):
            return
        self._file(slot, bucket_of(expires_at))
        self.refs += 1

    def _file(self, slot: i64, bucket: int) -> None:
        slots = self._buckets.get(bucket)
        if slots is None:
            slots = vec[i32]()
            heapq.heappush(self._heap, bucket)
        self._buckets[bucket] = append(slots, i32(slot))

    def pop_expired(self, now: float, expiry_of: ExpiryOf) -> int | None:
        """The slot of an entry expired at ``now``, earliest first, or None if none is."""
        while True:
            if not self._open and not self._open_next(now, expiry_of):
                return None
            slot = self._open[-1]
            expires_at = expiry_of(slot)
            if expires_at is not None and expires_at >= self._open_end and expires_at != FOREVER:
                self._open.pop()
                self._file(slot, bucket_of(expires_at))
                continue
            if expires_at is None or not self._open_start <= expires_at < self._open_end:
                self._open.pop()
                self.refs -= 1
                continue
            if expires_at > now:
                return None
            self._open.pop()
            self.refs -= 1
            return slot

    def due(self, now: float) -> bool:
        """Whether ``pop_expired(now)`` may find a slot: a bucket is open or ``now`` reached one."""
        if self._open:
            return True
        return bool(self._heap) and self._heap[0] * EXPIRY_BUCKET_SECONDS <= now

    def _open_next(self, now: float, expiry_of: ExpiryOf) -> bool:
        """Open the oldest bucket if ``now`` has reached it: sort it, latest expiry first."""
        if not self._heap or self._heap[0] * EXPIRY_BUCKET_SECONDS > now:
            return False
        bucket = heapq.heappop(self._heap)
        slots = [int(slot) for slot in self._buckets.pop(bucket)]
        _sort_latest_first(slots, expiry_of)
        self._open = slots
        self._open_start = bucket * EXPIRY_BUCKET_SECONDS
        self._open_end = self._open_start + EXPIRY_BUCKET_SECONDS
        return True

    def needs_compaction(self, entries: int) -> bool:
        """Whether stale references have piled up past ``COMPACT_STALE_FACTOR``."""
        return self.refs > COMPACT_MIN_REFS and self.refs > COMPACT_STALE_FACTOR * entries


class Expirable(Protocol):
    """What the active cycle needs of a store."""

    def expire_due(self, now: float, limit: int) -> int:
        """Reclaim up to ``limit`` expired entries; return how many."""
        ...


class ActiveExpireCycle:
    """Reclaims expired entries in bounded ticks, in the manner of Redis's expire cycle."""

    def __init__(
        self,
        store: Expirable,
        clock: Clock,
        *,
        keys_per_loop: int = ACTIVE_EXPIRE_KEYS_PER_LOOP,
        max_keys_per_tick: int = ACTIVE_EXPIRE_MAX_KEYS_PER_TICK,
        budget_seconds: float = ACTIVE_EXPIRE_BUDGET_SECONDS,
    ) -> None:
        self._store = store
        self._clock = clock
        self._keys_per_loop = keys_per_loop
        self._max_keys = max_keys_per_tick
        self._budget = budget_seconds
        self.ticks = 0
        self.time_cap_reached = 0
        self.key_cap_reached = 0
        self.stale_ratio = 0.0
        """Smoothed share of each tick's key budget that was spent on expired keys."""

    def tick(self) -> int:
        """Run one bounded cycle; return how many entries it reclaimed."""
        start = now = self._clock()
        deadline = start + self._budget
        reclaimed = 0
        while True:
            wanted = min(self._keys_per_loop, self._max_keys - reclaimed)
            batch = self._store.expire_due(now, wanted)
            reclaimed += batch
            if batch < wanted:
                break
            if reclaimed >= self._max_keys:
                self.key_cap_reached += 1
                break
            if self._clock() >= deadline:
                self.time_cap_reached += 1
                break
        self.ticks += 1
        share = reclaimed / self._max_keys
        self.stale_ratio += STALE_RATIO_SMOOTHING * (share - self.stale_ratio)
        return reclaimed

"""VOLATILE_TTL: evict the entry nearest its expiry first; entries without a TTL go last.

Algorithm: entries with a TTL are filed by the second in which they expire;
the victim is the earliest-filed live entry of the earliest second (the store
has already reclaimed the expired ones before it asks). Within one second the
order is the order of writes, so the victim expires at most
``EXPIRY_BUCKET_SECONDS`` after the true earliest. Entries stored with
``ttl=0`` (``expires_at`` is ``types.FOREVER``) are evicted only when no entry
with a TTL is left, least recently used first.

Source: Redis's ``volatile-ttl`` maxmemory policy (``evict.c``), which picks
the shortest remaining TTL among a sample of keys that have one. Redis refuses
the write (OOM) when no key has a TTL; here such keys go last instead, by LRU,
so a full cache still accepts writes. Redis is approximate by sampling; this is
approximate only within a second.

Why: where TTLs say how long a value stays useful, the entry closest to expiry
has the least life left to serve hits; evicting it loses the fewest future
hits, and never touches entries the client asked to keep.

How: a dict of live keys to their ``expires_at``, a list of keys per expiry
second (``deque``), and a min-heap of the seconds that have a list. A delete
or overwrite only drops the dict entry; the stale reference is skipped when
its second comes up. When references outnumber live keys by
``COMPACT_STALE_FACTOR``, the lists are rebuilt. Keys without TTL are kept by
an ``lru.LRU`` (its log of uses, until 2026-12-06 an ``OrderedDict``): its slot
plus one is the entry's handle, and handle 0 marks an entry with a TTL. (The
store's ``expiry.ExpiryWheel`` is the same idea as the buckets, but policies
may not import it: it sits in the same layer.)

Parameters: ``EXPIRY_BUCKET_SECONDS``, ``COMPACT_STALE_FACTOR``, ``COMPACT_MIN_REFS``.

Cost: on_insert O(1), plus O(log b) when it opens one of b seconds, plus an
O(n) rebuild after at least n stale references (amortized O(1)); on_access
and on_delete O(1); victim() O(1) amortized (each stale reference is skipped
once) plus O(log b) per second emptied. Per entry with a TTL: a dict slot and
a list reference; without: ``LRU``'s slot and log records; either: the handle
in the entry. ``per_entry_bytes`` is the
measured figure with every entry volatile.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from typing import ClassVar, Final

from mypy_extensions import i64

from cache_api.policies.lru import LRU
from cache_api.types import FOREVER, Key, Policy

EXPIRY_BUCKET_SECONDS: Final = 1.0
"""Width of one expiry bucket, in seconds: the precision of "nearest expiry"."""

COMPACT_STALE_FACTOR: Final = 2
"""Rebuild the buckets when their references exceed this many times the live TTL keys."""

COMPACT_MIN_REFS: Final = 1024
"""Never rebuild buckets holding fewer references than this."""

VOLATILE_TTL_BYTES_PER_ENTRY: Final = 283
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k entries
of 100 B with a TTL, six turnovers, 2026-12-06: 523 B per live entry, since the entry carries
a 4-byte handle, which here took the entry into the next 16-byte allocator class; 507 B on
2026-12-05 without it; 466 on 2026-11-29, when it was first charged this way). Its bookkeeping
alone (tracemalloc, ``bench/hit_ratio.py``, TTLs over 1000 seconds) is about 145 B; the rest is
allocator rounding and hash-table room under churn."""


def _second(expires_at: float) -> int:
    return math.floor(expires_at / EXPIRY_BUCKET_SECONDS)


class VolatileTtl(Policy):
    """Soonest expiry first (to the second); entries without TTL last, by LRU."""

    name: ClassVar[str] = "VOLATILE_TTL"
    evicts: ClassVar[bool] = True
    keeps_handles: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = VOLATILE_TTL_BYTES_PER_ENTRY

    def __init__(self) -> None:
        super().__init__()
        self._expires: dict[Key, float] = {}
        self._buckets: dict[int, deque[Key]] = {}
        self._seconds: list[int] = []
        self._refs = 0
        self._forever = LRU()
        """Keys without TTL; their handles are its slots plus one."""

    def on_insert(self, key: Key, expires_at: float) -> i64:
        """File ``key`` under its expiry second, or append it to the no-TTL LRU list."""
        if expires_at == FOREVER:
            return self._forever.on_insert(key, expires_at) + 1
        self._expires[key] = expires_at
        self._file(key, expires_at)
        if self._refs > COMPACT_MIN_REFS and self._refs > COMPACT_STALE_FACTOR * len(self._expires):
            self._buckets.clear()
            self._seconds.clear()
            self._refs = 0
            for live_key, live_expiry in self._expires.items():
                self._file(live_key, live_expiry)
        return 0

    def _file(self, key: Key, expires_at: float) -> None:
        second = _second(expires_at)
        bucket = self._buckets.get(second)
        if bucket is None:
            bucket = self._buckets[second] = deque()
            heapq.heappush(self._seconds, second)
        bucket.append(key)
        self._refs += 1

    def on_access(self, key: Key, handle: i64) -> None:
        """A read refreshes only the LRU position of an entry without TTL."""
        if handle:
            self._forever.on_access(key, handle - 1)

    def on_delete(self, key: Key, handle: i64) -> None:
        """Forget ``key``; a bucket reference to it becomes stale and is skipped later."""
        if handle:
            self._forever.on_delete(key, handle - 1)
        else:
            del self._expires[key]

    def victim(self) -> Key:
        """The first live key of the earliest second; without any, the least recently used."""
        expires, buckets, seconds = self._expires, self._buckets, self._seconds
        while expires:
            second = seconds[0]
            bucket = buckets[second]
            while bucket:
                key = bucket.popleft()
                self._refs -= 1
                expires_at = expires.get(key)
                if expires_at is not None and _second(expires_at) == second:
                    del expires[key]
                    if not bucket:
                        del buckets[second]
                        heapq.heappop(seconds)
                    return key
            del buckets[second]
            heapq.heappop(seconds)
        return self._forever.victim()

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

How: each slot's ``expires_at`` in a native array (``FOREVER`` for an entry
without TTL, ``GONE`` once it left), a list of slots per expiry second
(``deque``), and a min-heap of the seconds that have a list. A delete or
overwrite only marks the slot; the stale reference is skipped when its second
comes up (a reused slot is judged by its new entry's expiry). When references
outnumber live entries with a TTL by ``COMPACT_STALE_FACTOR``, the lists are
rebuilt. Entries without TTL are kept by an ``lru.LRU`` (its log of uses,
until 2026-12-06 an ``OrderedDict``) under the same slots. (The store's
``expiry.ExpiryWheel`` is the same idea as the buckets, but policies may not
import it: it sits in the same layer.)

Parameters: ``EXPIRY_BUCKET_SECONDS``, ``COMPACT_STALE_FACTOR``, ``COMPACT_MIN_REFS``.

Cost: on_insert O(1), plus O(log b) when it opens one of b seconds, plus an
O(n) rebuild after at least n stale references (amortized O(1)); on_access
and on_delete O(1); victim() O(1) amortized (each stale reference is skipped
once) plus O(log b) per second emptied. Per entry: 8 bytes of expiry; with a
TTL, a list reference and its ``int``; without, ``LRU``'s position and log
records. ``per_entry_bytes`` is the measured figure with every entry volatile.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from typing import ClassVar, Final

from librt.vecs import append, vec
from mypy_extensions import i64

from cache_api.policies.lru import LRU
from cache_api.types import FOREVER, Policy

EXPIRY_BUCKET_SECONDS: Final = 1.0
"""Width of one expiry bucket, in seconds: the precision of "nearest expiry"."""

COMPACT_STALE_FACTOR: Final = 2
"""Rebuild the buckets when their references exceed this many times the live TTL entries."""

COMPACT_MIN_REFS: Final = 1024
"""Never rebuild buckets holding fewer references than this."""

VOLATILE_TTL_BYTES_PER_ENTRY: Final = 71
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k entries
of 100 B with a TTL, six turnovers, 2026-12-07, with the store's own table and the policy's
arrays by slot: 263 B per live entry; 523 B on 2026-12-06 with a dict of key objects and a
dict of keys in the policy; 466 on 2026-11-29, when it was first charged this way): the
expiry per slot, the bucket reference and its ``int``, allocator rounding."""


def _second(expires_at: float) -> int:
    return math.floor(expires_at / EXPIRY_BUCKET_SECONDS)


GONE: Final = -1.0
"""A slot's expiry once its entry left (or before one came)."""


class VolatileTtl(Policy):
    """Soonest expiry first (to the second); entries without TTL last, by LRU."""

    name: ClassVar[str] = "VOLATILE_TTL"
    evicts: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = VOLATILE_TTL_BYTES_PER_ENTRY

    def __init__(self) -> None:
        super().__init__()
        self._expires: vec[float] = vec[float]()
        """Per slot: its entry's ``expires_at``, ``FOREVER`` (kept by ``_forever``) or ``GONE``."""
        self._with_ttl: i64 = 0
        """Live entries with a TTL."""
        self._buckets: dict[int, deque[int]] = {}
        self._seconds: list[int] = []
        self._refs = 0
        self._forever = LRU()
        """Entries without TTL, by the same slots."""

    def on_insert(self, slot: i64, key_hash: i64, expires_at: float) -> i64:
        """File the entry under its expiry second, or append it to the no-TTL LRU list."""
        expires = self._expires
        while len(expires) <= slot:
            expires = append(expires, GONE)
        self._expires = expires
        expires[slot] = expires_at
        if expires_at == FOREVER:
            self._forever.on_insert(slot, key_hash, expires_at)
            return 0
        self._with_ttl += 1
        self._file(slot, expires_at)
        if self._refs > COMPACT_MIN_REFS and self._refs > COMPACT_STALE_FACTOR * self._with_ttl:
            self._buckets.clear()
            self._seconds.clear()
            self._refs = 0
            for live_slot in range(len(expires)):
                live_expiry = expires[live_slot]
                if live_expiry not in (GONE, FOREVER):
                    self._file(live_slot, live_expiry)
        return 0

    def _file(self, slot: i64, expires_at: float) -> None:
        second = _second(expires_at)
        bucket = self._buckets.get(second)
        if bucket is None:
            bucket = self._buckets[second] = deque()
            heapq.heappush(self._seconds, second)
        bucket.append(int(slot))
        self._refs += 1

    def on_access(self, handle: i64) -> None:
        """A read refreshes only the LRU position of an entry without TTL."""
        if self._expires[handle] == FOREVER:
            self._forever.on_access(handle)

    def on_delete(self, handle: i64) -> None:
        """Forget the entry; a bucket reference to it becomes stale and is skipped later."""
        expires = self._expires
        if expires[handle] == FOREVER:
            self._forever.on_delete(handle)
        else:
            self._with_ttl -= 1
        expires[handle] = GONE

    def victim(self) -> i64:
        """The first live entry of the earliest second; without any, the least recently used."""
        expires, buckets, seconds = self._expires, self._buckets, self._seconds
        while self._with_ttl:
            second = seconds[0]
            bucket = buckets[second]
            while bucket:
                slot = bucket.popleft()
                self._refs -= 1
                expires_at = expires[slot]
                if expires_at not in (GONE, FOREVER) and _second(expires_at) == second:
                    expires[slot] = GONE
                    self._with_ttl -= 1
                    if not bucket:
                        del buckets[second]
                        heapq.heappop(seconds)
                    return slot
            del buckets[second]
            heapq.heappop(seconds)
        slot = self._forever.victim()
        self._expires[slot] = GONE
        return slot

"""The in-process store: entries, capacity, accounting, expiry and counters.

It knows nothing of HTTP. Every method takes ``now`` (monotonic seconds, read
once per request by the caller), so a request sees one instant and tests drive
time by hand. It is not thread-safe by design: the server touches it only from
its event-loop thread, as Redis does from its main thread.

Capacity is by count (``NUMBER_OF_SLOTS``, 0 = no limit) and by accounted bytes
(``MAX_MEMORY``, 0 = no limit). A write that does not fit first reclaims
expired entries, earliest first; only when none is left does it ask the
policy (``EVICTION_POLICY``) for victims, or refuse if the policy never evicts.
An entry larger than the whole byte capacity is refused before anything is
evicted.

Cost: get, put and delete are O(1) plus the policy's O(1) hooks, amortized
over the expiry wheel (see ``expiry``) and over the evictions a write needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from cache_api.expiry import ExpiryWheel
from cache_api.types import FOREVER, Entry, Key, Policy, PutResult

ENTRY_OVERHEAD_BYTES = 200
"""Bytes one entry costs beyond its key, value and Content-Type lengths.

Measured as resident memory by ``bench/entry_overhead.py``: 1 M entries of
100-byte values with a TTL and the default Content-Type (shared between
entries, yet charged to each) grew RSS by 202 bytes per entry beyond those
lengths: the dict slot, the ``Entry`` object, the ``bytes`` headers of key and
value, the expiry float and the wheel reference, with pymalloc's rounding. The
policy's own bookkeeping is added on top (``Policy.per_entry_bytes``).
"""


def entry_size(key: Key, value: bytes, content_type: bytes, overhead: int) -> int:
    """The accounted bytes of one entry: the one size function."""
    return len(key) + len(value) + len(content_type) + overhead


@dataclass(frozen=True, slots=True)
class StoreStats:
    """A snapshot of the store's counters."""

    items: int
    bytes: int
    max_items: int
    max_bytes: int
    hits: int
    misses: int
    sets: int
    deletes: int
    evictions: int
    expirations: int
    rejected_writes: int


class Store:
    """Objects by key, with TTLs, capacity by count and bytes, and an eviction policy."""

    def __init__(self, policy: Policy, *, max_items: int = 0, max_bytes: int = 0) -> None:
        self._data: dict[Key, Entry] = {}
        self._policy = policy
        self._on_access = policy.on_access
        self._wheel = ExpiryWheel()
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._overhead = ENTRY_OVERHEAD_BYTES + policy.per_entry_bytes
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.sets = 0
        self.deletes = 0
        self.evictions = 0
        self.expirations = 0
        self.rejected_writes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def policy(self) -> Policy:
        """The eviction policy in use."""
        return self._policy

    def get(self, key: Key, now: float) -> Entry | None:
        """The live entry at ``key``, or None if it is missing or expired (and then reclaimed)."""
        entry = self._data.get(key)
        if entry is not None:
            if now < entry.expires_at:
                self.hits += 1
                self._on_access(key)
                return entry
            self._expire(key, entry)
        self.misses += 1
        return None

    def put(self, key: Key, value: bytes, content_type: bytes, ttl: int, now: float) -> PutResult:
        """Store ``value`` at ``key`` for ``ttl`` whole seconds (0 = forever).

        Returns ``STORED``, ``REJECTED_FULL`` (no room, the policy never evicts;
        an old value at ``key`` is kept) or ``TOO_LARGE`` (larger than ``MAX_MEMORY``).
        """
        size = entry_size(key, value, content_type, self._overhead)
        if self._max_bytes and size > self._max_bytes:
            self.rejected_writes += 1
            return PutResult.TOO_LARGE
        old = self._data.get(key)
        if old is not None and old.expires_at <= now:
            self._expire(key, old)
            old = None
        old_size = 0 if old is None else self._size_of(key, old)
        new_items = 0 if old is not None else 1
        if not self._fits(new_items, size - old_size):
            self._reclaim_expired(now, new_items, size - old_size)
            if not self._policy.evicts and not self._fits(new_items, size - old_size):
                self.rejected_writes += 1
                return PutResult.REJECTED_FULL
        if old is not None:
            self._unlink(key, old)
        while not self._fits(1, size):
            victim = self._policy.victim()
            self._bytes -= self._size_of(victim, self._data.pop(victim))
            self.evictions += 1
        expires_at = now + ttl if ttl else FOREVER
        entry = Entry(value, content_type, expires_at)
        self._data[key] = entry
        self._bytes += size
        self._policy.on_insert(key, entry)
        if ttl:
            self._wheel.add(key, expires_at)
            if self._wheel.needs_compaction(len(self._data)):
                self._rebuild_wheel()
        self.sets += 1
        return PutResult.STORED

    def delete(self, key: Key, now: float) -> bool:
        """Remove the entry at ``key``; False if it was missing or expired."""
        entry = self._data.get(key)
        if entry is None:
            return False
        if entry.expires_at <= now:
            self._expire(key, entry)
            return False
        self._unlink(key, entry)
        self.deletes += 1
        return True

    def expire_due(self, now: float, limit: int) -> int:
        """Reclaim up to ``limit`` entries expired at ``now``, earliest first; return how many."""
        reclaimed = 0
        while reclaimed < limit:
            key = self._wheel.pop_expired(now, self._expiry_of)
            if key is None:
                break
            self._expire(key, self._data[key])
            reclaimed += 1
        return reclaimed

    def stats(self) -> StoreStats:
        """A snapshot of the counters, items and bytes."""
        return StoreStats(
            items=len(self._data),
            bytes=self._bytes,
            max_items=self._max_items,
            max_bytes=self._max_bytes,
            hits=self.hits,
            misses=self.misses,
            sets=self.sets,
            deletes=self.deletes,
            evictions=self.evictions,
            expirations=self.expirations,
            rejected_writes=self.rejected_writes,
        )

    def _fits(self, new_items: int, new_bytes: int) -> bool:
        """Whether ``new_items`` more entries of ``new_bytes`` more bytes fit now."""
        if self._max_items and len(self._data) + new_items > self._max_items:
            return False
        return not (self._max_bytes and self._bytes + new_bytes > self._max_bytes)

    def _reclaim_expired(self, now: float, new_items: int, new_bytes: int) -> None:
        """Reclaim expired entries, earliest first, until the write fits or none is left."""
        while not self._fits(new_items, new_bytes):
            key = self._wheel.pop_expired(now, self._expiry_of)
            if key is None:
                return
            self._expire(key, self._data[key])

    def _expire(self, key: Key, entry: Entry) -> None:
        self._unlink(key, entry)
        self.expirations += 1

    def _unlink(self, key: Key, entry: Entry) -> None:
        del self._data[key]
        self._bytes -= self._size_of(key, entry)
        self._policy.on_delete(key)

    def _size_of(self, key: Key, entry: Entry) -> int:
        return entry_size(key, entry.value, entry.content_type, self._overhead)

    def _expiry_of(self, key: Key) -> float | None:
        entry = self._data.get(key)
        return None if entry is None else entry.expires_at

    def _rebuild_wheel(self) -> None:
        """Drop stale references: re-index every entry with a finite TTL. O(n), after ≥ n writes."""
        self._wheel.clear()
        for key, entry in self._data.items():
            if entry.expires_at != FOREVER:
                self._wheel.add(key, entry.expires_at)

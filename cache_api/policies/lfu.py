"""LFU: evict the least frequently used entry, with Redis's logarithmic counter and decay.

Algorithm: each entry has a small counter (0..``MAX_COUNTER``). A new entry
starts at ``INITIAL_COUNTER`` so that it survives long enough to be read. A
read first applies decay -- the counter drops by one for every
``DECAY_PERIOD_PER_ENTRY`` x capacity operations since the entry was last
read, down to 0 -- and then increments it with probability
``1 / ((counter - INITIAL_COUNTER) * LOG_FACTOR + 1)``, so the counter grows
with the logarithm of the read count (about a million reads saturate it at
``LOG_FACTOR`` 10). The victim is the entry with the lowest decayed counter;
among equals, the one whose counter reached that value first (a read that
leaves the counter as it is does not reorder).

Source: Redis's ``allkeys-lfu`` (``evict.c``: ``LFULogIncr``,
``LFUDecrAndReturn``; ``lfu-log-factor`` 10, ``LFU_INIT_VAL`` 5, 8-bit counter).
Redis decays by wall-clock minutes (``lfu-decay-time`` 1) and picks the victim
from a sample of 5 keys; the policy hooks carry no clock, so time here is the
count of operations (reads and writes), and the victim is exact. Redis breaks
ties between equal counters by chance (its sample); here by arrival, which
costs nothing on a read.

How, in O(1): decay is never applied to idle entries. An entry's counter c,
set at decay epoch t, is filed under the *level* c + t in a bucket (a deque
of keys in the order they reached it); its decayed counter at epoch T is
max(0, level - T). Every entry's decayed counter falls by the same amount as
T grows, so the order between levels never changes and the lowest non-empty
level holds the victim. A read moves its entry to level T + c' (never lower).
A pointer to the lowest level only moves down when an entry is inserted, to
T + ``INITIAL_COUNTER``. A key that moves up or is deleted leaves a stale copy
in its old bucket's deque, skipped when it reaches the old end (a copy is live
if the key's bucket is this one and no deletion here is pending for it); a
bucket with more than ``STALE_PER_LIVE`` stale copies per live key (plus
``STALE_SLACK``) is rebuilt without them.

Why deques and arrival order rather than an ``OrderedDict`` per level in LRU
order (until 2026-12-04): most reads leave the counter unchanged (27 % raised
it on orm-busy at 1 %), and each of them moved the key within its level; a
raise removed the key from one ordered dict and inserted it into another.
Now an unchanged read touches no bucket and a raise is a deque append. Replay
speed went from 0.60 to 0.79x LRU's, and the bookkeeping from about 270 to 136
bytes an entry (tracemalloc). Miss ratios moved by -0.0095 (orm-busy 1 %) to
+0.0054 (web12 10 %) on the 12 cases of ``bench/hit_ratio.py`` at 1 % and 10 %,
with ``DECAY_PERIOD_PER_ENTRY`` retuned for the new order (``bench/hit_ratio.md``).

Why: LFU keeps a stable hot set through scans and bursts of one-off keys, as
Redis users choose ``allkeys-lfu`` for; decay lets yesterday's hot keys go.
Plain LFU never forgets; aging is what makes it usable.

Parameters: ``LOG_FACTOR``, ``INITIAL_COUNTER``, ``MAX_COUNTER`` (as Redis),
``DECAY_PERIOD_PER_ENTRY`` (operations per decay step, per entry of capacity),
``STALE_PER_LIVE`` and ``STALE_SLACK`` (when a bucket is rebuilt).

Cost: on_insert, on_access, on_delete O(1) amortized over the rebuilds;
victim() O(1) amortized (the lowest-level pointer skips at most
``MAX_COUNTER`` + 1 empty levels per insert, plus one per decay epoch, and
every stale copy skipped was left by one move or deletion). Per entry: a dict
slot pointing at its bucket and a deque slot, plus stale copies (at most
``STALE_PER_LIVE`` per entry); ``per_entry_bytes`` is the measured sum.
A read above the initial counter draws one pseudo-random number from a seeded
``librt.random.Random`` (so runs repeat; compiled, the draw is a native call).
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar, Final

from librt.random import Random

from cache_api.policies.capacity import CapacityAware, learned_capacity
from cache_api.types import Key

LOG_FACTOR: Final = 10
"""Redis's ``lfu-log-factor``: higher makes the counter grow more slowly."""

INITIAL_COUNTER: Final = 5
"""Redis's ``LFU_INIT_VAL``: a new entry's counter, so it is not evicted at once."""

MAX_COUNTER: Final = 255
"""Counter saturation (8 bits, as Redis)."""

DECAY_PERIOD_PER_ENTRY: Final = 3
"""Operations per decay step (counter -1), per entry of capacity: three cache turnovers.

Measured on the 12 cases (1 % and 10 %) of ``bench/hit_ratio.py``: at 1 the
counters decay so fast that LFU behaves as LRU; at 16 stale keys hold on
(sprite at 10 % loses 0.1 of hit ratio). With ties broken by arrival
(2026-12-04), 2, 3, 4 and 6 summed to 6.075, 6.062, 6.069 and 6.081 of miss
ratio (LRU 6.102); 3 is within 0.007 of LRU in every case (orm-busy 1 %
+0.0065, w106 10 % +0.0027), where 4 lost 0.017 on orm-busy 1 %."""

MIN_DECAY_PERIOD: Final = 16
"""Fewest operations per decay step, whatever the capacity."""

STALE_PER_LIVE: Final = 3
"""A bucket's deque is rebuilt once it holds more than this many stale copies per live key."""

STALE_SLACK: Final = 64
"""Stale copies (keys) a bucket tolerates beyond ``STALE_PER_LIVE`` per live key."""

RANDOM_SEED: Final = 0x5EED
"""Seed of the per-policy generator behind the probabilistic increment."""

LFU_BYTES_PER_ENTRY: Final = 264
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k entries
of 100 B, six turnovers, 2026-12-04: 504 B per live entry; 656 B with the ordered-dict buckets
of 2026-11-29, charged 416). Its bookkeeping alone (tracemalloc, ``bench/hit_ratio.py``) is
about 136 B: the key -> bucket dict slot, a deque slot and stale copies; the rest is allocator
rounding and hash-table room under churn."""


_popleft: Final = deque.popleft
_append: Final = deque.append


class _Bucket:
    """The entries at one level, in the order they reached it (oldest first).

    ``keys`` also holds stale copies, skipped when they reach the old end: of
    keys that have since moved up (the LFU's ``bucket_of`` names another
    bucket) and of keys deleted from here (counted in ``deleted``, so that a
    key deleted and stored again at this level is not taken for its older
    copy). ``live`` counts the keys filed here.
    """

    __slots__ = ("deleted", "keys", "level", "live")

    def __init__(self, level: int) -> None:
        self.level = level
        self.keys: deque[Key] = deque()
        self.live = 0
        self.deleted: dict[Key, int] = {}


class LFU(CapacityAware):
    """Least frequently used, Redis-style log counter with decay. O(1) amortized."""

    name: ClassVar[str] = "LFU"
    evicts: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = LFU_BYTES_PER_ENTRY

    def __init__(self, capacity: int = 0) -> None:
        super().__init__(capacity)
        self._bucket_of: dict[Key, _Bucket] = {}
        self._buckets: dict[int, _Bucket] = {}
        self._lowest = 0
        self._epoch = 0
        self._period = max(DECAY_PERIOD_PER_ENTRY * capacity, MIN_DECAY_PERIOD)
        self._ticks = self._period
        self._random = Random(RANDOM_SEED)
        self._capacity = capacity

    def _next_epoch(self) -> None:
        self._ticks = self._period
        self._epoch += 1

    def _file(self, key: Key, level: int) -> _Bucket:
        """Append ``key`` to the bucket at ``level`` (made if missing) and point it there."""
        bucket = self._buckets.get(level)
        if bucket is None:
            bucket = self._buckets[level] = _Bucket(level)
        _append(bucket.keys, key)
        bucket.live += 1
        self._bucket_of[key] = bucket
        return bucket

    def _leave(self, bucket: _Bucket) -> None:
        """A key left ``bucket``: drop the bucket once empty, rebuild it once mostly stale."""
        bucket.live -= 1
        if not bucket.live:
            del self._buckets[bucket.level]
        elif len(bucket.keys) > STALE_PER_LIVE * bucket.live + STALE_SLACK:
            bucket.keys = deque(key for key in bucket.keys if self._is_live(bucket, key))

    def _is_live(self, bucket: _Bucket, key: Key) -> bool:
        """Whether this copy of ``key``, met oldest first in ``bucket``, is the filed one."""
        deleted = bucket.deleted
        if deleted:
            copies = deleted.get(key, 0)
            if copies:
                if copies == 1:
                    del deleted[key]
                else:
                    deleted[key] = copies - 1
                return False
        return self._bucket_of.get(key) is bucket

    def on_insert(self, key: Key, expires_at: float) -> None:
        """File ``key`` at the initial counter."""
        self._ticks -= 1
        if not self._ticks:
            self._next_epoch()
        level = self._epoch + INITIAL_COUNTER
        self._file(key, level)
        if level < self._lowest or len(self._bucket_of) == 1:
            self._lowest = level

    def on_access(self, key: Key) -> None:
        """Decay, then maybe increment, the counter; a raised counter moves the entry up."""
        self._ticks -= 1
        if not self._ticks:
            self._next_epoch()
        bucket = self._bucket_of[key]
        epoch = self._epoch
        counter = bucket.level - epoch
        if counter <= INITIAL_COUNTER:
            # Decayed to (or below) the start: Redis increments with probability 1 here.
            counter = counter + 1 if counter > 0 else 1
        else:
            # Redis's LFULogIncr: up by one with probability 1 / ((counter - 5) x 10 + 1).
            odds = (counter - INITIAL_COUNTER) * LOG_FACTOR + 1
            if counter >= MAX_COUNTER or self._random.random() * odds >= 1.0:
                return
            counter += 1
        self._file(key, epoch + counter)
        self._leave(bucket)

    def on_delete(self, key: Key) -> None:
        """Forget ``key``."""
        bucket = self._bucket_of.pop(key)
        deleted = bucket.deleted
        deleted[key] = deleted.get(key, 0) + 1
        self._leave(bucket)

    def victim(self) -> Key:
        """The entry that reached the lowest level first."""
        live = len(self._bucket_of)
        capacity = self._capacity if live == self._capacity else learned_capacity(self._hint, live)
        if capacity != self._capacity:
            self._capacity = capacity
            self._period = max(DECAY_PERIOD_PER_ENTRY * capacity, MIN_DECAY_PERIOD)
            self._ticks = min(self._ticks, self._period)
        buckets = self._buckets
        level = self._lowest
        bucket = buckets.get(level)
        while bucket is None:
            level += 1
            bucket = buckets.get(level)
        self._lowest = level
        keys = bucket.keys
        key = _popleft(keys)
        while not self._is_live(bucket, key):
            key = _popleft(keys)
        del self._bucket_of[key]
        bucket.live -= 1
        if not bucket.live:
            del buckets[level]
        return key

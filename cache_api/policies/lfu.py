"""LFU: evict the least frequently used entry, with Redis's logarithmic counter and decay.

Algorithm: each entry has a small counter (0..``MAX_COUNTER``). A new entry
starts at ``INITIAL_COUNTER`` so that it survives long enough to be read. A
read first applies decay -- the counter drops by one for every
``DECAY_PERIOD_PER_ENTRY`` x capacity operations since the entry was last
read, down to 0 -- and then increments it with probability
``1 / ((counter - INITIAL_COUNTER) * LOG_FACTOR + 1)``, so the counter grows
with the logarithm of the read count (about a million reads saturate it at
``LOG_FACTOR`` 10). The victim is the entry with the lowest decayed counter;
among equals, the least recently used.

Source: Redis's ``allkeys-lfu`` (``evict.c``: ``LFULogIncr``,
``LFUDecrAndReturn``; ``lfu-log-factor`` 10, ``LFU_INIT_VAL`` 5, 8-bit counter).
Redis decays by wall-clock minutes (``lfu-decay-time`` 1) and picks the victim
from a sample of 5 keys; the policy hooks carry no clock, so time here is the
count of operations (reads and writes), and the victim is exact.

How, in O(1): decay is never applied to idle entries. An entry's counter c,
set at decay epoch t, is filed under the *level* c + t, in that level's list
in LRU order; its decayed counter at epoch T is max(0, level - T). Every
entry's decayed counter falls by the same amount as T grows, so the order
between levels never changes and the lowest non-empty level holds the victim.
A read moves its entry to level T + c' (never lower). A pointer to the lowest
level only moves down when an entry is inserted, to T + ``INITIAL_COUNTER``.
The lists are ``queues.NodeLists``: each entry has one node, which the store
keeps in the entry as its handle, tagged with its level's list, so a move
between levels is a few native array writes. They replaced an
``OrderedDict`` per level and a key -> level dict (2026-12-04): the same
victims, 24 % fewer instructions per replayed request, and 110 B less
resident memory per entry under churn.

Why: LFU keeps a stable hot set through scans and bursts of one-off keys, as
Redis users choose ``allkeys-lfu`` for; decay lets yesterday's hot keys go.
Plain LFU never forgets; aging is what makes it usable.

Parameters: ``LOG_FACTOR``, ``INITIAL_COUNTER``, ``MAX_COUNTER`` (as Redis),
``DECAY_PERIOD_PER_ENTRY`` (operations per decay step, per entry of capacity).

Cost: on_insert, on_access, on_delete O(1); victim() O(1) amortized (the
lowest-level pointer skips at most ``MAX_COUNTER`` + 1 empty levels per
insert, plus one per decay epoch). Per entry: a node (five array cells) and
the handle's 4 bytes in the entry; ``per_entry_bytes`` is the measured sum.
A read above the initial counter draws one pseudo-random number from
``next_draw``, a 32-bit linear congruential generator seeded per policy (so
runs repeat): Redis draws from C's ``rand()`` here, and the quality needed is
that of a coin with odds down to 1 in 2,501. It replaced a seeded
``librt.random.Random`` (2026-12-06): 94 instructions and a boxed float a draw
against a few; with ``_head_of``'s memory of its last level, 1,619 -> 1,516
instructions a replayed request (orm-busy at 1 %, ``bench/hit_ratio.md``).
"""

from __future__ import annotations

from typing import ClassVar, Final

from mypy_extensions import i64

from cache_api.policies.capacity import CapacityAware, learned_capacity
from cache_api.policies.queues import NodeLists

LOG_FACTOR: Final = 10
"""Redis's ``lfu-log-factor``: higher makes the counter grow more slowly."""

INITIAL_COUNTER: Final = 5
"""Redis's ``LFU_INIT_VAL``: a new entry's counter, so it is not evicted at once."""

MAX_COUNTER: Final = 255
"""Counter saturation (8 bits, as Redis)."""

DECAY_PERIOD_PER_ENTRY: Final = 4
"""Operations per decay step (counter -1), per entry of capacity: four cache turnovers.

Measured on the traces of ``bench/hit_ratio.py``: at 1 the counters decay so
fast that LFU behaves as LRU; at 16 stale keys hold on (sprite at 10 % loses
0.1 of hit ratio). At 4, against LRU on the 12 cases at 1 % and 10 % (run of
2026-12-04): better or within 0.003 in 11, and orm-busy at 1 % +0.016. In an
experiment with ties broken by arrival (``bench/hit_ratio.md``), 3 and 4
differed by 0.0006 a case on average, and 2 and 6 did worse."""

MIN_DECAY_PERIOD: Final = 16
"""Fewest operations per decay step, whatever the capacity."""

RANDOM_SEED: Final = 0x5EED
"""Seed of the per-policy generator behind the probabilistic increment."""

DRAW_MULTIPLIER: Final = 1103515245
DRAW_INCREMENT: Final = 12345
"""``next_draw``'s constants: those of the C standard's example ``rand`` (full period 2**32)."""

DRAW_BITS: Final = 32
DRAW_RANGE: Final = 1 << DRAW_BITS
"""Draws are whole numbers below this: one below ``DRAW_RANGE / odds`` has chance 1 / odds."""


def next_draw(draw: i64) -> i64:
    """The pseudo-random number after ``draw``, in [0, ``DRAW_RANGE``)."""
    return (draw * DRAW_MULTIPLIER + DRAW_INCREMENT) & (DRAW_RANGE - 1)


LFU_BYTES_PER_ENTRY: Final = 75
"""Charged per entry under ``MAX_MEMORY``: what a full cache under churn holds beyond its payload
and ``store.ENTRY_OVERHEAD_BYTES``, as RSS (``bench/entry_overhead.py --churn``, 200 k entries
of 100 B, six turnovers, 2026-12-07, with the store's own table: 267 B per live entry; 425 B
on 2026-12-05 with a dict of key objects, 546 with a key -> slot dict in the policy as well,
656 with the ordered dicts before that): a node in ``NodeLists``, the handle in the entry,
allocator rounding and the levels' sentinels."""


class LFU(CapacityAware):
    """Least frequently used, Redis-style log counter with decay. O(1) amortized."""

    name: ClassVar[str] = "LFU"
    evicts: ClassVar[bool] = True
    keeps_handles: ClassVar[bool] = True
    per_entry_bytes: ClassVar[int] = LFU_BYTES_PER_ENTRY

    def __init__(self, capacity: int = 0) -> None:
        super().__init__(capacity)
        self._lists = NodeLists()
        """A node per entry, tagged with its level's sentinel; a list per level, tagged with it."""
        self._live: i64 = 0
        """Entries tracked."""
        self._level_heads: dict[i64, i64] = {}
        """The sentinel of each non-empty level."""
        self._lowest: i64 = 0
        self._last_level: i64 = -1
        self._last_head: i64 = -1
        """The level ``_head_of`` answered last and its sentinel (most reads and inserts file
        into one of a few levels: this saves boxing the level for a dict lookup)."""
        self._epoch: i64 = 0
        self._period = max(DECAY_PERIOD_PER_ENTRY * capacity, MIN_DECAY_PERIOD)
        self._ticks = self._period
        self._draw: i64 = RANDOM_SEED
        self._capacity = capacity

    def _next_epoch(self) -> None:
        self._ticks = self._period
        self._epoch += 1

    def _file(self, node: i64, level: i64) -> None:
        """Append ``node`` to ``level`` (its newest) and tag it with the level's list."""
        self._lists.push_newest(self._head_of(level), node)

    def _head_of(self, level: i64) -> i64:
        """The sentinel of ``level``'s list, made if the level has none."""
        if level == self._last_level:
            return self._last_head
        head = self._level_heads.get(level, -1)
        if head < 0:
            head = self._level_heads[level] = self._lists.new_list(level)
        self._last_level, self._last_head = level, head
        return head

    def _unfile(self, node: i64) -> None:
        """Take ``node`` out of its level, dropping the level if it empties."""
        lists = self._lists
        head = lists.tag[node]
        lists.unlink(node)
        if lists.is_empty(head):
            level = lists.tag[head]
            del self._level_heads[level]
            lists.release(head)
            if level == self._last_level:
                self._last_level = -1

    def on_insert(self, slot: i64, key_hash: i64, expires_at: float) -> i64:
        """File the entry at the initial counter; the handle is its node."""
        self._ticks -= 1
        if not self._ticks:
            self._next_epoch()
        level = self._epoch + INITIAL_COUNTER
        node = self._lists.add(self._head_of(level), slot, 0)
        self._live += 1
        if level < self._lowest or self._live == 1:
            self._lowest = level
        return node

    def on_access(self, handle: i64) -> None:
        """Decay, then maybe increment, the counter; the entry becomes its level's newest."""
        self._ticks -= 1
        if not self._ticks:
            self._next_epoch()
        lists = self._lists
        node = handle
        head = lists.tag[node]
        epoch = self._epoch
        counter = lists.tag[head] - epoch
        if counter <= INITIAL_COUNTER:
            # Decayed to (or below) the start: Redis increments with probability 1 here.
            counter = counter + 1 if counter > 0 else 1
        else:
            # Redis's LFULogIncr: up by one with probability 1 / ((counter - 5) x 10 + 1).
            odds = (counter - INITIAL_COUNTER) * LOG_FACTOR + 1
            if counter >= MAX_COUNTER:
                lists.move_to_newest(head, node)
                return
            draw = self._draw = next_draw(self._draw)
            if draw * odds >= DRAW_RANGE:
                lists.move_to_newest(head, node)
                return
            counter += 1
        self._unfile(node)
        self._file(node, epoch + counter)

    def on_delete(self, handle: i64) -> None:
        """Forget the entry."""
        self._unfile(handle)
        self._lists.release(handle)
        self._live -= 1

    def victim(self) -> i64:
        """The least recently used entry at the lowest level."""
        live = int(self._live)
        capacity = self._capacity if live == self._capacity else learned_capacity(self._hint, live)
        if capacity != self._capacity:
            self._capacity = capacity
            self._period = max(DECAY_PERIOD_PER_ENTRY * capacity, MIN_DECAY_PERIOD)
            self._ticks = min(self._ticks, self._period)
        heads = self._level_heads
        level = self._lowest
        head = heads.get(level, -1)
        while head < 0:
            level += 1
            head = heads.get(level, -1)
        self._lowest = level
        lists = self._lists
        node = lists.oldest(head)
        slot = lists.owners[node]
        self._unfile(node)
        lists.release(node)
        self._live -= 1
        return slot

"""Eviction policies: one contract for every registered policy, and a hand-worked trace each.

The contract runs through the real ``Store`` (capacity by count and by bytes,
expiry before eviction, overwrites and deletes, oversized writes) and against
the bare hooks (``victim()`` only ever names a stored key, and forgets it).
The hand-worked traces pin each algorithm's decisions on a few keys, worked
out on paper from the module's description.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cache_api.policies import REGISTRY, make_policy
from cache_api.policies.capacity import CapacityAware, learned_capacity
from cache_api.policies.hedge import LEARNING_RATE, MAX_LOSS, MIN_SHARE, START_SHARE, Hedge
from cache_api.policies.lfu import (
    DECAY_PERIOD_PER_ENTRY,
    DRAW_RANGE,
    INITIAL_COUNTER,
    LFU,
    LOG_FACTOR,
    MAX_COUNTER,
    MIN_DECAY_PERIOD,
    RANDOM_SEED,
    next_draw,
)
from cache_api.policies.sketch import (
    CBF_COUNTERS_PER_ENTRY,
    CBF_ERROR,
    CBF_HASHES,
    MAX_COUNT,
    CountingBloomFilter,
    FrequencySketch,
)
from cache_api.policies.uselog import LOG_SLACK
from cache_api.policies.wtinylfu import WTinyLfu, WTinyLfuAdaptive
from cache_api.store import ENTRY_OVERHEAD_BYTES, Store, entry_size
from cache_api.types import FOREVER, MAX_HANDLE, Key, Policy, PutResult
from tests.conftest import FakeClock

POLICIES = sorted(REGISTRY)
EVICTING = [name for name in POLICIES if REGISTRY[name].evicts]
CAPACITY_AWARE = [name for name in POLICIES if issubclass(REGISTRY[name], CapacityAware)]


class Driven:
    """A policy driven by hand as the store drives it, by key: each key gets a slot (freed
    slots reused, newest first, as the store's table does), its hash goes to ``on_insert``,
    its handle is kept and passed back as the store keeps it in the entry, and ``victim()``'s
    slot is named by its key."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.slots: dict[Key, int] = {}
        self.keys: dict[int, Key] = {}
        self.handles: dict[Key, int] = {}
        self.free: list[int] = []

    def on_insert(self, key: Key, expires_at: float = FOREVER) -> None:
        slot = self.free.pop() if self.free else len(self.keys) + len(self.free)
        self.slots[key], self.keys[slot] = slot, key
        handle = self.policy.on_insert(slot, hash(key), expires_at)
        assert 0 <= handle <= MAX_HANDLE
        assert handle == 0 or self.policy.keeps_handles
        self.handles[key] = handle if self.policy.keeps_handles else slot

    def on_access(self, key: Key) -> None:
        self.policy.on_access(self.handles[key])

    def on_delete(self, key: Key) -> None:
        self.policy.on_delete(self.handles.pop(key))
        self._free(key)

    def victim(self) -> Key:
        slot = self.policy.victim()
        key = self.keys[slot]
        assert self.slots[key] == slot
        del self.handles[key]
        self._free(key)
        return key

    def _free(self, key: Key) -> None:
        slot = self.slots.pop(key)
        del self.keys[slot]
        self.free.append(slot)


def key(i: int) -> bytes:
    return b"k%d" % i


def random_workload(
    store: Store, clock: FakeClock, rng: random.Random, *, ops: int, keys: int, sizes: int
) -> None:
    """Gets, puts (some with TTLs, some overwrites), deletes and clock steps, checked as we go."""
    for _ in range(ops):
        k = key(rng.randrange(keys))
        roll = rng.random()
        if roll < 0.45:
            store.get(k, clock())
        elif roll < 0.85:
            ttl = rng.choice((0, 0, 1, 2, 5))
            store.put(k, b"v" * rng.randrange(sizes), b"text/plain", ttl, clock())
        elif roll < 0.95:
            store.delete(k, clock())
        else:
            clock.advance(rng.choice((0.25, 0.5, 1.0)))
        yield_check(store)


def yield_check(store: Store) -> None:
    stats = store.stats()
    assert stats.items == len(store)
    if stats.max_items:
        assert stats.items <= stats.max_items
    if stats.max_bytes:
        assert stats.bytes <= stats.max_bytes


# ----------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("name", POLICIES)
def test_make_policy_without_capacity(name: str) -> None:
    policy = make_policy(name)
    assert policy.name == name
    assert policy.per_entry_bytes >= 0


@pytest.mark.parametrize("name", POLICIES)
def test_count_capacity_never_exceeded(name: str, clock: FakeClock) -> None:
    store = Store(make_policy(name, 16), max_items=16)
    random_workload(store, clock, random.Random(1), ops=3000, keys=60, sizes=20)
    if REGISTRY[name].evicts:
        assert store.evictions > 0


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("hint", [0, 12])
def test_byte_capacity_with_mixed_sizes_never_exceeded(
    name: str, hint: int, clock: FakeClock
) -> None:
    overhead = ENTRY_OVERHEAD_BYTES + REGISTRY[name].per_entry_bytes
    max_bytes = 12 * (overhead + 100)
    store = Store(make_policy(name, hint), max_bytes=max_bytes)
    rng = random.Random(2)
    for _ in range(3000):
        k = key(rng.randrange(50))
        if rng.random() < 0.5:
            store.get(k, clock())
        else:
            size = rng.choice((0, 10, 100, 400, 1500))
            result = store.put(k, b"x" * size, b"", rng.choice((0, 3)), clock())
            fits = entry_size(k, b"x" * size, b"", overhead) <= max_bytes
            assert result in (PutResult.STORED, PutResult.REJECTED_FULL, PutResult.TOO_LARGE)
            assert (result is PutResult.TOO_LARGE) == (not fits)
            if REGISTRY[name].evicts and fits:
                assert result is PutResult.STORED
        if rng.random() < 0.05:
            clock.advance(1)
        yield_check(store)


@pytest.mark.parametrize("name", POLICIES)
def test_no_live_entry_evicted_while_an_expired_one_exists(name: str, clock: FakeClock) -> None:
    store = Store(make_policy(name, 4), max_items=4)
    store.put(b"short1", b"v", b"", 1, clock())
    store.put(b"live1", b"v", b"", 0, clock())
    store.put(b"short2", b"v", b"", 2, clock())
    store.put(b"live2", b"v", b"", 100, clock())
    clock.advance(2.5)
    for new in (b"new1", b"new2"):
        assert store.put(new, b"v", b"", 0, clock()) is PutResult.STORED
        assert store.evictions == 0
    for live in (b"live1", b"live2", b"new1", b"new2"):
        assert store.get(live, clock()) is not None
    assert store.stats().expirations == 2


@pytest.mark.parametrize("name", POLICIES)
def test_overwrites_and_deletes_keep_the_bookkeeping(name: str, clock: FakeClock) -> None:
    # The store drops victim() keys from its dict: a key the policy forgot to forget
    # (or never knew) raises KeyError there, and a stale one shows in the counts.
    store = Store(make_policy(name, 5), max_items=5)
    for round_ in range(50):
        for i in range(5):
            store.put(key(i), b"%d" % round_, b"", round_ % 3, clock())
        store.get(key(round_ % 5), clock())
        store.delete(key((round_ + 1) % 5), clock())
        store.put(key(100 + round_), b"new", b"", 0, clock())
        clock.advance(0.5)
        yield_check(store)
    assert len(store) <= 5


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("by_bytes", [False, True])
def test_overwrite_in_a_full_cache_evicts_nothing(
    name: str, by_bytes: bool, clock: FakeClock
) -> None:
    # The overwritten key keeps its place in the table while the new value is written: it
    # must count once, not twice, or a full cache would evict (or refuse) for nothing.
    overhead = ENTRY_OVERHEAD_BYTES + REGISTRY[name].per_entry_bytes
    size = entry_size(key(0), b"x" * 8, b"t", overhead)
    limits = {"max_bytes": 4 * size} if by_bytes else {"max_items": 4}
    store = Store(make_policy(name, 0 if by_bytes else 4), **limits)
    for i in range(4):
        assert store.put(key(i), b"x" * 8, b"t", 0, clock()) is PutResult.STORED
    for round_ in range(20):
        value = b"%08d" % round_
        assert store.put(key(round_ % 4), value, b"t", round_ % 2, clock()) is PutResult.STORED
        assert store.evictions == 0
        assert store.get(key(round_ % 4), clock()) == (value, b"t")
        yield_check(store)
    assert all(store.get(key(i), clock()) is not None for i in range(4))
    assert store.stats().bytes == 4 * size


@pytest.mark.parametrize("name", EVICTING)
def test_victim_only_names_stored_keys_and_forgets_them(name: str) -> None:
    rng = random.Random(3)
    capacity = 20
    policy = Driven(make_policy(name, capacity))
    stored: set[bytes] = set()
    for _ in range(5000):
        k = key(rng.randrange(70))
        roll = rng.random()
        if k in stored and roll < 0.5:
            policy.on_access(k)
        elif k in stored and roll < 0.6:
            policy.on_delete(k)
            stored.discard(k)
        elif k in stored and roll < 0.7:  # overwrite: a delete then an insert
            policy.on_delete(k)
            policy.on_insert(k)
        elif k not in stored:
            while len(stored) >= capacity:
                victim = policy.victim()
                assert victim in stored
                stored.remove(victim)
            policy.on_insert(k)
            stored.add(k)
    drained = [policy.victim() for _ in range(len(stored))]
    assert sorted(drained) == sorted(stored)


@pytest.mark.parametrize("name", POLICIES)
def test_oversized_put_under_a_full_cache_evicts_nothing(name: str, clock: FakeClock) -> None:
    overhead = ENTRY_OVERHEAD_BYTES + REGISTRY[name].per_entry_bytes
    max_bytes = 4 * (overhead + 10)
    store = Store(make_policy(name), max_bytes=max_bytes)
    for i in range(4):
        assert store.put(key(i), b"x" * 8, b"", 0, clock()) is PutResult.STORED
    result = store.put(b"huge", b"x" * max_bytes, b"", 0, clock())
    assert result is PutResult.TOO_LARGE
    assert store.evictions == 0
    assert all(store.get(key(i), clock()) is not None for i in range(4))


@pytest.mark.parametrize("name", CAPACITY_AWARE)
def test_byte_capacity_policies_learn_the_entry_count(name: str, clock: FakeClock) -> None:
    # Equal-sized entries under MAX_MEMORY only (capacity unknown: 0) must behave
    # close to the same policy told NUMBER_OF_SLOTS, once the cache has filled.
    rng = random.Random(4)
    trace = [b"k%05d" % int(3000 * rng.random() ** 3) for _ in range(30000)]
    overhead = ENTRY_OVERHEAD_BYTES + REGISTRY[name].per_entry_bytes
    size = entry_size(trace[0], b"", b"", overhead)
    by_count = Store(make_policy(name, 200), max_items=200)
    by_bytes = Store(make_policy(name, 0), max_bytes=200 * size)
    for store in (by_count, by_bytes):
        for k in trace:
            if store.get(k, clock()) is None:
                store.put(k, b"", b"", 0, clock())
    assert by_bytes.evictions > 0
    assert len(by_bytes) == 200
    assert abs(by_count.misses - by_bytes.misses) / len(trace) < 0.02


def test_learned_capacity() -> None:
    assert learned_capacity(0, 50) == 50
    assert learned_capacity(40, 50) == 40
    assert learned_capacity(60, 50) == 50
    assert learned_capacity(0, 0) == 1


# ----------------------------------------------------------------------------- hand-worked


def drive(policy: Driven, capacity: int, trace: list[bytes]) -> list[bytes]:
    """Replay ``trace`` (reads, inserting misses) as the store would; return the victims."""
    stored: set[bytes] = set()
    victims = []
    for k in trace:
        if k in stored:
            policy.on_access(k)
            continue
        if len(stored) >= capacity:
            victim = policy.victim()
            stored.remove(victim)
            victims.append(victim)
        policy.on_insert(k)
        stored.add(k)
    return victims


def test_lru_and_fifo_by_hand() -> None:
    trace = [b"a", b"b", b"c", b"a", b"d", b"e"]
    assert drive(Driven(make_policy("LRU")), 3, trace) == [b"b", b"c"]
    assert drive(Driven(make_policy("OLDEST_FIRST")), 3, trace) == [b"a", b"b"]
    assert drive(Driven(make_policy("NEWEST_FIRST")), 3, trace) == [b"c", b"d"]


@pytest.mark.parametrize("name", ["LRU", "OLDEST_FIRST", "NEWEST_FIRST"])
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["use", "use", "use", "delete", "evict"]), st.integers(0, 7)),
        min_size=3 * LOG_SLACK,
        max_size=8 * LOG_SLACK,
    )
)
def test_use_log_evicts_exactly_as_a_linked_list(name: str, ops: list[tuple[str, int]]) -> None:
    # LRU, OLDEST_FIRST and NEWEST_FIRST keep a log of uses, skip stale records and rewrite
    # the log when it holds 2 x live + LOG_SLACK records: whatever the mix of reads, writes,
    # deletes and evictions (long enough to force rewrites), their victims are those of an
    # ordered dict kept in order of use (LRU: reads and writes) or of writes.
    policy = Driven(make_policy(name))
    model: OrderedDict[bytes, None] = OrderedDict()
    newest_first = name == "NEWEST_FIRST"
    for op, i in ops:
        k = key(i)
        if op == "use" and k in model:
            policy.on_access(k)
            if name == "LRU":
                model.move_to_end(k)
        elif op == "use":
            policy.on_insert(k)
            model[k] = None
        elif op == "delete" and k in model:
            policy.on_delete(k)
            del model[k]
        elif op == "evict" and model:
            assert policy.victim() == model.popitem(last=newest_first)[0]
    while model:
        assert policy.victim() == model.popitem(last=newest_first)[0]


def test_newest_first_after_its_last_write_left() -> None:
    policy = Driven(make_policy("NEWEST_FIRST"))
    for k in (b"a", b"b", b"c"):
        policy.on_insert(k)
    policy.on_delete(b"c")  # the last write is gone: the newest left is b
    assert policy.victim() == b"b"
    assert policy.victim() == b"a"  # two evictions for one write (byte capacity)
    policy.on_insert(b"d")
    policy.on_insert(b"e")
    policy.on_delete(b"d")
    policy.on_insert(b"d")  # an overwrite is a new write
    assert policy.victim() == b"d"
    assert policy.victim() == b"e"


def test_sieve_hand_movement() -> None:
    # Queue oldest -> newest: A B C D E F G; A, B and G were read (visited).
    # H: the hand starts at the oldest, clears A and B, evicts C; it rests on D.
    # D and H are read. I: clears D, evicts E; rests on F. J: evicts F (unvisited);
    # rests on G. K: clears G, clears H, evicts I; rests on J. L: evicts J; rests on K.
    # K and L are read. M: clears K, clears L -- the newest -- so the hand wraps to
    # the oldest: A, cleared in the first sweep, goes. N: B likewise.
    trace = b"ABCDEFG" + b"ABG" + b"H" + b"DH" + b"IJKL" + b"KL" + b"MN"
    victims = drive(Driven(make_policy("SIEVE")), 7, [bytes([c]) for c in trace])
    assert victims == [b"C", b"E", b"F", b"I", b"J", b"A", b"B"]


def test_s3fifo_small_main_ghost_by_hand() -> None:
    # Capacity 10: small queue 1 entry, main 9, ghost 9 keys.
    policy = Driven(make_policy("S3_FIFO", 10))
    # Warm-up: 0 fills the small queue, so 1..9 go straight to main.
    victims = drive(policy, 10, [key(i) for i in range(10)])
    assert victims == []
    stored = {key(i) for i in range(10)}

    def miss(k: bytes) -> bytes:
        victim = policy.victim()
        stored.remove(victim)
        policy.on_insert(k)
        stored.add(k)
        return victim

    assert miss(key(10)) == key(0)  # small's 0 was never read: evicted, remembered by the ghost
    assert miss(key(11)) == key(10)  # 10 (small) likewise
    assert miss(key(0)) == key(11)  # 0 is in the ghost: it re-enters straight into main
    assert miss(key(12)) == key(1)  # main holds 10 > 9: its oldest unread entry goes
    policy.on_access(key(12))  # one read in small is not enough (threshold: 2)
    policy.on_access(key(2))  # main: a read buys 2 one more lap
    assert miss(key(13)) == key(12)
    policy.on_access(key(13))
    policy.on_access(key(13))  # two reads: 13 moves to main instead of leaving
    assert miss(key(14)) == key(3)  # small emptied into main (10 > 9); 2 is skipped once
    assert key(2) in stored and key(13) in stored


COLLISION_FREE_ENTRIES = 1_000_000
"""A counting Bloom filter this large gives the ~100 keys of a hand-worked trace exact
counts: all ten of a key's counters would have to collide (odds about 1e-30)."""


def test_w_tinylfu_follows_libcachesim_by_hand() -> None:
    # Capacity 100: window 1 entry, main 99 split as libCacheSim's SLRU 1:4 truncates it:
    # probation int(0.2 x 99) = 19, protected int(0.8 x 99) = 79 (one entry short of 99).
    counts = CountingBloomFilter(COLLISION_FREE_ENTRIES)
    policy = Driven(WTinyLfu(100, counts=lambda _entries: counts))
    keys = [key(i) for i in range(100)]
    assert drive(policy, 100, keys) == []  # all in the window until the cache is full
    stored = set(keys)

    def miss(k: bytes) -> bytes:
        victim = policy.victim()
        stored.remove(victim)
        policy.on_insert(k)
        stored.add(k)
        return victim

    # The first eviction moves window candidates into main while it has room, counting each
    # again (0..18 probation, 19..97 protected, 98 probation); candidate 99 (count 1) then
    # loses to probation's LRU 0 (count 2).
    assert miss(key(100)) == key(99)
    assert counts.estimate(key(0)) == 2 and counts.estimate(key(99)) == 2
    for _ in range(4):
        policy.on_access(key(100))  # window hits are not counted
    assert miss(key(101)) == key(100)  # 100 (1) does not beat 0 (2)
    policy.on_access(key(0))  # main hit, counted: 0 -> protected, protected's LRU 19 ->
    assert counts.estimate(key(0)) == 3  # probation, which is then over 19: its LRU 1 drops
    assert miss(key(102)) == key(1)  # the dropped entry goes first, without a contest
    # Main now has room: candidate 101 enters it free; 102 (1) then loses to 2 (2).
    assert miss(key(103)) == key(102)
    for _ in range(3):
        policy.on_delete(key(103))
        policy.on_insert(key(103))  # three more writes: 103 counts 4
    assert miss(key(104)) == key(2)  # 103 (4) beats probation's LRU 2 (2): 2 goes
    assert {key(0), key(19), key(101), key(103), key(104)} <= stored


def test_counting_bloom_filter_counts_and_decays() -> None:
    cbf = CountingBloomFilter(100)
    assert cbf.width == 1438  # ceil(14.38 x 100), 10 counters a key
    for _ in range(20):
        cbf.add(b"hot")
    cbf.add(b"cold")
    assert cbf.estimate(b"hot") >= 20
    assert 1 <= cbf.estimate(b"cold") <= cbf.estimate(b"hot")
    assert sum(cbf.counters) == 21 * CBF_HASHES == 210
    hot = cbf.estimate(b"hot")
    cbf.decay()
    assert cbf.estimate(b"hot") == hot // 2
    for i in range(200):  # any key, its counters wrapping past the end or not:
        before, estimate = sum(cbf.counters), cbf.estimate(key(i))
        assert cbf.add(key(i)) == estimate  # add returns the count from before it
        assert sum(cbf.counters) == before + CBF_HASHES  # ten distinct counters, each +1
        assert cbf.estimate(key(i)) >= 1


def test_counting_bloom_filter_is_sized_by_libcachesims_formulas() -> None:
    per_entry = -math.log(CBF_ERROR) / math.log(2) ** 2
    assert per_entry == CBF_COUNTERS_PER_ENTRY
    assert math.ceil(math.log(2) * per_entry) == CBF_HASHES == 10


def test_w_tinylfu_adaptive_window_follows_ghost_hits() -> None:
    policy = Driven(make_policy("W_TINYLFU_ADAPTIVE", 100))
    keys = [key(i) for i in range(100)]
    drive(policy, 100, keys)
    stored = set(keys)

    def miss(k: bytes) -> bytes:
        victim = policy.victim()
        stored.remove(victim)
        policy.on_insert(k)
        stored.add(k)
        return victim

    assert miss(key(100)) == key(99)  # turned away by the admission: into the first ghost
    window_before = policy.policy._window_max  # type: ignore[attr-defined]
    hedge = policy.policy._hedge  # type: ignore[attr-defined]
    assert hedge.recency_share == START_SHARE
    assert miss(key(99)) == key(100)  # 99 is back: the window was too small,
    assert policy.policy._window_max == window_before + 1  # type: ignore[attr-defined]
    assert hedge.recency_share > START_SHARE  # and frequency, which evicted it, erred


def test_w_tinylfu_adaptive_recency_turn_evicts_the_least_recently_used_entry() -> None:
    policy = Driven(make_policy("W_TINYLFU_ADAPTIVE", 100))
    drive(policy, 100, [key(i) for i in range(100)])
    assert policy.victim() == key(99)  # main takes 0..98; 99 (counted once) ties 0 and loses
    policy.on_insert(key(100))
    for i in range(1, 99):
        policy.on_access(key(i))  # 0 is now the least recently used entry, counted once
    hedge = policy.policy._hedge  # type: ignore[attr-defined]
    victims = []
    while key(0) not in victims and len(victims) <= 1 / START_SHARE:
        victims.append(policy.victim())
        policy.on_insert(key(100 + len(victims)))
    # Frequency turns each newcomer away (counted once, as main's victim 0 is: a tie keeps the
    # victim). Recency's share of the evictions comes due once in 1 / START_SHARE, and it
    # takes the least recently used entry.
    assert victims == [key(100 + i) for i in range(len(victims) - 1)] + [key(0)]
    share = hedge.recency_share
    policy.victim()
    policy.on_insert(key(0))  # 0 is back: recency erred
    assert hedge.recency_share < share


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.lists(st.integers(0, 30), max_size=400))
def test_w_tinylfu_adaptive_led_by_recency_alone_evicts_as_lru(
    capacity: int, trace: list[int]
) -> None:
    recency_only = Hedge(start_share=1.0, min_share=0.0)
    ours = Driven(WTinyLfuAdaptive(capacity, hedge=recency_only))
    lru = Driven(make_policy("LRU", capacity))
    keys = [key(i) for i in trace]
    assert drive(ours, capacity, keys) == drive(lru, capacity, keys)


def test_hedge_follows_recency_for_its_share_spread_evenly() -> None:
    hedge = Hedge(start_share=0.25)
    choices = [hedge.choose_recency() for _ in range(100)]
    assert choices == [False, False, False, True] * 25


def test_hedge_weighs_a_mistake_by_how_rarely_the_expert_is_followed() -> None:
    hedge = Hedge(start_share=0.5)
    hedge.frequency_erred()  # frequency, followed half the time: loss 2
    kept = 0.5 * math.exp(-LEARNING_RATE * 2)
    assert hedge.recency_share == pytest.approx(0.5 / (0.5 + kept))
    hedge = Hedge(start_share=0.01)
    hedge.recency_erred()  # recency, followed 1 % of the time: loss 100, capped
    kept = 0.01 * math.exp(-LEARNING_RATE * MAX_LOSS)
    assert hedge.recency_share == pytest.approx(kept / (kept + 0.99))
    for _ in range(1000):
        hedge.recency_erred()
    assert hedge.recency_share == MIN_SHARE  # never silenced


def test_hedge_pinned_to_one_expert_stays_there() -> None:
    hedge = Hedge(start_share=1.0, min_share=0.0)  # frequency's share is 0: no division by it
    hedge.frequency_erred()
    hedge.recency_erred()
    assert hedge.recency_share == 1.0
    assert all(hedge.choose_recency() for _ in range(10))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["recency erred", "frequency erred", "evict"]), max_size=300))
def test_hedge_share_stays_in_bounds_and_its_choices_track_it(events: list[str]) -> None:
    hedge = Hedge()
    owed, followed = 0.0, 0
    for event in events:
        if event == "recency erred":
            hedge.recency_erred()
        elif event == "frequency erred":
            hedge.frequency_erred()
        else:
            owed += hedge.recency_share
            followed += hedge.choose_recency()
        assert MIN_SHARE <= hedge.recency_share <= 1 - MIN_SHARE
        assert owed - 1 < followed <= owed + 1e-9  # never a whole eviction behind or ahead


def test_lfu_counts_reads_and_decays_by_hand() -> None:
    policy = Driven(make_policy("LFU", 3))
    assert drive(policy, 3, [b"a", b"b", b"c", b"a", b"b", b"d"]) == [b"c"]
    # a and b were read (counter 5 -> 6); c and then d entered at 5: the newcomer goes first.
    assert policy.victim() == b"d"
    policy.on_insert(b"d")
    # Decay: b is read on and on while a is left alone; after enough decay periods a's
    # counter has fallen below b's and d's.
    period = max(DECAY_PERIOD_PER_ENTRY * 3, MIN_DECAY_PERIOD)
    for _ in range(10 * period):
        policy.on_access(b"b")
        policy.on_access(b"d")
    assert policy.victim() == b"a"


def test_lfu_breaks_ties_by_recency_and_a_key_stored_again_is_the_newest() -> None:
    policy = Driven(make_policy("LFU", 100))
    for k in (b"a", b"b", b"c"):
        policy.on_insert(k)
    policy.on_delete(b"a")  # an overwrite
    policy.on_insert(b"a")
    # All three are at the initial counter: the least recently used goes first.
    assert [policy.victim() for _ in range(3)] == [b"b", b"c", b"a"]


def test_lfu_a_key_read_then_stored_again_starts_over_at_the_initial_counter() -> None:
    policy = Driven(make_policy("LFU", 100))
    policy.on_insert(b"a")
    policy.on_insert(b"b")
    policy.on_access(b"a")  # a moves up a level
    policy.on_delete(b"a")  # then it is overwritten: back at the initial level, after b
    policy.on_insert(b"a")
    assert [policy.victim() for _ in range(2)] == [b"b", b"a"]


@pytest.mark.parametrize("odds", [2, 11, 101, 2501])
def test_lfu_draws_hit_one_in_odds(odds: int) -> None:
    """The increment's coin: over 200 k draws from the seed, a draw falls below
    ``DRAW_RANGE / odds`` one time in ``odds``, within four binomial standard deviations,
    and draws stay in range."""
    draw, hits, n = RANDOM_SEED, 0, 200_000
    for _ in range(n):
        draw = next_draw(draw)
        assert 0 <= draw < DRAW_RANGE
        hits += draw * odds < DRAW_RANGE
    assert abs(hits - n / odds) <= 4 * math.sqrt(n / odds * (1 - 1 / odds))


class NaiveLfu:
    """LFU's rule with no structure: every key's level and last use, the victim by a full scan."""

    def __init__(self, capacity: int) -> None:
        self.level: dict[bytes, int] = {}
        self.arrival: dict[bytes, int] = {}
        self.arrivals = 0
        self.epoch = 0
        self.period = max(DECAY_PERIOD_PER_ENTRY * capacity, MIN_DECAY_PERIOD)
        self.ticks = self.period
        self.draw = RANDOM_SEED

    def _tick(self) -> None:
        self.ticks -= 1
        if not self.ticks:
            self.ticks = self.period
            self.epoch += 1

    def _file(self, k: bytes, level: int) -> None:
        self.arrivals += 1
        self.level[k], self.arrival[k] = level, self.arrivals

    def insert(self, k: bytes) -> None:
        self._tick()
        self._file(k, self.epoch + INITIAL_COUNTER)

    def access(self, k: bytes) -> None:
        self._tick()
        counter = self.level[k] - self.epoch
        if counter <= INITIAL_COUNTER:
            counter = max(counter + 1, 1)
        else:
            odds = (counter - INITIAL_COUNTER) * LOG_FACTOR + 1
            if counter < MAX_COUNTER:
                self.draw = next_draw(self.draw)
            if counter >= MAX_COUNTER or self.draw >= DRAW_RANGE / odds:
                self._file(k, self.level[k])  # the counter stays; the use is recorded
                return
            counter += 1
        self._file(k, self.epoch + counter)

    def delete(self, k: bytes) -> None:
        del self.level[k], self.arrival[k]

    def victim(self) -> bytes:
        k = min(self.level, key=lambda k: (self.level[k], self.arrival[k]))
        self.delete(k)
        return k


LFU_OPS = st.lists(st.tuples(st.booleans(), st.integers(0, 11)), max_size=1500)


@settings(max_examples=60)
@given(capacity=st.integers(1, 8), ops=LFU_OPS)
def test_lfu_evicts_as_a_full_scan_would(capacity: int, ops: list[tuple[bool, int]]) -> None:
    """Reads, writes (a miss evicts when full), deletes and overwrites: the same victims as
    the naive rule (lowest level, then least recently used), with the buckets' bookkeeping."""
    policy, model = Driven(LFU(capacity)), NaiveLfu(capacity)
    for write, n in ops:
        k = str(n).encode()
        if k in model.level and write:  # an overwrite: a delete, then an insert
            policy.on_delete(k)
            model.delete(k)
        elif k in model.level and n % 3 == 0:
            policy.on_delete(k)
            model.delete(k)
            continue
        elif k in model.level:
            policy.on_access(k)
            model.access(k)
            continue
        if len(model.level) >= capacity:
            assert policy.victim() == model.victim()
        policy.on_insert(k)
        model.insert(k)


def test_volatile_ttl_by_hand(clock: FakeClock) -> None:
    store = Store(make_policy("VOLATILE_TTL"), max_items=3)
    store.put(b"a", b"", b"", 100, clock())
    store.put(b"b", b"", b"", 10, clock())
    store.put(b"c", b"", b"", 0, clock())
    store.put(b"d", b"", b"", 50, clock())  # evicts b: expires soonest
    assert store.get(b"b", clock()) is None
    store.put(b"e", b"", b"", 0, clock())  # evicts d (50 s before a's 100 s)
    assert store.get(b"d", clock()) is None
    store.put(b"f", b"", b"", 0, clock())  # evicts a: the last entry with a TTL
    assert store.get(b"a", clock()) is None
    store.get(b"c", clock())  # without TTL: least recently used goes first
    store.put(b"g", b"", b"", 0, clock())  # evicts e
    assert [store.get(k, clock()) is not None for k in (b"c", b"e", b"f", b"g")] == [
        True,
        False,
        True,
        True,
    ]


def test_volatile_ttl_an_overwrite_moves_a_key_between_ttl_and_none(clock: FakeClock) -> None:
    store = Store(make_policy("VOLATILE_TTL"), max_items=2)
    store.put(b"a", b"", b"", 0, clock())  # without TTL: a handle into the LRU
    store.put(b"b", b"", b"", 10, clock())
    store.put(b"a", b"1", b"", 100, clock())  # a gets a TTL, later than b's
    store.put(b"b", b"2", b"", 0, clock())  # b loses its TTL
    store.put(b"c", b"", b"", 0, clock())  # evicts a: the only entry with a TTL
    assert store.get(b"a", clock()) is None
    assert store.get(b"b", clock()) is not None
    store.put(b"d", b"", b"", 0, clock())  # evicts c: b was read since
    assert store.get(b"c", clock()) is None
    assert [store.get(k, clock()) for k in (b"b", b"d")] == [(b"2", b""), (b"", b"")]


def test_frequency_sketch_counts_saturate_and_halve() -> None:
    sketch = FrequencySketch(64)
    for _ in range(20):
        sketch.increment(b"hot")
    sketch.increment(b"cold")
    assert sketch.frequency(b"hot") == MAX_COUNT
    assert sketch.frequency(b"cold") >= 1
    assert sketch.frequency(b"never") <= sketch.frequency(b"cold")
    sketch.halve()
    assert sketch.frequency(b"hot") == MAX_COUNT // 2
    assert sketch.resets == 1


class EagerSketch:
    """The frequency sketch as it was before halving went lazy: every counter halved at once."""

    def __init__(self, like: FrequencySketch) -> None:
        self.counts = bytearray(len(like.counters))
        self.block_mask = like.block_mask
        self.countdown = like.countdown
        self.sample_size = like.sample_size

    def counters_of(self, h: int) -> list[int]:
        base, bits = (h & self.block_mask) << 6, h >> 32
        return [base + quarter * 16 + ((bits >> (4 * quarter)) & 15) for quarter in range(4)]

    def increment(self, h: int) -> None:
        for i in self.counters_of(h):
            self.counts[i] = min(self.counts[i] + 1, MAX_COUNT)
        self.countdown -= 1
        if not self.countdown:
            self.halve()

    def halve(self) -> None:
        self.counts = bytearray(count >> 1 for count in self.counts)
        self.countdown = self.sample_size

    def frequency(self, h: int) -> int:
        return min(self.counts[i] for i in self.counters_of(h))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["inc", "inc", "inc", "freq", "halve"]), st.integers(0, 39)),
        max_size=600,
    ),
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=40, max_size=40, unique=True),
)
def test_frequency_sketch_halves_lazily_as_if_at_once(
    steps: list[tuple[str, int]], hashes: list[int]
) -> None:
    sketch = FrequencySketch(64)  # 32 blocks: the 40 keys share them
    sketch.set_sample_size(4)  # a halving every 40 counts as well as the explicit ones
    eager = EagerSketch(sketch)
    for op, k in steps:
        h = hashes[k]
        if op == "inc":
            sketch.increment_hash(h)
            eager.increment(h)
        elif op == "halve":
            sketch.halve()
            eager.halve()
        assert sketch.frequency_of_hash(h) == eager.frequency(h)
    assert [sketch.frequency_of_hash(h) for h in hashes] == [eager.frequency(h) for h in hashes]


def test_frequency_sketch_halving_touches_no_counter() -> None:
    sketch = FrequencySketch(64)
    for _ in range(20):
        sketch.increment(b"hot")
    before = bytes(sketch.counters)
    for _ in range(3):
        sketch.halve()
    assert bytes(sketch.counters) == before  # the block catches up when next touched
    assert sketch.frequency(b"hot") == MAX_COUNT >> 3
    assert bytes(sketch.counters) != before


def test_volatile_ttl_skips_stale_references_and_compacts() -> None:
    policy = Driven(make_policy("VOLATILE_TTL"))
    rounds, keys, spread = 6, 1000, 500

    def expires_at(i: int, round_: int) -> float:
        return 1000.5 + (i * 7919 + round_ * 31) % spread

    for round_ in range(rounds):  # every key overwritten: stale references pile up
        for i in range(keys):
            if round_:
                policy.on_delete(key(i))
            policy.on_insert(key(i), expires_at(i, round_))
    last = {key(i): expires_at(i, rounds - 1) for i in range(keys)}
    victims = [policy.victim() for _ in range(keys)]
    assert sorted(victims) == sorted(last)
    order = [int(last[v]) for v in victims]
    assert order == sorted(order)

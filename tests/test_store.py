"""The store: capacity, expiry, accounting and counters, on an injected clock."""

from __future__ import annotations

import pytest
from librt.strings import read_f64_le, read_i16_le

from cache_api import store as store_module
from cache_api.expiry import ExpiryWheel
from cache_api.policies import make_policy
from cache_api.store import ENTRY_OVERHEAD_BYTES, Store, entry_size
from cache_api.table import KEY_LENGTH_AT, MAX_KEY_BYTES
from cache_api.types import MAX_HANDLE, PutResult
from tests.conftest import FakeClock


def make(policy: str = "REJECT", items: int = 0, max_bytes: int = 0) -> Store:
    return Store(make_policy(policy), max_items=items, max_bytes=max_bytes)


def test_put_get_delete(clock: FakeClock) -> None:
    store = make()
    assert store.put(b"k", b"v", b"text/plain", 10, clock()) is PutResult.STORED
    assert store.get(b"k", clock()) == (b"v", b"text/plain")
    assert store.delete(b"k", clock())
    assert store.get(b"k", clock()) is None
    assert not store.delete(b"k", clock())
    stats = store.stats()
    assert (stats.sets, stats.hits, stats.misses, stats.deletes) == (1, 1, 1, 1)
    assert (stats.items, stats.bytes) == (0, 0)


def test_expiry_is_at_now_ge_expires_at(clock: FakeClock) -> None:
    store = make()
    store.put(b"k", b"v", b"", 10, clock())
    clock.advance(9.999)
    assert store.get(b"k", clock()) is not None
    clock.advance(0.001)
    assert store.get(b"k", clock()) is None
    stats = store.stats()
    assert (stats.expirations, stats.items, stats.bytes) == (1, 0, 0)


def test_ttl_zero_is_forever(clock: FakeClock) -> None:
    store = make()
    store.put(b"k", b"v", b"", 0, clock())
    clock.advance(10**9)
    assert store.get(b"k", clock()) is not None
    assert store.expire_due(clock(), 100) == 0


def test_delete_of_expired_is_a_miss(clock: FakeClock) -> None:
    store = make()
    store.put(b"k", b"v", b"", 1, clock())
    clock.advance(1)
    assert not store.delete(b"k", clock())
    assert store.stats().expirations == 1
    assert store.stats().deletes == 0


def test_reject_when_full_keeps_everything(clock: FakeClock) -> None:
    store = make("REJECT", items=2)
    assert store.put(b"a", b"1", b"", 0, clock()) is PutResult.STORED
    assert store.put(b"b", b"2", b"", 0, clock()) is PutResult.STORED
    assert store.put(b"c", b"3", b"", 0, clock()) is PutResult.REJECTED_FULL
    assert store.get(b"a", clock()) is not None
    assert store.get(b"b", clock()) is not None
    assert store.stats().rejected_writes == 1


def test_overwrite_at_count_capacity_is_allowed_under_reject(clock: FakeClock) -> None:
    store = make("REJECT", items=2)
    store.put(b"a", b"1", b"", 0, clock())
    store.put(b"b", b"2", b"", 0, clock())
    assert store.put(b"a", b"new", b"", 0, clock()) is PutResult.STORED
    assert store.get(b"a", clock()) == (b"new", b"")


def test_overwrite_that_cannot_fit_under_reject_keeps_old_value(clock: FakeClock) -> None:
    small = entry_size(b"a", b"x", b"", ENTRY_OVERHEAD_BYTES)
    store = make("REJECT", max_bytes=small * 2)
    store.put(b"a", b"x", b"", 0, clock())
    store.put(b"b", b"y", b"", 0, clock())
    assert store.put(b"a", b"x" * (small + 1), b"", 0, clock()) is PutResult.REJECTED_FULL
    found = store.get(b"a", clock())
    assert found is not None and found[0] == b"x"
    assert store.stats().bytes == small * 2


def test_expired_entries_do_not_hold_slots(clock: FakeClock) -> None:
    store = make("REJECT", items=2)
    store.put(b"a", b"1", b"", 5, clock())
    store.put(b"b", b"2", b"", 0, clock())
    clock.advance(5)
    assert store.put(b"c", b"3", b"", 0, clock()) is PutResult.STORED
    assert store.stats().expirations == 1
    assert store.stats().rejected_writes == 0


@pytest.mark.parametrize("policy", ["OLDEST_FIRST", "NEWEST_FIRST", "LRU"])
def test_expired_entry_goes_before_any_live_one(policy: str, clock: FakeClock) -> None:
    store = make(policy, items=3)
    store.put(b"live1", b"", b"", 0, clock())
    store.put(b"dies", b"", b"", 2, clock())
    store.put(b"live2", b"", b"", 0, clock())
    clock.advance(2.5)
    store.put(b"new", b"", b"", 0, clock())
    for key in (b"live1", b"live2", b"new"):
        assert store.get(key, clock()) is not None
    assert store.stats().evictions == 0
    assert store.stats().expirations == 1


def test_oldest_first_evicts_the_oldest_write(clock: FakeClock) -> None:
    store = make("OLDEST_FIRST", items=2)
    store.put(b"a", b"", b"", 0, clock())
    store.put(b"b", b"", b"", 0, clock())
    store.get(b"a", clock())
    store.put(b"c", b"", b"", 0, clock())
    assert store.get(b"a", clock()) is None
    assert store.get(b"b", clock()) is not None
    assert store.stats().evictions == 1


def test_oldest_first_overwrite_is_a_new_write(clock: FakeClock) -> None:
    store = make("OLDEST_FIRST", items=2)
    store.put(b"a", b"", b"", 0, clock())
    store.put(b"b", b"", b"", 0, clock())
    store.put(b"a", b"again", b"", 0, clock())
    store.put(b"c", b"", b"", 0, clock())
    assert store.get(b"b", clock()) is None
    assert store.get(b"a", clock()) is not None


def test_newest_first_evicts_the_newest_write(clock: FakeClock) -> None:
    store = make("NEWEST_FIRST", items=2)
    store.put(b"a", b"", b"", 0, clock())
    store.put(b"b", b"", b"", 0, clock())
    store.put(b"c", b"", b"", 0, clock())
    assert store.get(b"b", clock()) is None
    assert store.get(b"a", clock()) is not None
    assert store.get(b"c", clock()) is not None


def test_lru_evicts_the_least_recently_used(clock: FakeClock) -> None:
    store = make("LRU", items=2)
    store.put(b"a", b"", b"", 0, clock())
    store.put(b"b", b"", b"", 0, clock())
    store.get(b"a", clock())
    store.put(b"c", b"", b"", 0, clock())
    assert store.get(b"b", clock()) is None
    assert store.get(b"a", clock()) is not None


def test_byte_capacity_evicts_until_the_new_entry_fits(clock: FakeClock) -> None:
    unit = entry_size(b"a", b"", b"", ENTRY_OVERHEAD_BYTES + make("LRU").policy.per_entry_bytes)
    store = make("LRU", max_bytes=unit * 4)
    for key in (b"a", b"b", b"c", b"d"):
        store.put(key, b"", b"", 0, clock())
    assert store.put(b"e", b"x" * (unit * 2), b"", 0, clock()) is PutResult.STORED
    assert store.stats().evictions == 3
    assert store.stats().bytes <= unit * 4
    assert store.get(b"d", clock()) is not None


@pytest.mark.parametrize("policy", ["REJECT", "LRU"])
def test_entry_larger_than_capacity_is_refused_before_evicting(
    policy: str, clock: FakeClock
) -> None:
    store = make(policy, max_bytes=2000)
    store.put(b"a", b"1", b"", 0, clock())
    assert store.put(b"big", b"x" * 2000, b"", 0, clock()) is PutResult.TOO_LARGE
    assert store.get(b"a", clock()) is not None
    assert store.stats().evictions == 0


def test_content_type_counts_in_the_accounting(clock: FakeClock) -> None:
    store = make()
    store.put(b"k", b"vv", b"text/plain", 0, clock())
    assert store.stats().bytes == 1 + 2 + len(b"text/plain") + ENTRY_OVERHEAD_BYTES


def test_active_expiry_reclaims_unread_entries(clock: FakeClock) -> None:
    store = make()
    for i in range(100):
        store.put(b"k%d" % i, b"v", b"", 1 + i % 3, clock())
    store.put(b"forever", b"v", b"", 0, clock())
    clock.advance(2)
    assert store.expire_due(clock(), 1000) == 67
    clock.advance(1)
    assert store.expire_due(clock(), 1000) == 33
    assert len(store) == 1
    assert store.stats().bytes == entry_size(b"forever", b"v", b"", ENTRY_OVERHEAD_BYTES)


def test_expire_due_respects_its_limit(clock: FakeClock) -> None:
    store = make()
    for i in range(50):
        store.put(b"k%d" % i, b"v", b"", 1, clock())
    clock.advance(1)
    assert store.expire_due(clock(), 20) == 20
    assert store.expire_due(clock(), 20) == 20
    assert store.expire_due(clock(), 20) == 10


def test_overwritten_keys_are_not_expired_early(clock: FakeClock) -> None:
    store = make()
    store.put(b"k", b"old", b"", 1, clock())
    store.put(b"k", b"new", b"", 100, clock())
    clock.advance(2)
    assert store.expire_due(clock(), 10) == 0
    assert store.get(b"k", clock()) is not None


def test_stale_wheel_references_are_compacted(clock: FakeClock) -> None:
    store = make()
    for i in range(20_000):  # each write shortens the TTL: each files a reference
        store.put(b"same", b"%d" % i, b"", 30_000 - i, clock())
    assert store._wheel.refs <= 2 * 1024 + 1
    clock.advance(10_001)
    assert store.expire_due(clock(), 10) == 1


def test_ttl_refreshes_file_no_reference_and_the_entry_still_expires(clock: FakeClock) -> None:
    store = make()
    for _ in range(100):  # a client refreshing a 10 s TTL every second
        store.put(b"k", b"v", b"", 10, clock())
        clock.advance(1)
    assert store._wheel.refs == 1
    clock.advance(8.5)  # the last write, at +99 s, expires at +109 s
    assert store.expire_due(clock(), 10) == 0  # its reference (+10 s) moved on to +109 s
    assert store._wheel.refs == 1
    assert store.get(b"k", clock()) is not None
    clock.advance(0.5)
    assert store.expire_due(clock(), 10) == 1
    assert (len(store), store._wheel.refs) == (0, 0)


def test_a_shortened_ttl_files_a_new_reference(clock: FakeClock) -> None:
    store = make()
    store.put(b"k", b"v", b"", 100, clock())
    store.put(b"k", b"v", b"", 5, clock())
    assert store._wheel.refs == 2
    clock.advance(5)
    assert store.expire_due(clock(), 10) == 1
    clock.advance(100)
    assert store.expire_due(clock(), 10) == 0
    assert store._wheel.refs == 0


def test_large_and_small_values_with_shared_and_inline_content_types(clock: FakeClock) -> None:
    store = make("REJECT")
    types = [b"type/%d" % i for i in range(300)]  # past the shared table: the rest inline
    for i, content_type in enumerate(types):
        value = bytes([i % 256]) * (10 if i % 2 else 5000)
        assert store.put(b"k%d" % i, value, content_type, 0, clock()) is PutResult.STORED
    for i, content_type in enumerate(types):
        found = store.get(b"k%d" % i, clock())
        assert found is not None
        assert (bytes(found[0]), found[1]) == (
            bytes([i % 256]) * (10 if i % 2 else 5000),
            content_type,
        )
    expected = sum(
        entry_size(b"k%d" % i, b"." * (10 if i % 2 else 5000), t, ENTRY_OVERHEAD_BYTES)
        for i, t in enumerate(types)
    )
    assert store.stats().bytes == expected
    for i in range(300):
        assert store.delete(b"k%d" % i, clock())
    assert store.stats().bytes == 0


def test_overwrite_within_the_same_second_keeps_one_wheel_reference(clock: FakeClock) -> None:
    store = make("REJECT")
    for _ in range(5):
        assert store.put(b"k", b"v", b"", 10, clock()) is PutResult.STORED
        clock.advance(0.01)
    assert store._wheel.refs == 1
    clock.advance(9.98)  # the last write, at +0.04 s, expires at +10.04 s
    assert store.get(b"k", clock()) is not None
    assert store.expire_due(clock(), 10) == 0
    clock.advance(0.02)
    assert store.expire_due(clock(), 10) == 1
    assert store.get(b"k", clock()) is None


def test_wheel_is_due_once_now_reaches_its_oldest_bucket() -> None:
    wheel = ExpiryWheel()
    assert not wheel.due(100.0)
    wheel.add(1, 105.5)
    wheel.add(2, 107.2)
    assert not wheel.due(104.9)
    assert wheel.due(105.0)
    expires = {1: 105.5, 2: 107.2}
    assert wheel.pop_expired(105.0, expires.get) is None  # bucket 105 is open, slot 1 not yet due
    assert wheel.due(105.0)
    assert wheel.pop_expired(105.5, expires.get) == 1
    assert not wheel.due(106.9)
    assert wheel.due(107.0)


def test_entry_head_literals_match_its_struct() -> None:
    assert store_module._HEAD_SIZE == store_module.ENTRY_HEAD.size == 11
    assert store_module.ENTRY_HEAD.size - 3 == store_module.TYPE_OFFSET
    assert store_module.TYPE_OFFSET + 1 == KEY_LENGTH_AT
    blob = store_module.ENTRY_HEAD.pack(1234.5, 7, MAX_KEY_BYTES) + b"value"
    assert read_f64_le(blob, 0) == 1234.5
    assert blob[store_module.TYPE_OFFSET] == 7
    assert read_i16_le(blob, KEY_LENGTH_AT) == MAX_KEY_BYTES
    assert store_module._HANDLE_SIZE == store_module.HANDLE.size == 4
    assert store_module.ENTRY_HEAD.size == store_module.HANDLE_OFFSET
    assert 2 ** (8 * store_module.HANDLE.size - 1) - 1 == MAX_HANDLE  # a signed 32-bit handle


@pytest.mark.parametrize("policy", ["SIEVE", "W_TINYLFU_ADAPTIVE", "REJECT"])
def test_entries_round_trip_with_and_without_a_policy_handle(policy: str, clock: FakeClock) -> None:
    # SIEVE and W_TINYLFU_ADAPTIVE keep handles (4 more bytes in each entry's head),
    # REJECT none (every evicting policy keeps them now): every layout (shared and
    # inline Content-Types, copied and viewed values) reads back whole.
    types = [b"type/%d" % i for i in range(store_module.MAX_SHARED_CONTENT_TYPES + 20)]
    store = make(policy, items=len(types))
    assert store.policy.keeps_handles == (policy != "REJECT")
    overhead = ENTRY_OVERHEAD_BYTES + store.policy.per_entry_bytes
    sizes = (0, 1, 100, store_module.VIEW_FROM_BYTES, 3 * store_module.COPY_ONCE_FROM_BYTES)
    written = {}
    for i, content_type in enumerate(types):
        k, value = b"k%d" % i, bytes([i % 251]) * sizes[i % len(sizes)]
        assert store.put(k, value, content_type, i % 3, clock()) is PutResult.STORED
        written[k] = (value, content_type)
    for k, (value, content_type) in written.items():
        found = store.get(k, clock())
        assert found is not None and (bytes(found[0]), found[1]) == (value, content_type)
    accounted = sum(entry_size(k, *found, overhead) for k, found in written.items())
    assert store.stats().bytes == accounted
    expiring = []
    for i, k in enumerate(list(written)):  # overwrites, deletes and expiries pass the handle back
        if i % 3 == 0:
            store.put(k, b"new", b"type/0", 0, clock())
            written[k] = (b"new", b"type/0")
        elif i % 3 == 1:
            assert store.delete(k, clock())
            del written[k]
        else:
            expiring.append(k)  # stored with ttl=2
    clock.advance(3)
    assert store.expire_due(clock(), 10_000) == len(expiring)
    for k in expiring:
        del written[k]
    for k in [b"new%d" % i for i in range(len(types))]:  # it fills; then each write evicts
        result = store.put(k, b"v", b"type/1", 0, clock())
        if result is PutResult.STORED:
            written[k] = (b"v", b"type/1")
        else:  # or, under REJECT, is refused
            assert result is PutResult.REJECTED_FULL and not store.policy.evicts
    assert store.evictions == len(written) - len(types)  # victims were live keys, each once
    present = {k: found for k, found in written.items() if store.get(k, clock()) is not None}
    assert len(present) == len(store) == len(types)
    accounted = sum(entry_size(k, *found, overhead) for k, found in present.items())
    assert store.stats().bytes == accounted

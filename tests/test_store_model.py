"""A stateful model test: the store against a plain reference model, for every policy.

Hypothesis drives random puts, gets, deletes, clock advances and active-expiry
steps with small capacities. For the original policies and LRU the model
predicts every victim, so the live contents must match exactly; for every
policy it checks the invariants: capacity is never exceeded, the byte
accounting equals the sum of entry sizes, no live entry is evicted while an
expired one is held, values read back are the last written, and every stored
entry leaves by exactly one counted route.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cache_api.policies import REGISTRY, make_policy
from cache_api.store import Store, entry_size
from cache_api.types import FOREVER, PutResult

KEYS = st.sampled_from([b"a", b"b", b"c", b"d", b"e", b"f"])
VALUES = st.binary(max_size=40)
CONTENT_TYPES = st.sampled_from([b"", b"text/plain", b"application/json"])
TTLS = st.sampled_from([0, 0, 1, 2, 5])
ADVANCES = st.sampled_from([0.0, 0.5, 1.0, 2.0, 4.5])

EXACT_ORDER = {"OLDEST_FIRST": "write", "NEWEST_FIRST": "write", "LRU": "use"}


@dataclass
class ModelEntry:
    value: bytes
    content_type: bytes
    expires_at: float


class StoreModel(RuleBasedStateMachine):
    policy_name = "REJECT"

    @initialize(
        max_items=st.sampled_from([0, 1, 2, 3, 5]),
        max_bytes_extra=st.sampled_from([0, 0, 60, 150]),
    )
    def setup(self, max_items: int, max_bytes_extra: int) -> None:
        policy = make_policy(self.policy_name)
        self.overhead = Store(policy)._overhead
        self.max_items = max_items
        self.max_bytes = 3 * (self.overhead + 1) + max_bytes_extra if max_bytes_extra else 0
        self.store = Store(policy, max_items=max_items, max_bytes=self.max_bytes)
        self.now = 1000.0
        self.live: dict[bytes, ModelEntry] = {}
        self.order: list[bytes] = []
        self.overwrites = 0

    # -- model helpers ---------------------------------------------------------

    def size(self, key: bytes, entry: ModelEntry) -> int:
        return entry_size(key, entry.value, entry.content_type, self.overhead)

    def drop_expired_from_model(self) -> None:
        for key in [k for k, e in self.live.items() if e.expires_at <= self.now]:
            del self.live[key]
            self.order.remove(key)

    def held_expired(self) -> int:
        expiries = [self.store.inspect(key) for key in self.store.all_keys()]
        return sum(1 for found in expiries if found is not None and found[1] <= self.now)

    def touch(self, key: bytes) -> None:
        if key in self.order:
            self.order.remove(key)
        self.order.append(key)

    # -- rules -----------------------------------------------------------------

    @rule(key=KEYS, value=VALUES, content_type=CONTENT_TYPES, ttl=TTLS)
    def put(self, key: bytes, value: bytes, content_type: bytes, ttl: int) -> None:
        self.drop_expired_from_model()
        evictions_before = self.store.evictions
        held_expired_before = self.held_expired()
        result = self.store.put(key, value, content_type, ttl, self.now)
        new = ModelEntry(value, content_type, self.now + ttl if ttl else FOREVER)
        size = self.size(key, new)
        if self.store.evictions > evictions_before:
            assert self.held_expired() == 0, "a live entry was evicted while an expired one is held"
        if self.max_bytes and size > self.max_bytes:
            assert result is PutResult.TOO_LARGE
            assert self.store.evictions == evictions_before
            return
        old = self.live.get(key)
        live_bytes = sum(self.size(k, e) for k, e in self.live.items())
        items_after = len(self.live) + (0 if old else 1)
        bytes_after = live_bytes - (self.size(key, old) if old else 0) + size
        fits = (not self.max_items or items_after <= self.max_items) and (
            not self.max_bytes or bytes_after <= self.max_bytes
        )
        if not fits and not self.store.policy.evicts:
            assert result is PutResult.REJECTED_FULL
            assert self.held_expired() <= held_expired_before
            return
        assert result is PutResult.STORED
        if old is not None:
            self.overwrites += 1
            del self.live[key]
            self.order.remove(key)
        mode = EXACT_ORDER.get(self.policy_name)
        if mode is not None:
            while (self.max_items and len(self.live) + 1 > self.max_items) or (
                self.max_bytes
                and sum(self.size(k, e) for k, e in self.live.items()) + size > self.max_bytes
            ):
                victim = self.order.pop(-1 if self.policy_name == "NEWEST_FIRST" else 0)
                del self.live[victim]
        else:
            stored = set(self.store.all_keys())
            for gone in [k for k in self.live if k not in stored]:
                del self.live[gone]
                self.order.remove(gone)
        self.live[key] = new
        self.order.append(key)

    @rule(key=KEYS)
    def get(self, key: bytes) -> None:
        entry = self.store.get(key, self.now)
        self.drop_expired_from_model()
        expected = self.live.get(key)
        if expected is None:
            assert entry is None
            return
        assert entry == (expected.value, expected.content_type)
        if EXACT_ORDER.get(self.policy_name) == "use":
            self.touch(key)

    @rule(key=KEYS)
    def delete(self, key: bytes) -> None:
        deleted = self.store.delete(key, self.now)
        self.drop_expired_from_model()
        assert deleted == (key in self.live)
        if deleted:
            del self.live[key]
            self.order.remove(key)

    @rule(seconds=ADVANCES)
    def advance(self, seconds: float) -> None:
        self.now += seconds

    @rule(limit=st.integers(min_value=1, max_value=4))
    def active_expiry(self, limit: int) -> None:
        held = self.held_expired()
        reclaimed = self.store.expire_due(self.now, limit)
        assert reclaimed == min(limit, held)

    # -- invariants --------------------------------------------------------------

    @invariant()
    def capacity_is_respected(self) -> None:
        stats = self.store.stats()
        if self.max_items:
            assert stats.items <= self.max_items
        if self.max_bytes:
            assert stats.bytes <= self.max_bytes

    @invariant()
    def accounting_is_the_sum_of_entry_sizes(self) -> None:
        expected = 0
        for key in self.store.all_keys():
            inspected = self.store.inspect(key)
            assert inspected is not None
            (value, content_type), _ = inspected
            expected += entry_size(key, bytes(value), content_type, self.overhead)
        assert self.store.stats().bytes == expected

    @invariant()
    def live_contents_match_the_model(self) -> None:
        live = set()
        for key in self.store.all_keys():
            inspected = self.store.inspect(key)
            if inspected is not None and inspected[1] > self.now:
                live.add(key)
        model_live = {k for k, e in self.live.items() if e.expires_at > self.now}
        if self.policy_name in EXACT_ORDER or not self.store.policy.evicts:
            assert live == model_live
        else:
            assert live <= model_live

    @invariant()
    def every_entry_leaves_by_one_counted_route(self) -> None:
        s = self.store.stats()
        assert s.sets == s.items + s.expirations + s.evictions + s.deletes + self.overwrites


def _machine_for(policy: str) -> type[StoreModel]:
    return type(f"StoreModel_{policy}", (StoreModel,), {"policy_name": policy})


@pytest.mark.parametrize("policy", sorted(REGISTRY))
def test_store_matches_model(policy: str) -> None:
    machine = _machine_for(policy)
    machine.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)
    machine.TestCase().runTest()

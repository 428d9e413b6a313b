"""/health and /stats: the endpoints over fakes, the route table, and draining on a real server."""

from __future__ import annotations

import gc
import http.client
import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest

from cache_api.api import Api
from cache_api.config import Settings
from cache_api.openapi import STATS_SCHEMA
from cache_api.ops import Ops, stats_document
from cache_api.policies import make_policy
from cache_api.server import freeze_long_lived, operations_routes, release_large_frees
from cache_api.store import Store
from cache_api.table import Table
from cache_api.telemetry import Telemetry
from cache_api.traffic import RequestCounts
from cache_api.types import Request
from tests.conftest import FakeClock

DRAIN_POLL_SECONDS = 0.05
DRAIN_WAIT_SECONDS = 5.0


@dataclass
class FakeConnections:
    connections: set[object] = field(default_factory=set)
    total_connections: int = 0
    draining: bool = False


@dataclass
class FakeExpiry:
    ticks: int = 0
    time_cap_reached: int = 0
    key_cap_reached: int = 0
    stale_ratio: float = 0.0


@dataclass
class Rig:
    """A store, counters and the endpoints over them, driven by a fake clock."""

    clock: FakeClock
    store: Store
    connections: FakeConnections
    requests: RequestCounts
    expiry: FakeExpiry
    telemetry: Telemetry
    api: Api

    def call(self, method: bytes, target: bytes, body: bytes = b"") -> tuple[int, bytes]:
        response = self.api.handle(Request(method, target, None, body))
        self.requests.add(method, response.status)  # as the protocol counts
        return response.status, bytes(response.body)


def make_rig(clock: FakeClock, settings: Settings | None = None) -> Rig:
    settings = settings or Settings(eviction_policy="LRU", number_of_slots=2)
    store = Store(
        make_policy(settings.eviction_policy),
        max_items=settings.number_of_slots,
        max_bytes=settings.max_memory,
    )
    connections = FakeConnections()
    requests = RequestCounts()
    expiry = FakeExpiry()
    telemetry = Telemetry(
        settings=settings,
        store=store,
        connections=connections,
        requests=requests,
        expiry=expiry,
        clock=clock,
        started_at=clock(),
    )
    api = Api(store, settings, clock, routes=operations_routes(telemetry))
    return Rig(clock, store, connections, requests, expiry, telemetry, api)


def get_json(rig: Rig, target: bytes) -> tuple[int, Any]:
    status, body = rig.call(b"GET", target)
    return status, json.loads(body)


def test_health_is_ok_then_draining(clock: FakeClock) -> None:
    rig = make_rig(clock)
    assert get_json(rig, b"/health") == (200, {"status": "ok"})
    rig.connections.draining = True
    assert get_json(rig, b"/health") == (503, {"status": "draining"})


def test_stats_report_every_counter(clock: FakeClock) -> None:
    rig = make_rig(clock)
    rig.call(b"GET", b"/object/a")
    for key in (b"a", b"b", b"c"):  # NUMBER_OF_SLOTS=2 under LRU: c evicts a
        rig.call(b"PUT", b"/object/" + key, b"value")
    rig.call(b"GET", b"/object/b")
    rig.call(b"DELETE", b"/object/b")
    rig.call(b"PUT", b"/object/d?ttl=1", b"value")
    clock.advance(2)
    rig.call(b"GET", b"/object/d")
    rig.call(b"PATCH", b"/health")
    rig.connections.connections = {object(), object()}
    rig.connections.total_connections = 7
    rig.expiry.ticks = 4
    clock.advance(1.5)
    status, stats = get_json(rig, b"/stats")
    assert status == 200
    jsonschema.validate(stats, STATS_SCHEMA)
    assert stats["uptime_seconds"] == 3.5
    assert stats["draining"] is False
    assert stats["limits"]["eviction_policy"] == "LRU"
    assert stats["limits"]["number_of_slots"] == 2
    assert stats["cache"] == {
        "items": 1,
        "bytes": rig.store.stats().bytes,
        "hits": 1,
        "misses": 2,
        "hit_ratio": pytest.approx(1 / 3),
        "sets": 4,
        "deletes": 1,
        "evictions": 1,
        "expirations": 1,
        "rejected_writes": 0,
    }
    assert stats["connections"] == {"current": 2, "total": 7}
    assert stats["expiry"]["ticks"] == 4
    assert stats["requests"] == {
        "total": 9,
        "by_method": {"DELETE": 1, "GET": 3, "PATCH": 1, "PUT": 4},
        "by_status": {"200": 6, "404": 2, "405": 1},
    }
    assert stats["memory"]["peak_rss_bytes"] > 0


def test_hit_ratio_is_zero_before_any_lookup(clock: FakeClock) -> None:
    rig = make_rig(clock)
    assert stats_document(rig.telemetry.snapshot())["cache"]["hit_ratio"] == 0.0


def test_operation_routes_answer_get_only(clock: FakeClock) -> None:
    rig = make_rig(clock)
    for path in (b"/health", b"/stats", b"/metrics", b"/openapi.json"):
        assert rig.call(b"GET", path)[0] == 200
        response = rig.api.handle(Request(b"POST", path, None, b""))
        assert (response.status, response.extra_headers) == (405, b"allow: GET\r\n")
    assert Ops(rig.telemetry).health(Request(b"GET", b"/health", None, b"")).status == 200


@pytest.mark.e2e
def test_sigterm_turns_health_to_503_while_still_serving(
    server_factory: Callable[..., Any],
) -> None:
    server = server_factory(shutdown_delay="3")
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("PUT", "/object/k", body=b"v")
    assert conn.getresponse().read() == b'{"message": "success"}\n'
    server.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + DRAIN_WAIT_SECONDS
    while True:
        conn.close()
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.request("GET", "/health")
        response = conn.getresponse()
        body = response.read()
        if response.status == 503 or time.monotonic() > deadline:
            break
        time.sleep(DRAIN_POLL_SECONDS)
    assert (response.status, json.loads(body)) == (503, {"status": "draining"})
    assert response.getheader("connection") == "close"
    conn.close()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/object/k")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"v")
    conn.close()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/stats")
    assert json.loads(conn.getresponse().read())["draining"] is True
    conn.close()
    assert server.stop() == 0
    log = server.log()
    assert "/health answers 503; serving 3s more (SHUTDOWN_DELAY)" in log
    assert "stopped after" in log
    assert "1 set(s)" in log


@pytest.mark.e2e
def test_second_signal_cuts_the_shutdown_delay_short(server_factory: Callable[..., Any]) -> None:
    server = server_factory(shutdown_delay="60")
    server.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + DRAIN_WAIT_SECONDS
    while "/health answers 503" not in server.log():
        assert time.monotonic() < deadline
        time.sleep(DRAIN_POLL_SECONDS)
    started = time.monotonic()
    assert server.stop(signal.SIGINT) == 0
    assert time.monotonic() - started < DRAIN_WAIT_SECONDS


def test_large_frees_go_back_to_the_system_on_glibc() -> None:
    # CI and the Docker image run on glibc (Debian); mallopt answers 1 on success.
    assert release_large_frees() is True


def test_a_table_built_before_serving_stays_out_of_garbage_collections() -> None:
    table = Table()
    try:
        assert freeze_long_lived() > 0
        for key_hash in range(1_000):  # the entries grow after the freeze, in place
            table.entries[table.claim(key_hash)] = b"blob"
        gc.collect()
        assert all(tracked is not table.entries for tracked in gc.get_objects())
        fresh = Table()
        assert any(tracked is fresh.entries for tracked in gc.get_objects())
    finally:
        gc.unfreeze()

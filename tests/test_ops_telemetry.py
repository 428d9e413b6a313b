"""telemetry: one snapshot of every counter, and the resident memory read from the OS."""

from __future__ import annotations

from pathlib import Path

from cache_api.config import Settings
from cache_api.policies import make_policy
from cache_api.store import Store
from cache_api.telemetry import Telemetry, current_rss_bytes, peak_rss_bytes
from cache_api.traffic import RequestCounts
from tests.conftest import FakeClock
from tests.test_ops import FakeConnections, FakeExpiry


def test_snapshot_reads_every_source(clock: FakeClock) -> None:
    settings = Settings(max_memory=4096, eviction_policy="OLDEST_FIRST", time_to_live=0)
    store = Store(make_policy("OLDEST_FIRST"), max_bytes=4096)
    store.put(b"k", b"v", b"", 0, clock())
    store.get(b"k", clock())
    store.get(b"nope", clock())
    requests = RequestCounts()
    requests.add(b"GET", 200)
    requests.add(b"GET", 200)
    expiry = FakeExpiry(ticks=3, time_cap_reached=1, key_cap_reached=0, stale_ratio=0.25)
    connections = FakeConnections({object()}, 5, draining=True)
    started = clock()
    clock.advance(10)
    snap = Telemetry(
        settings=settings,
        store=store,
        connections=connections,
        requests=requests,
        expiry=expiry,
        clock=clock,
        started_at=started,
    ).snapshot()
    assert snap.uptime_seconds == 10
    assert snap.draining is True
    assert (snap.limits.eviction_policy, snap.limits.max_memory, snap.limits.time_to_live) == (
        "OLDEST_FIRST",
        4096,
        0,
    )
    assert (snap.store.items, snap.store.hits, snap.store.misses) == (1, 1, 1)
    assert snap.hit_ratio == 0.5
    assert (snap.connections, snap.total_connections) == (1, 5)
    assert snap.requests == [("GET", "200", 2)]
    assert snap.requests_by_method == {"GET": 2}
    assert snap.requests_by_status == {"200": 2}
    assert (snap.expiry.ticks, snap.expiry.time_cap_reached, snap.expiry.stale_ratio) == (
        3,
        1,
        0.25,
    )
    assert snap.rss_bytes is not None and snap.rss_bytes > 0
    assert snap.peak_rss_bytes >= snap.rss_bytes // 2


def test_rss_is_read_from_vmrss(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmPeak:\t  9000 kB\nVmRSS:\t  1234 kB\n")
    assert current_rss_bytes(status) == 1234 * 1024


def test_rss_is_none_where_the_os_does_not_say(tmp_path: Path) -> None:
    assert current_rss_bytes(tmp_path / "missing") is None
    status = tmp_path / "status"
    status.write_text("Name:\tpython\n")
    assert current_rss_bytes(status) is None


def test_peak_rss_is_positive() -> None:
    assert peak_rss_bytes() > 0

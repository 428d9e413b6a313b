"""/metrics: the collector reads the counters at scrape time, on a registry of the app's own."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cache_api.metrics import CONTENT_TYPE, METRIC_NAMES, Metrics
from cache_api.types import Request
from tests.conftest import FakeClock
from tests.test_ops import Rig, make_rig

SCRAPE = Request(b"GET", b"/metrics", None, b"")


def scrape(rig: Rig) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of one scrape, by name then by sorted labels."""
    response = Metrics(rig.telemetry).endpoint(SCRAPE)
    assert response.status == 200
    assert response.content_type == CONTENT_TYPE
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_every_documented_metric_is_exposed(clock: FakeClock) -> None:
    rig = make_rig(clock)
    rig.call(b"GET", b"/health")
    samples = scrape(rig)
    assert set(METRIC_NAMES) <= set(samples)
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total"} <= set(samples)
    assert "python_info" in samples


def test_metrics_are_read_at_scrape_time(clock: FakeClock) -> None:
    rig = make_rig(clock)
    metrics = Metrics(rig.telemetry)  # one registry, scraped twice
    first = {
        f.name: f for f in text_string_to_metric_families(metrics.endpoint(SCRAPE).body.decode())
    }
    assert first["cache_api_hits"].samples[0].value == 0
    rig.call(b"PUT", b"/object/a", b"12345")
    rig.call(b"GET", b"/object/a")
    rig.call(b"GET", b"/object/b")
    rig.connections.draining = True
    second = scrape(rig)
    assert second["cache_api_hits_total"][()] == 1
    assert second["cache_api_misses_total"][()] == 1
    assert second["cache_api_sets_total"][()] == 1
    assert second["cache_api_items"][()] == 1
    assert second["cache_api_bytes"][()] == rig.store.stats().bytes
    assert second["cache_api_hit_ratio"][()] == 0.5
    assert second["cache_api_draining"][()] == 1
    assert second["cache_api_requests_total"] == {
        (("method", "GET"), ("status", "200")): 1,
        (("method", "GET"), ("status", "404")): 1,
        (("method", "PUT"), ("status", "200")): 1,
    }
    assert second["cache_api_build_info"] == {(("policy", "LRU"), ("version", "1.0.0")): 1}
    assert second["cache_api_max_items"][()] == 2


def test_metric_types_follow_the_conventions(clock: FakeClock) -> None:
    response = Metrics(make_rig(clock).telemetry).endpoint(SCRAPE)
    types = {
        family.name: family.type
        for family in text_string_to_metric_families(response.body.decode())
        if family.name.startswith("cache_api_")
    }
    assert types["cache_api_hits"] == "counter"
    assert types["cache_api_requests"] == "counter"
    assert types["cache_api_items"] == "gauge"
    assert types["cache_api_bytes"] == "gauge"
    assert types["cache_api_build_info"] == "gauge"  # an info metric, in the 0.0.4 text format


def test_the_global_default_registry_is_left_alone(clock: FakeClock) -> None:
    before = set(prometheus_client.REGISTRY._names_to_collectors)
    Metrics(make_rig(clock).telemetry)
    Metrics(make_rig(clock).telemetry)  # a second app in one process does not clash
    assert set(prometheus_client.REGISTRY._names_to_collectors) == before


@pytest.mark.e2e
def test_metrics_endpoint_on_a_real_server(server_factory: Callable[..., Any]) -> None:
    server = server_factory(max_memory="1mb", eviction_policy="LRU")
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("PUT", "/object/a", body=b"x" * 100)
    conn.getresponse().read()
    conn.request("GET", "/metrics")
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    assert response.status == 200
    assert response.getheader("content-type") == CONTENT_TYPE.decode()
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }
    assert samples["cache_api_max_bytes"] == 1024**2
    assert samples["cache_api_sets_total"] == 1
    assert samples["cache_api_open_connections"] == 1
    assert samples["process_resident_memory_bytes"] > 0


def test_every_metric_is_documented() -> None:
    document = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text()
    assert not [name for name in METRIC_NAMES if f"`{name}" not in document]

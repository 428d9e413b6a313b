"""The HTTP API's contract, end to end: objects, /health, /stats, /metrics, /openapi.json.

Marked ``contract``. With ``CACHE_API_URL`` set (CI sets it to the container
started by ``docker compose``), every test talks to that server; otherwise
each starts a local ``python wsgi.py`` with ``server_factory``. The tests
share the server they talk to with nothing but themselves, yet they only
assume what holds for any live server: unique keys, and counters compared
before and after.
"""

from __future__ import annotations

import http.client
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families

from cache_api.openapi import DOCUMENT, STATS_SCHEMA
from cache_api.policies import REGISTRY

pytestmark = [pytest.mark.contract, pytest.mark.e2e]

BASE_URL_ENV = "CACHE_API_URL"
TIMEOUT_SECONDS = 5.0


@dataclass
class Answer:
    """One response, read whole."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        assert self.headers["content-type"] == "application/json"
        return json.loads(self.body)


class Client:
    """A small HTTP client over one keep-alive connection (closed by the fixture)."""

    def __init__(self, host: str, port: int) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        self.conn.request(method, path, body=body, headers=dict(headers or {}))
        response = self.conn.getresponse()
        body_bytes = response.read()
        if response.getheader("connection") == "close":
            self.conn.close()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body_bytes)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def client(server_factory: Callable[..., Any]) -> Iterator[Client]:
    """A client of ``CACHE_API_URL`` if set, else of a freshly started local server."""
    url = os.environ.get(BASE_URL_ENV)
    if url:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
    else:
        server = server_factory()
        host, port = server.host, server.port
    live = Client(host, port)
    yield live
    live.close()


def unique_key() -> str:
    return f"contract-{uuid.uuid4().hex}"


def stats(client: Client) -> dict[str, Any]:
    answer = client.request("GET", "/stats")
    assert answer.status == 200
    document: dict[str, Any] = answer.json()
    return document


def metric_samples(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.request("GET", "/metrics")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.body.decode())
        for sample in family.samples
    }


def test_health_is_ok_while_serving(client: Client) -> None:
    answer = client.request("GET", "/health")
    assert answer.status == 200
    assert answer.json() == {"status": "ok"}
    assert "date" in answer.headers


def test_object_lifecycle(client: Client) -> None:
    key = unique_key()
    path = f"/object/{key}"
    assert client.request("GET", path).status == 404
    put = client.request("PUT", path, b"\x00\x01payload", {"Content-Type": "image/png"})
    assert (put.status, put.json()) == (200, {"message": "success"})
    got = client.request("GET", path)
    assert (got.status, got.headers["content-type"], got.body) == (
        200,
        "image/png",
        b"\x00\x01payload",
    )
    head = client.request("HEAD", path)
    assert (head.status, head.headers["content-length"], head.body) == (200, "9", b"")
    assert client.request("POST", path + "?ttl=0", b"v2").status == 200
    assert client.request("GET", path).body == b"v2"
    assert client.request("DELETE", path).status == 200
    assert client.request("GET", path).json() == {
        "message": f"Object at {key} is not found or expired"
    }
    assert client.request("DELETE", path).status == 404


def test_bad_requests_get_documented_errors(client: Client) -> None:
    assert client.request("PUT", f"/object/{unique_key()}?ttl=soon", b"x").status == 400
    assert client.request("GET", "/object/").status == 400
    assert client.request("GET", "/nowhere").status == 404
    patch = client.request("PATCH", f"/object/{unique_key()}")
    assert (patch.status, patch.headers["allow"]) == (405, "GET, HEAD, PUT, POST, DELETE")
    for path in ("/health", "/stats", "/metrics", "/openapi.json"):
        wrong = client.request("DELETE", path)
        assert (wrong.status, wrong.headers["allow"]) == (405, "GET")


def test_stats_follow_the_traffic(client: Client) -> None:
    key = unique_key()
    before = stats(client)
    client.request("GET", f"/object/{key}")
    client.request("PUT", f"/object/{key}", b"12345")
    client.request("GET", f"/object/{key}")
    client.request("DELETE", f"/object/{key}")
    after = stats(client)
    jsonschema.validate(after, STATS_SCHEMA)
    for counter, delta in {"hits": 1, "misses": 1, "sets": 1, "deletes": 1}.items():
        assert after["cache"][counter] - before["cache"][counter] == delta, counter
    assert after["cache"]["items"] == before["cache"]["items"]
    requests = after["requests"]
    # the GETs, PUT and DELETE above, plus the first /stats
    assert requests["total"] - before["requests"]["total"] >= 5
    assert requests["by_method"]["PUT"] - before["requests"]["by_method"].get("PUT", 0) >= 1
    assert requests["by_status"]["404"] - before["requests"]["by_status"].get("404", 0) >= 1
    assert sum(requests["by_method"].values()) == requests["total"]
    assert sum(requests["by_status"].values()) == requests["total"]
    assert after["connections"]["current"] >= 1
    assert after["connections"]["total"] >= after["connections"]["current"]
    assert after["memory"]["rss_bytes"] > 0
    assert after["draining"] is False
    assert after["uptime_seconds"] >= before["uptime_seconds"]
    assert after["limits"]["eviction_policy"] in REGISTRY


def test_metrics_follow_the_store(client: Client) -> None:
    key = unique_key()
    before = metric_samples(client)
    client.request("PUT", f"/object/{key}", b"abc")
    client.request("GET", f"/object/{key}")
    client.request("GET", f"/object/{unique_key()}")
    after = metric_samples(client)
    assert after["cache_api_sets_total", ()] - before["cache_api_sets_total", ()] == 1
    assert after["cache_api_hits_total", ()] - before["cache_api_hits_total", ()] == 1
    assert after["cache_api_misses_total", ()] - before["cache_api_misses_total", ()] == 1
    assert after["cache_api_items", ()] == before["cache_api_items", ()] + 1
    put_ok = ("cache_api_requests_total", (("method", "PUT"), ("status", "200")))
    assert after[put_ok] - before.get(put_ok, 0) >= 1
    assert after["cache_api_draining", ()] == 0
    assert after["process_resident_memory_bytes", ()] > 0
    assert any(name == "cache_api_build_info" for name, _ in after)
    client.request("DELETE", f"/object/{key}")


def test_openapi_document_is_valid_and_current(client: Client) -> None:
    answer = client.request("GET", "/openapi.json")
    assert answer.status == 200
    document = answer.json()
    validate(document)
    assert document == json.loads(json.dumps(DOCUMENT))

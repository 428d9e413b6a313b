"""schemathesis against a real server: no 5xx, and every answer as the document says.

A bounded run (``FUZZ_EXAMPLES`` per operation, every check schemathesis has)
in the test suite, against a local ``python wsgi.py``. CI runs the CLI against
the container as well (``.ci/run``).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from cache_api.openapi import DOCUMENT
from tests.conftest import ServerProcess, start_server

FUZZ_EXAMPLES = 40
"""Generated cases per operation: about 300 requests in all."""

pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def live_server() -> Iterator[ServerProcess]:
    server = start_server({"CACHE_NUMBER_OF_SLOTS": "50", "CACHE_EVICTION_POLICY": "LRU"})
    yield server
    assert server.stop(signal.SIGTERM) == 0
    server.log_path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as live:
        yield live


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_the_server_keeps_the_documented_contract(
    case: schemathesis.Case, live_server: ServerProcess, session: requests.Session
) -> None:
    case.call_and_validate(base_url=live_server.base_url, session=session)

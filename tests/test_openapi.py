"""/openapi.json: a valid OpenAPI 3.1 document that lists every route, status and header."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from cache_api import openapi
from cache_api.api import OBJECT_METHODS
from cache_api.openapi import DOCUMENT, PROTOCOL_ERRORS
from cache_api.server import operations_routes
from cache_api.types import Request
from tests.conftest import FakeClock
from tests.test_ops import make_rig

OBJECT_PATH = "/object/{key}"


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow one local ``$ref``."""
    while "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def test_document_is_valid_openapi_3_1() -> None:
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_served_bytes_are_the_document() -> None:
    response = openapi.endpoint(Request(b"GET", b"/openapi.json", None, b""))
    assert (response.status, response.content_type) == (200, b"application/json")
    assert json.loads(response.body) == json.loads(json.dumps(DOCUMENT))


def test_every_route_is_documented_and_every_documented_route_exists(clock: FakeClock) -> None:
    rig = make_rig(clock)
    documented = {(path, method.upper()) for path, method, _ in operations()}
    served = {(OBJECT_PATH, method.decode()) for method in OBJECT_METHODS}
    for path, methods in operations_routes(rig.telemetry).items():
        served |= {(path.decode(), method.decode()) for method in methods}
    assert documented == served


def test_every_operation_lists_the_protocols_own_answers() -> None:
    for path, method, operation in operations():
        assert set(PROTOCOL_ERRORS) <= set(operation["responses"]), (path, method)


def test_every_response_documents_its_headers() -> None:
    for path, method, operation in operations():
        for status, response in operation["responses"].items():
            headers = resolve(response)["headers"]
            assert {"Content-Length", "Date", "Connection"} <= set(headers), (path, method, status)


def test_head_answers_have_no_body_and_others_do() -> None:
    for _, method, operation in operations():
        for status, response in operation["responses"].items():
            if method == "head" and status not in PROTOCOL_ERRORS:
                assert "content" not in resolve(response)
            elif method != "head":
                assert "content" in resolve(response)


def test_object_statuses_match_what_the_routes_answer(clock: FakeClock) -> None:
    rig = make_rig(clock)
    item = DOCUMENT["paths"][OBJECT_PATH]
    seen: dict[str, set[int]] = {"get": set(), "put": set(), "post": set(), "delete": set()}
    long_key = b"k" * 2000
    for method, statuses in seen.items():
        verb = method.upper().encode()
        for target in (b"/object/a", b"/object/", b"/object/" + long_key, b"/object/a?ttl=x"):
            statuses.add(rig.call(verb, target, b"v")[0])
    rig.call(b"DELETE", b"/object/a")
    seen["get"].add(rig.call(b"GET", b"/object/a")[0])
    for method, statuses in seen.items():
        assert {str(status) for status in statuses} <= set(item[method]["responses"]), method


def test_put_links_lead_to_read_and_delete() -> None:
    links = DOCUMENT["paths"][OBJECT_PATH]["put"]["responses"]["200"]["links"]
    ids = {operation["operationId"] for _, _, operation in operations()}
    assert {link["operationId"] for link in links.values()} <= ids

"""``GET /openapi.json``: an OpenAPI 3.1 description of every endpoint, status and header.

The document is a plain dict built once at import (``DOCUMENT``) and served
as pre-encoded bytes. It describes what the server really does, including
the answers the protocol itself gives before any route runs (400 malformed,
408, 413, 414, 431, 500, 503 at ``MAX_CONNECTIONS``), so that a schema-driven
fuzzer (schemathesis, in CI) can hold the server to it. The ``Stats`` schema
is the shape of ``ops.stats_document``; a test holds the two together.
"""

from __future__ import annotations

import json
from typing import Any

from cache_api import __version__
from cache_api.config import MAX_TTL_SECONDS
from cache_api.types import JSON, Request, Response

OPENAPI_VERSION = "3.1.0"
METRICS_MEDIA_TYPE = "text/plain"

Schema = dict[str, Any]


def ref(kind: str, name: str) -> dict[str, str]:
    """A ``$ref`` to ``#/components/<kind>/<name>``."""
    return {"$ref": f"#/components/{kind}/{name}"}


def json_content(schema: Schema) -> dict[str, Any]:
    """A ``content`` map with one ``application/json`` body of ``schema``."""
    return {"application/json": {"schema": schema}}


COMMON_HEADERS = {
    "Content-Length": ref("headers", "Content-Length"),
    "Date": ref("headers", "Date"),
    "Connection": ref("headers", "Connection"),
}
"""Headers on every response."""


def answer(description: str, schema: Schema | None = None) -> dict[str, Any]:
    """A response with the common headers, and a JSON body of ``schema`` if given."""
    response: dict[str, Any] = {"description": description, "headers": COMMON_HEADERS}
    if schema is not None:
        response["content"] = json_content(schema)
    return response


MESSAGE = ref("schemas", "Message")

PROTOCOL_ERRORS = {
    "400": ref("responses", "BadRequest"),
    "408": ref("responses", "RequestTimeout"),
    "413": ref("responses", "PayloadTooLarge"),
    "414": ref("responses", "UriTooLong"),
    "431": ref("responses", "HeadersTooLarge"),
    "500": ref("responses", "InternalError"),
    "503": ref("responses", "Unavailable"),
}
"""Answers the protocol may give to any request, before or instead of its route."""


def responses(own: dict[str, Any]) -> dict[str, Any]:
    """The protocol's answers, then the operation's ``own`` (which win on the same status)."""
    return dict(sorted({**PROTOCOL_ERRORS, **own}.items()))


KEY_PARAMETER = {
    "name": "key",
    "in": "path",
    "required": True,
    "description": (
        "The object's key: the rest of the path, percent-decoded, 1 to MAX_KEY_LENGTH bytes "
        "(default 1024). A longer or empty key gets 400."
    ),
    "schema": {"type": "string", "minLength": 1},
}

TTL_PARAMETER = {
    "name": "ttl",
    "in": "query",
    "required": False,
    "description": (
        "Seconds the object lives; 0 means forever. Absent: TIME_TO_LIVE. "
        "Anything but one whole number in range gets 400."
    ),
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_TTL_SECONDS},
}

WRITE_BODY = {
    "required": False,
    "description": (
        "The object's bytes, stored as sent, with the request's Content-Type "
        "(application/octet-stream if none); at most MAX_OBJECT_SIZE bytes."
    ),
    "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "text/plain": {"schema": {"type": "string"}},
        "application/json": {"schema": {}},
    },
}


STORED_LINKS = {
    "GetStored": {"operationId": "getObject", "parameters": {"key": "$request.path.key"}},
    "HeadStored": {"operationId": "headObject", "parameters": {"key": "$request.path.key"}},
    "DeleteStored": {"operationId": "deleteObject", "parameters": {"key": "$request.path.key"}},
}
"""After a write succeeds, the object can be read, checked and deleted at the same key."""


def write_operation(method: str) -> dict[str, Any]:
    """PUT and POST: both store the body at the key."""
    return {
        "operationId": f"{method}Object",
        "summary": f"Store an object ({method.upper()} and {'PUT' if method == 'post' else 'POST'} "
        "are the same)",
        "tags": ["objects"],
        "parameters": [TTL_PARAMETER],
        "requestBody": WRITE_BODY,
        "responses": responses(
            {
                "200": {
                    **answer('Stored: `{"message": "success"}`.', MESSAGE),
                    "links": STORED_LINKS,
                },
                "400": answer("Empty or too long key, or a bad `ttl`.", MESSAGE),
                "413": answer(
                    "The body is larger than MAX_OBJECT_SIZE, "
                    "or the object larger than MAX_MEMORY.",
                    MESSAGE,
                ),
                "507": answer(
                    "No room and EVICTION_POLICY is REJECT: the old value, if any, is kept.",
                    MESSAGE,
                ),
            }
        ),
    }


STATS_SCHEMA: Schema = {
    "type": "object",
    "required": [
        "version",
        "pid",
        "uptime_seconds",
        "draining",
        "limits",
        "cache",
        "expiry",
        "connections",
        "requests",
        "memory",
    ],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "pid": {"type": "integer", "minimum": 1},
        "uptime_seconds": {"type": "number", "minimum": 0},
        "draining": {"type": "boolean"},
        "limits": {
            "type": "object",
            "description": "The effective settings (0 means no limit, or forever for the TTL).",
            "additionalProperties": False,
            "required": [
                "eviction_policy",
                "number_of_slots",
                "max_memory",
                "max_object_size",
                "max_key_length",
                "time_to_live",
                "max_connections",
            ],
            "properties": {
                "eviction_policy": {"type": "string"},
                "number_of_slots": {"type": "integer", "minimum": 0},
                "max_memory": {"type": "integer", "minimum": 0},
                "max_object_size": {"type": "integer", "minimum": 1},
                "max_key_length": {"type": "integer", "minimum": 1},
                "time_to_live": {"type": "integer", "minimum": 0},
                "max_connections": {"type": "integer", "minimum": 1},
            },
        },
        "cache": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "items",
                "bytes",
                "hits",
                "misses",
                "hit_ratio",
                "sets",
                "deletes",
                "evictions",
                "expirations",
                "rejected_writes",
            ],
            "properties": {
                **{
                    name: {"type": "integer", "minimum": 0}
                    for name in (
                        "items",
                        "bytes",
                        "hits",
                        "misses",
                        "sets",
                        "deletes",
                        "evictions",
                        "expirations",
                        "rejected_writes",
                    )
                },
                "hit_ratio": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "expiry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ticks", "time_cap_reached", "key_cap_reached", "stale_ratio"],
            "properties": {
                "ticks": {"type": "integer", "minimum": 0},
                "time_cap_reached": {"type": "integer", "minimum": 0},
                "key_cap_reached": {"type": "integer", "minimum": 0},
                "stale_ratio": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "connections": {
            "type": "object",
            "additionalProperties": False,
            "required": ["current", "total"],
            "properties": {
                "current": {"type": "integer", "minimum": 0},
                "total": {"type": "integer", "minimum": 0},
            },
        },
        "requests": {
            "type": "object",
            "description": "Requests answered by the routes (not the protocol's own errors).",
            "additionalProperties": False,
            "required": ["total", "by_method", "by_status"],
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "by_method": {
                    "type": "object",
                    "additionalProperties": {"type": "integer", "minimum": 1},
                },
                "by_status": {
                    "type": "object",
                    "propertyNames": {"pattern": "^[1-5][0-9][0-9]$"},
                    "additionalProperties": {"type": "integer", "minimum": 1},
                },
            },
        },
        "memory": {
            "type": "object",
            "additionalProperties": False,
            "required": ["rss_bytes", "peak_rss_bytes"],
            "properties": {
                "rss_bytes": {
                    "type": ["integer", "null"],
                    "minimum": 0,
                    "description": "VmRSS now; null where /proc is missing.",
                },
                "peak_rss_bytes": {"type": "integer", "minimum": 0},
            },
        },
    },
}

PROTOCOL_ERROR_RESPONSES = {
    "BadRequest": answer("Malformed HTTP request; the connection is closed.", MESSAGE),
    "RequestTimeout": answer("Headers not received within HEADER_TIMEOUT.", MESSAGE),
    "PayloadTooLarge": answer("Content-Length or body larger than MAX_OBJECT_SIZE.", MESSAGE),
    "UriTooLong": answer("Request target longer than MAX_HEADER_SIZE.", MESSAGE),
    "HeadersTooLarge": answer("Request line and headers larger than MAX_HEADER_SIZE.", MESSAGE),
    "InternalError": answer("A bug: the route failed; the connection is closed.", MESSAGE),
    "Unavailable": answer("MAX_CONNECTIONS reached; the connection is closed.", MESSAGE),
}

DOCUMENT: dict[str, Any] = {
    "openapi": OPENAPI_VERSION,
    "info": {
        "title": "cache-api",
        "version": __version__,
        "summary": "An in-memory object cache served over HTTP.",
        "description": (
            "Objects are stored at `/object/{key}` with their Content-Type and a TTL. "
            'Every error body is JSON `{"message": ...}`. A method a path does not '
            "list gets 405 with an `Allow` header naming the methods it does; an unknown "
            "path gets 404. Limits are settings (CACHE_<NAME> environment variables); "
            "see `/stats` for the effective ones."
        ),
        "license": {"name": "MIT", "identifier": "MIT"},
    },
    "tags": [
        {"name": "objects", "description": "The cache itself."},
        {"name": "operations", "description": "Health, statistics, metrics and this document."},
    ],
    "paths": {
        "/object/{key}": {
            "parameters": [KEY_PARAMETER],
            "get": {
                "operationId": "getObject",
                "summary": "Read an object",
                "tags": ["objects"],
                "responses": responses(
                    {
                        "200": {
                            "description": "The object's bytes, with the Content-Type it was "
                            "stored with.",
                            "headers": COMMON_HEADERS,
                            "content": {"*/*": {"schema": {}}},
                        },
                        "400": answer("Empty or too long key.", MESSAGE),
                        "404": answer("No live object at this key (missing or expired).", MESSAGE),
                    }
                ),
            },
            "head": {
                "operationId": "headObject",
                "summary": "Check an object: GET's status and headers, without the body",
                "tags": ["objects"],
                "responses": responses(
                    {
                        "200": {"description": "An object is stored.", "headers": COMMON_HEADERS},
                        "400": {"description": "Empty or too long key.", "headers": COMMON_HEADERS},
                        "404": {"description": "No live object.", "headers": COMMON_HEADERS},
                    }
                ),
            },
            "put": write_operation("put"),
            "post": write_operation("post"),
            "delete": {
                "operationId": "deleteObject",
                "summary": "Delete an object",
                "tags": ["objects"],
                "responses": responses(
                    {
                        "200": answer('Deleted: `{"message": "success"}`.', MESSAGE),
                        "400": answer("Empty or too long key.", MESSAGE),
                        "404": answer("No live object at this key.", MESSAGE),
                    }
                ),
            },
        },
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Liveness and readiness, for load balancers",
                "tags": ["operations"],
                "responses": responses(
                    {
                        "200": answer("Serving.", ref("schemas", "HealthOk")),
                        "503": answer(
                            "Shutting down (SIGTERM): stop sending. Or MAX_CONNECTIONS reached.",
                            {"anyOf": [ref("schemas", "HealthDraining"), MESSAGE]},
                        ),
                    }
                ),
            },
        },
        "/stats": {
            "get": {
                "operationId": "stats",
                "summary": "Counters, limits and memory, as JSON (like memcached `stats`)",
                "tags": ["operations"],
                "responses": responses(
                    {"200": answer("The counters now.", ref("schemas", "Stats"))}
                ),
            },
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus text exposition (cache_api_*, process_*, python_info)",
                "tags": ["operations"],
                "responses": responses(
                    {
                        "200": {
                            "description": "Prometheus text format 0.0.4.",
                            "headers": COMMON_HEADERS,
                            "content": {METRICS_MEDIA_TYPE: {"schema": {"type": "string"}}},
                        }
                    }
                ),
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["operations"],
                "responses": responses(
                    {"200": answer("The OpenAPI 3.1 description.", {"type": "object"})}
                ),
            },
        },
    },
    "components": {
        "schemas": {
            "Message": {
                "type": "object",
                "required": ["message"],
                "additionalProperties": False,
                "properties": {"message": {"type": "string"}},
            },
            "HealthOk": {
                "type": "object",
                "required": ["status"],
                "additionalProperties": False,
                "properties": {"status": {"const": "ok"}},
            },
            "HealthDraining": {
                "type": "object",
                "required": ["status"],
                "additionalProperties": False,
                "properties": {"status": {"const": "draining"}},
            },
            "Stats": STATS_SCHEMA,
        },
        "headers": {
            "Content-Length": {
                "description": "Body length in bytes (for HEAD, the length GET would send).",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            },
            "Date": {
                "description": "When the answer was made (HTTP-date, to the second).",
                "required": True,
                "schema": {"type": "string"},
            },
            "Connection": {
                "description": "`close` when the server closes the connection after this "
                "answer (errors, shutdown, client asked); `keep-alive` to an HTTP/1.0 client "
                "that asked to keep it.",
                "required": False,
                "schema": {"type": "string", "enum": ["close", "keep-alive"]},
            },
        },
        "responses": PROTOCOL_ERROR_RESPONSES,
    },
}
"""The OpenAPI 3.1 description of the server."""

BODY = (json.dumps(DOCUMENT, indent=2) + "\n").encode()


def endpoint(_request: Request) -> Response:
    """The document, as JSON."""
    return Response(200, BODY, JSON)

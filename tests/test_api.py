"""The routes: ``Api.handle`` over a real ``Store`` and a fake clock, no HTTP."""

from __future__ import annotations

import json
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cache_api.api import Api, Match, parse_ttl, parse_ttl_query
from cache_api.config import MAX_TTL_SECONDS, Settings
from cache_api.policies import make_policy
from cache_api.store import ENTRY_OVERHEAD_BYTES, Store
from cache_api.types import Request, Response
from tests.conftest import FakeClock

DEFAULT_TTL = 60
MAX_KEY = 16

SUCCESS = b'{"message": "success"}\n'
NO_STORAGE = b'{"message": "The server has no storage"}\n'
NOT_FOUND = b'{"message": "Not found"}\n'
EMPTY_KEY = b'{"message": "The key must not be empty"}\n'
KEY_TOO_LONG = b'{"message": "The key must be at most 16 bytes"}\n'
BAD_TTL = b'{"message": "ttl must be a whole number of seconds from 0 (forever) to 31536000"}\n'
TOO_LARGE = b'{"message": "The object is larger than the whole cache (MAX_MEMORY)"}\n'
ALLOW_OBJECT = b"allow: GET, HEAD, PUT, POST, DELETE\r\n"


def missing(key: str) -> bytes:
    """The original's 404 body, as Flask's ``jsonify`` wrote it (non-ASCII escaped)."""
    return (json.dumps({"message": f"Object at {key} is not found or expired"}) + "\n").encode()


class Client:
    """Calls ``Api.handle`` as the protocol would."""

    def __init__(
        self,
        clock: FakeClock,
        *,
        policy: str = "REJECT",
        slots: int = 0,
        max_bytes: int = 0,
        routes: dict[bytes, dict[bytes, object]] | None = None,
    ) -> None:
        self.store = Store(make_policy(policy), max_items=slots, max_bytes=max_bytes)
        config = Settings(time_to_live=DEFAULT_TTL, max_key_length=MAX_KEY)
        self.api = Api(self.store, config, clock, routes=routes)  # type: ignore[arg-type]

    def call(
        self, method: bytes, target: bytes, body: bytes = b"", content_type: bytes | None = None
    ) -> Response:
        return self.api.handle(Request(method, target, content_type, body))

    def put(self, target: bytes, body: bytes = b"v", content_type: bytes | None = None) -> Response:
        return self.call(b"PUT", target, body, content_type)

    def get(self, target: bytes) -> Response:
        return self.call(b"GET", target)


def assert_json(response: Response, status: int, body: bytes) -> None:
    assert (response.status, response.body, response.content_type) == (
        status,
        body,
        b"application/json",
    )


@pytest.fixture
def client(clock: FakeClock) -> Client:
    return Client(clock)


# -- statuses and bodies -------------------------------------------------------------


@pytest.mark.parametrize("method", [b"PUT", b"POST"])
def test_write_then_read(client: Client, method: bytes) -> None:
    assert_json(client.call(method, b"/object/k", b"\x00value\xff", b"image/png"), 200, SUCCESS)
    response = client.get(b"/object/k")
    assert (response.status, response.body, response.content_type) == (
        200,
        b"\x00value\xff",
        b"image/png",
    )
    assert response.extra_headers == b""


def test_head_answers_like_get(client: Client) -> None:
    client.put(b"/object/k", b"body", b"text/plain")
    head = client.call(b"HEAD", b"/object/k")
    assert (head.status, head.body, head.content_type) == (200, b"body", b"text/plain")
    assert_json(client.call(b"HEAD", b"/object/nope"), 404, missing("nope"))


def test_content_type_defaults_to_octet_stream(client: Client) -> None:
    client.put(b"/object/a", b"x")
    client.put(b"/object/b", b"x", b"")
    assert client.get(b"/object/a").content_type == b"application/octet-stream"
    assert client.get(b"/object/b").content_type == b"application/octet-stream"


def test_content_type_with_parameters_round_trips(client: Client) -> None:
    client.put(b"/object/k", "é".encode(), b"text/plain; charset=utf-8")
    assert client.get(b"/object/k").content_type == b"text/plain; charset=utf-8"


def test_overwrite_replaces_value_and_content_type(client: Client) -> None:
    client.put(b"/object/k", b"one", b"text/a")
    client.put(b"/object/k", b"two")
    response = client.get(b"/object/k")
    assert (response.body, response.content_type) == (b"two", b"application/octet-stream")


def test_empty_body_is_stored(client: Client) -> None:
    assert_json(client.put(b"/object/k", b""), 200, SUCCESS)
    response = client.get(b"/object/k")
    assert (response.status, response.body) == (200, b"")


def test_get_missing_is_404(client: Client) -> None:
    assert_json(client.get(b"/object/nope"), 404, missing("nope"))


def test_missing_message_names_the_decoded_key(client: Client) -> None:
    assert_json(client.get(b"/object/a%2Fb%20c"), 404, missing("a/b c"))
    assert_json(client.get(b"/object/%C3%A9"), 404, missing("é"))
    assert missing("é") == b'{"message": "Object at \\u00e9 is not found or expired"}\n'
    assert_json(client.get(b"/object/%FF"), 404, missing("\\xff"))


def test_delete(client: Client) -> None:
    client.put(b"/object/k")
    assert_json(client.call(b"DELETE", b"/object/k"), 200, SUCCESS)
    assert_json(client.get(b"/object/k"), 404, missing("k"))
    assert_json(client.call(b"DELETE", b"/object/k"), 404, missing("k"))


def test_reject_when_full_answers_507_and_keeps_what_is_stored(clock: FakeClock) -> None:
    client = Client(clock, slots=2)
    assert_json(client.put(b"/object/a", b"A"), 200, SUCCESS)
    assert_json(client.put(b"/object/b", b"B"), 200, SUCCESS)
    assert_json(client.put(b"/object/c", b"C"), 507, NO_STORAGE)
    assert client.get(b"/object/a").body == b"A"
    assert client.get(b"/object/b").body == b"B"
    assert_json(client.get(b"/object/c"), 404, missing("c"))
    assert_json(client.put(b"/object/a", b"A2"), 200, SUCCESS)
    assert client.get(b"/object/a").body == b"A2"


def test_reject_overwrite_that_does_not_fit_keeps_the_old_value(clock: FakeClock) -> None:
    overhead = ENTRY_OVERHEAD_BYTES + make_policy("REJECT").per_entry_bytes
    one = len(b"a") + 10 + len(b"application/octet-stream") + overhead
    client = Client(clock, max_bytes=2 * one + 5)
    client.put(b"/object/a", b"0" * 10)
    client.put(b"/object/b", b"1" * 10)
    assert_json(client.put(b"/object/a", b"2" * 16), 507, NO_STORAGE)
    assert client.get(b"/object/a").body == b"0" * 10
    assert_json(client.put(b"/object/a", b"3" * 15), 200, SUCCESS)
    assert client.get(b"/object/a").body == b"3" * 15


def test_object_larger_than_the_whole_cache_is_413(clock: FakeClock) -> None:
    client = Client(clock, max_bytes=ENTRY_OVERHEAD_BYTES + 100)
    assert_json(client.put(b"/object/k", b"x" * 100), 413, TOO_LARGE)
    assert_json(client.get(b"/object/k"), 404, missing("k"))


@pytest.mark.parametrize(
    ("policy", "kept", "evicted"),
    [("OLDEST_FIRST", [b"b", b"c"], b"a"), ("NEWEST_FIRST", [b"a", b"c"], b"b")],
)
def test_evicting_policies_make_room(
    clock: FakeClock, policy: str, kept: list[bytes], evicted: bytes
) -> None:
    client = Client(clock, policy=policy, slots=2)
    for key in (b"a", b"b", b"c"):
        assert_json(client.put(b"/object/" + key, key.upper()), 200, SUCCESS)
    for key in kept:
        assert client.get(b"/object/" + key).body == key.upper()
    assert client.get(b"/object/" + evicted).status == 404


# -- ttl -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "lifetime"),
    [
        (b"", DEFAULT_TTL),
        (b"?", DEFAULT_TTL),
        (b"?other=1", DEFAULT_TTL),
        (b"?ttl=5", 5),
        (b"?ttl=007", 7),
        (b"?a=b&ttl=3&c=d", 3),
        (b"?ttl=%33", 3),
        (b"?ttl=1", 1),
    ],
)
def test_ttl_sets_the_lifetime(clock: FakeClock, query: bytes, lifetime: int) -> None:
    client = Client(clock)
    assert_json(client.put(b"/object/k" + query, b"v"), 200, SUCCESS)
    clock.advance(lifetime - 0.001)
    assert client.get(b"/object/k").status == 200
    clock.advance(0.001)
    assert_json(client.get(b"/object/k"), 404, missing("k"))


def test_ttl_zero_is_forever(client: Client, clock: FakeClock) -> None:
    client.put(b"/object/k?ttl=0")
    clock.advance(100 * MAX_TTL_SECONDS)
    assert client.get(b"/object/k").body == b"v"


def test_largest_ttl_is_accepted(client: Client, clock: FakeClock) -> None:
    assert_json(client.put(b"/object/k?ttl=31536000"), 200, SUCCESS)
    clock.advance(MAX_TTL_SECONDS - 1)
    assert client.get(b"/object/k").status == 200
    clock.advance(1)
    assert client.get(b"/object/k").status == 404


@pytest.mark.parametrize(
    "query",
    [
        b"ttl=-1",
        b"ttl=abc",
        b"ttl=1.5",
        b"ttl=1&ttl=2",
        b"ttl=31536001",
        b"ttl=99999999999999999999999",
        b"ttl=",
        b"ttl",
        b"ttl=+1",
        b"ttl=%2B1",
        b"ttl=%201",
        b"ttl=1e3",
        b"ttl=0x10",
        b"ttl=%D9%A1",
        b"ttl=%C2%B2",
    ],
)
def test_invalid_ttl_is_400_and_nothing_is_stored(client: Client, query: bytes) -> None:
    assert_json(client.put(b"/object/k?" + query, b"new"), 400, BAD_TTL)
    assert_json(client.get(b"/object/k"), 404, missing("k"))


def test_invalid_ttl_does_not_overwrite(client: Client) -> None:
    client.put(b"/object/k", b"old")
    assert_json(client.put(b"/object/k?ttl=x", b"new"), 400, BAD_TTL)
    assert client.get(b"/object/k").body == b"old"


def test_ttl_on_a_read_is_ignored(client: Client) -> None:
    client.put(b"/object/k")
    assert client.get(b"/object/k?ttl=abc").status == 200


def test_overwrite_resets_the_ttl(client: Client, clock: FakeClock) -> None:
    client.put(b"/object/k?ttl=10")
    clock.advance(8)
    client.put(b"/object/k?ttl=10", b"w")
    clock.advance(8)
    assert client.get(b"/object/k").body == b"w"


def test_expired_object_cannot_be_deleted(client: Client, clock: FakeClock) -> None:
    client.put(b"/object/k?ttl=2")
    clock.advance(2)
    assert_json(client.call(b"DELETE", b"/object/k"), 404, missing("k"))


def test_expired_objects_free_their_slot(clock: FakeClock) -> None:
    client = Client(clock, slots=1)
    client.put(b"/object/a?ttl=1")
    assert client.put(b"/object/b").status == 507
    clock.advance(1)
    assert_json(client.put(b"/object/b"), 200, SUCCESS)


@settings(deadline=None)
@given(ttl=st.integers(min_value=0, max_value=MAX_TTL_SECONDS))
def test_parse_ttl_accepts_every_whole_number_in_range(ttl: int) -> None:
    assert parse_ttl(b"ttl=%d" % ttl, 42) == ttl


@settings(deadline=None)
@given(ttl=st.integers(max_value=-1) | st.integers(min_value=MAX_TTL_SECONDS + 1))
def test_parse_ttl_refuses_every_whole_number_out_of_range(ttl: int) -> None:
    assert parse_ttl(b"ttl=%d" % ttl, 42) is None


@settings(deadline=None)
@given(value=st.text().filter(lambda v: not (v.isascii() and v.isdigit())))
def test_parse_ttl_refuses_anything_but_digits(value: str) -> None:
    query = b"ttl=" + quote_from_bytes(value.encode(), safe="").encode()
    assert parse_ttl(query, 42) is None


def test_parse_ttl_default() -> None:
    assert parse_ttl(b"x=1", 42) == 42


QUERY_BYTES = st.sampled_from(list(b"ttl=&;+%0123456789aT \x00\xff"))


@settings(deadline=None, max_examples=500)
@given(
    query=st.lists(QUERY_BYTES, max_size=12).map(bytes)
    | st.lists(QUERY_BYTES, max_size=8).map(lambda tail: b"ttl=" + bytes(tail))
    | st.text("0123456789", max_size=25).map(lambda digits: b"ttl=" + digits.encode())
)
def test_parse_ttl_fast_path_agrees_with_parse_qsl(query: bytes) -> None:
    assert parse_ttl(query, 42) == parse_ttl_query(query, 42)


# -- keys ----------------------------------------------------------------------------------


def test_encoded_slash_is_part_of_the_key(client: Client) -> None:
    client.put(b"/object/a%2Fb", b"slash")
    assert client.get(b"/object/a/b").body == b"slash"
    assert client.get(b"/object/a%2fb").body == b"slash"
    assert client.get(b"/object/a").status == 404
    client.put(b"/object/dir/file", b"raw")
    assert client.get(b"/object/dir%2Ffile").body == b"raw"


def test_percent_decoding(client: Client) -> None:
    client.put(b"/object/100%25%20sure", b"p")
    assert client.get(b"/object/100% sure").body == b"p"
    client.put(b"/object/a+b", b"plus")
    assert client.get(b"/object/a b").status == 404
    assert client.get(b"/object/a%2Bb").body == b"plus"


def test_encoded_question_mark_is_part_of_the_key(client: Client) -> None:
    client.put(b"/object/what%3Fttl=abc?ttl=5", b"q")
    assert client.get(b"/object/what%3Fttl=abc").body == b"q"


def test_key_length_is_counted_after_decoding(client: Client) -> None:
    assert_json(client.put(b"/object/" + b"k" * MAX_KEY), 200, SUCCESS)
    assert_json(client.put(b"/object/" + b"%41" * MAX_KEY), 200, SUCCESS)
    assert client.get(b"/object/" + b"A" * MAX_KEY).status == 200


@pytest.mark.parametrize("method", [b"GET", b"HEAD", b"PUT", b"POST", b"DELETE", b"PATCH"])
def test_key_too_long_is_400(client: Client, method: bytes) -> None:
    assert_json(client.call(method, b"/object/" + b"k" * (MAX_KEY + 1)), 400, KEY_TOO_LONG)
    assert_json(client.call(method, b"/object/" + b"%41" * (MAX_KEY + 1)), 400, KEY_TOO_LONG)


@pytest.mark.parametrize("target", [b"/object/", b"/object/?ttl=5", b"/object/?"])
@pytest.mark.parametrize("method", [b"GET", b"PUT", b"DELETE"])
def test_empty_key_is_400(client: Client, method: bytes, target: bytes) -> None:
    assert_json(client.call(method, target), 400, EMPTY_KEY)


@settings(max_examples=200, deadline=None)
@given(key=st.binary(min_size=1, max_size=MAX_KEY), body=st.binary(), slash_safe=st.booleans())
def test_any_key_percent_encoded_round_trips(key: bytes, body: bytes, slash_safe: bool) -> None:
    client = Client(FakeClock())
    encoded = quote_from_bytes(key, safe="/" if slash_safe else "").encode()
    assert_json(client.put(b"/object/" + encoded, body), 200, SUCCESS)
    fully_encoded = b"".join(b"%%%02X" % byte for byte in key)
    response = client.get(b"/object/" + fully_encoded)
    assert (response.status, response.body) == (200, body)
    assert_json(client.call(b"DELETE", b"/object/" + encoded), 200, SUCCESS)
    assert client.get(b"/object/" + encoded).status == 404


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=4096), content_type=st.binary(min_size=1, max_size=200))
def test_any_body_and_content_type_round_trip(body: bytes, content_type: bytes) -> None:
    client = Client(FakeClock())
    client.put(b"/object/k", body, content_type)
    response = client.get(b"/object/k")
    assert (response.status, response.body, response.content_type) == (200, body, content_type)


def test_many_distinct_content_types_each_round_trip(client: Client) -> None:
    for i in range(300):
        client.put(b"/object/k%d" % i, b"v", b"type/%d" % i)
    for i in range(300):
        assert client.get(b"/object/k%d" % i).content_type == b"type/%d" % i


# -- methods and paths -----------------------------------------------------------------------


@pytest.mark.parametrize("method", [b"PATCH", b"OPTIONS", b"TRACE", b"CONNECT", b"get"])
def test_other_methods_on_objects_are_405_with_allow(client: Client, method: bytes) -> None:
    response = client.call(method, b"/object/k")
    message = b'{"message": "Method ' + method + b' is not allowed here"}\n'
    assert_json(response, 405, message)
    assert response.extra_headers == ALLOW_OBJECT


@pytest.mark.parametrize(
    "target", [b"/", b"/object", b"/objects/a", b"/x/object/a", b"/OBJECT/a", b"", b"*"]
)
@pytest.mark.parametrize("method", [b"GET", b"PUT", b"PATCH"])
def test_unknown_paths_are_404(client: Client, method: bytes, target: bytes) -> None:
    response = client.call(method, target)
    assert_json(response, 404, NOT_FOUND)
    assert response.extra_headers == b""


def stats_endpoint(request: Request) -> Response:
    return Response(200, b"stats:" + request.target, b"text/plain")


def test_extra_routes(clock: FakeClock) -> None:
    routes: dict[bytes, dict[bytes, object]] = {
        b"/stats": {b"GET": stats_endpoint, b"HEAD": stats_endpoint}
    }
    client = Client(clock, routes=routes)
    full = client.get(b"/stats?verbose=1")
    assert (full.status, full.body) == (200, b"stats:/stats?verbose=1")
    partial = client.call(b"DELETE", b"/stats")
    assert_json(partial, 405, b'{"message": "Method DELETE is not allowed here"}\n')
    assert partial.extra_headers == b"allow: GET, HEAD\r\n"
    assert_json(client.get(b"/stats/"), 404, NOT_FOUND)
    assert_json(client.get(b"/other"), 404, NOT_FOUND)
    assert client.api.match(b"/stats", b"GET")[0] is Match.FULL
    assert client.api.match(b"/stats", b"PUT")[0] is Match.PARTIAL
    assert client.api.match(b"/nope", b"GET") == (Match.NONE, {})


def test_extra_routes_do_not_shadow_objects(clock: FakeClock) -> None:
    client = Client(clock, routes={b"/object/k": {b"GET": stats_endpoint}})
    assert_json(client.get(b"/object/k"), 404, missing("k"))

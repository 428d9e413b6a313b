"""End to end over ``http.client``: the real server process, every status, the policies,
the command line, configuration errors and signals."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import BANNER, ROOT, START_TIMEOUT_SECONDS, ServerProcess

pytestmark = pytest.mark.e2e

Factory = Callable[..., ServerProcess]
TIMEOUT = 5.0

SUCCESS = b'{"message": "success"}\n'
NO_STORAGE = b'{"message": "The server has no storage"}\n'


def missing(key: str) -> bytes:
    return (json.dumps({"message": f"Object at {key} is not found or expired"}) + "\n").encode()


class Result:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class Client:
    """One keep-alive connection to the server."""

    def __init__(self, server: ServerProcess) -> None:
        self.conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Result:
        self.conn.request(method, path, body=body, headers=headers or {})
        return Result(self.conn.getresponse())


def call(
    server: ServerProcess,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Result:
    """One request on a fresh connection."""
    with Client(server) as client:
        return client.call(method, path, body, headers)


def assert_json(result: Result, status: int, body: bytes) -> None:
    assert (result.status, result.body) == (status, body)
    assert result.header("Content-Type") == "application/json"
    assert result.header("Content-Length") == str(len(body))


# -- every status ---------------------------------------------------------------------


def test_every_object_status(server_factory: Factory) -> None:
    server = server_factory(
        number_of_slots="2",
        eviction_policy="REJECT",
        max_object_size="1kb",
        max_key_length="8",
        time_to_live="60",
    )
    with Client(server) as c:
        assert_json(c.call("PUT", "/object/a", b"A"), 200, SUCCESS)
        assert_json(c.call("POST", "/object/b", b"B"), 200, SUCCESS)
        assert_json(c.call("PUT", "/object/c", b"C"), 507, NO_STORAGE)
        got = c.call("GET", "/object/a")
        assert (got.status, got.body, got.header("Content-Type")) == (
            200,
            b"A",
            "application/octet-stream",
        )
        head = c.call("HEAD", "/object/b")
        assert (head.status, head.body, head.header("Content-Length")) == (200, b"", "1")
        assert head.header("Content-Type") == "application/octet-stream"
        assert_json(c.call("GET", "/object/c"), 404, missing("c"))
        head_missing = c.call("HEAD", "/object/c")
        assert (head_missing.status, head_missing.body) == (404, b"")
        assert head_missing.header("Content-Length") == str(len(missing("c")))
        assert_json(c.call("DELETE", "/object/a"), 200, SUCCESS)
        assert_json(c.call("DELETE", "/object/a"), 404, missing("a"))
        assert_json(
            c.call("PUT", "/object/t?ttl=abc", b"x"),
            400,
            b'{"message": "ttl must be a whole number of seconds from 0 (forever) to 31536000"}\n',
        )
        assert_json(c.call("GET", "/object/t"), 404, missing("t"))
        assert_json(
            c.call("GET", "/object/123456789"),
            400,
            b'{"message": "The key must be at most 8 bytes"}\n',
        )
        assert_json(c.call("GET", "/object/"), 400, b'{"message": "The key must not be empty"}\n')
        not_allowed = c.call("PATCH", "/object/b", b"x")
        assert_json(not_allowed, 405, b'{"message": "Method PATCH is not allowed here"}\n')
        assert not_allowed.header("Allow") == "GET, HEAD, PUT, POST, DELETE"
        assert_json(c.call("GET", "/nope"), 404, b'{"message": "Not found"}\n')
        assert_json(c.call("PUT", "/object", b"x"), 404, b'{"message": "Not found"}\n')
    too_large = call(server, "PUT", "/object/big", b"x" * 1025)
    assert_json(too_large, 413, b'{"message": "Request body is larger than MAX_OBJECT_SIZE"}\n')
    assert too_large.header("Connection") == "close"
    assert_json(call(server, "PUT", "/object/b", b"y" * 1024), 200, SUCCESS)
    assert call(server, "GET", "/object/b").body == b"y" * 1024


def test_object_larger_than_max_memory_is_413(server_factory: Factory) -> None:
    server = server_factory(max_memory="1kb", max_object_size="1mb")
    result = call(server, "PUT", "/object/k", b"x" * 2048)
    assert_json(
        result, 413, b'{"message": "The object is larger than the whole cache (MAX_MEMORY)"}\n'
    )
    assert call(server, "GET", "/object/k").status == 404


def test_overwrite_that_cannot_fit_keeps_the_old_value(server_factory: Factory) -> None:
    server = server_factory(max_memory="2kb", eviction_policy="REJECT", number_of_slots="0")
    with Client(server) as c:
        assert c.call("PUT", "/object/a", b"1" * 700).status == 200
        assert c.call("PUT", "/object/b", b"2" * 500).status == 200
        assert_json(c.call("PUT", "/object/a", b"3" * 1500), 507, NO_STORAGE)
        assert c.call("GET", "/object/a").body == b"1" * 700


# -- the original's policies ----------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "writes", "reads"),
    [
        ("REJECT", [200, 200, 507], {"a": b"A", "b": b"B", "c": None}),
        ("OLDEST_FIRST", [200, 200, 200], {"a": None, "b": b"B", "c": b"C"}),
        ("NEWEST_FIRST", [200, 200, 200], {"a": b"A", "b": None, "c": b"C"}),
    ],
)
def test_original_policies_with_two_slots(
    server_factory: Factory, policy: str, writes: list[int], reads: dict[str, bytes | None]
) -> None:
    server = server_factory(number_of_slots="2", eviction_policy=policy)
    with Client(server) as c:
        for key, status in zip("abc", writes, strict=True):
            result = c.call("PUT", f"/object/{key}", key.upper().encode())
            assert_json(result, status, SUCCESS if status == 200 else NO_STORAGE)
        for key, value in reads.items():
            result = c.call("GET", f"/object/{key}")
            if value is None:
                assert_json(result, 404, missing(key))
            else:
                assert (result.status, result.body) == (200, value)


# -- bodies, types, keys, ttl ----------------------------------------------------------


def test_binary_bodies_and_content_types_round_trip(shared_server: ServerProcess) -> None:
    server = shared_server
    every_byte = bytes(range(256)) * 4
    large = os.urandom(512 * 1024)
    cases = [
        ("bin", every_byte, "image/png"),
        ("large", large, "application/x-large"),
        ("text", "héllo\n".encode(), "text/plain; charset=utf-8"),
        ("empty", b"", "application/json"),
        ("default", b"\x00", None),
    ]
    with Client(server) as c:
        for key, body, content_type in cases:
            headers = {"Content-Type": content_type} if content_type else {}
            assert c.call("PUT", f"/object/{key}", body, headers).status == 200
        for key, body, content_type in cases:
            result = c.call("GET", f"/object/{key}")
            assert result.status == 200
            assert result.body == body
            assert result.header("Content-Type") == (content_type or "application/octet-stream")
            assert result.header("Content-Length") == str(len(body))


def test_encoded_keys(shared_server: ServerProcess) -> None:
    server = shared_server
    with Client(server) as c:
        assert c.call("PUT", "/object/a%2Fb", b"slash").status == 200
        assert c.call("GET", "/object/a/b").body == b"slash"
        assert c.call("PUT", "/object/%C3%A9t%C3%A9%20x", b"summer").status == 200
        assert c.call("GET", "/object/%c3%a9t%c3%a9%20x").body == b"summer"
        assert c.call("PUT", "/object/q%3Fttl%3Dabc?ttl=0", b"question").status == 200
        assert c.call("GET", "/object/q%3Fttl=abc").body == b"question"
        assert_json(c.call("GET", "/object/dir%2Fnone"), 404, missing("dir/none"))


def test_ttl_and_time_to_live_expire(server_factory: Factory) -> None:
    server = server_factory(time_to_live="1")
    with Client(server) as c:
        assert c.call("PUT", "/object/default", b"d").status == 200
        assert c.call("PUT", "/object/short?ttl=1", b"s").status == 200
        assert c.call("PUT", "/object/forever?ttl=0", b"f").status == 200
        assert c.call("PUT", "/object/long?ttl=100", b"l").status == 200
        written = time.monotonic()
        assert c.call("GET", "/object/default").status == 200
        assert c.call("GET", "/object/short").status == 200
        deadline = written + 3.0
        while c.call("GET", "/object/short").status == 200:
            assert time.monotonic() < deadline, "ttl=1 never expired"
            time.sleep(0.05)
        assert time.monotonic() - written >= 0.9
        assert_json(c.call("GET", "/object/default"), 404, missing("default"))
        assert_json(c.call("DELETE", "/object/short"), 404, missing("short"))
        assert c.call("GET", "/object/forever").body == b"f"
        assert c.call("GET", "/object/long").body == b"l"


def test_keep_alive_connection_serves_many_requests(shared_server: ServerProcess) -> None:
    server = shared_server
    with Client(server) as c:
        assert c.call("PUT", "/object/k0", b"0").status == 200
        first_socket = c.conn.sock
        for i in range(1, 50):
            assert c.call("PUT", f"/object/k{i}", b"%d" % i).status == 200
        for i in range(50):
            result = c.call("GET", f"/object/k{i}")
            assert result.body == b"%d" % i
            assert result.header("Connection") == "keep-alive"
        assert first_socket is not None
        assert c.conn.sock is first_socket, "the connection was not kept alive"


# -- command line and configuration -------------------------------------------------------


def run_cli(
    *args: str, env: dict[str, str] | None = None, module: bool = False
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CACHE_")}
    full_env.pop("APP_ENV", None)
    full_env.update(env or {})
    command = [sys.executable, "-m", "cache_api"] if module else [sys.executable, "wsgi.py"]
    return subprocess.run(
        [*command, *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )


@pytest.mark.parametrize("module", [False, True])
def test_help(module: bool) -> None:
    result = run_cli("--help", module=module)
    assert result.returncode == 0
    for text in ("--number-of-slots", "CACHE_EVICTION_POLICY", "--max-object-size", "--port"):
        assert text in result.stdout


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("EVICTION_POLICY", "SOMETIMES"),
        ("MAX_OBJECT_SIZE", "lots"),
        ("MAX_HEADER_SIZE", "100"),
        ("HEADER_TIMEOUT", "-1"),
        ("NUMBER_OF_SLOTS", "1.5"),
    ],
)
def test_bad_setting_exits_2_with_one_line_naming_it(name: str, value: str) -> None:
    result = run_cli(env={"CACHE_PORT": "0", f"CACHE_{name}": value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert value in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_flag_value_exits_2() -> None:
    result = run_cli("--port", "not-a-port")
    assert result.returncode == 2
    assert "PORT" in result.stderr


def test_unknown_app_env_exits_nonzero_with_a_clear_message() -> None:
    result = run_cli(env={"APP_ENV": "nope", "CACHE_PORT": "0"})
    assert result.returncode != 0
    assert "APP_ENV" in result.stderr
    assert "nope" in result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stderr


# -- signals -----------------------------------------------------------------------------


@pytest.fixture
def module_server() -> Iterator[Callable[..., ServerProcess]]:
    """Start ``python -m cache_api`` (not ``wsgi.py``) with ``CACHE_*`` settings."""
    started: list[ServerProcess] = []

    def start(**settings: str) -> ServerProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CACHE_")}
        env.pop("APP_ENV", None)
        env.update({"CACHE_PORT": "0", "CACHE_HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"})
        env.update({f"CACHE_{name.upper()}": value for name, value in settings.items()})
        log_fd, log_name = tempfile.mkstemp(prefix="cache-api-test-", suffix=".log")
        process = subprocess.Popen(
            [sys.executable, "-m", "cache_api"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_fd,
        )
        os.close(log_fd)
        server = ServerProcess(process, "", 0, Path(log_name))
        started.append(server)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            match = BANNER.search(server.log_path.read_bytes())
            if match:
                server.host, server.port = match.group(1).decode(), int(match.group(2))
                return server
            assert process.poll() is None, server.log()
            time.sleep(0.02)
        raise AssertionError(f"server did not start: {server.log()}")

    yield start
    for server in started:
        server.stop(signal.SIGKILL)
        server.log_path.unlink(missing_ok=True)


def wait_until_refused(server: ServerProcess) -> None:
    """Poll until the server stops accepting connections."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        try:
            probe = socket.create_connection((server.host, server.port), timeout=1.0)
        except ConnectionRefusedError:
            return
        probe.close()
        time.sleep(0.02)
    raise AssertionError("the server still accepts connections")


def read_until_eof(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_sigterm_finishes_the_request_in_flight_and_exits_0(
    module_server: Callable[..., ServerProcess],
) -> None:
    server = module_server(shutdown_timeout="5")
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"PUT /object/k HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234")
        time.sleep(0.1)
        server.process.send_signal(signal.SIGTERM)
        wait_until_refused(server)
        assert server.process.poll() is None, "exited before the request in flight finished"
        sock.sendall(b"56789")
        answer = read_until_eof(sock)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nconnection: close\r\n" in answer.lower()
    assert answer.endswith(b"\r\n\r\n" + SUCCESS)
    assert server.process.wait(timeout=10) == 0


def test_sigterm_closes_idle_connections_and_exits_0(
    module_server: Callable[..., ServerProcess],
) -> None:
    server = module_server()
    with Client(server) as c:
        assert c.call("PUT", "/object/k", b"v").status == 200
        assert server.stop(signal.SIGTERM) == 0


def test_sigint_exits_0(server_factory: Factory) -> None:
    server = server_factory()
    assert call(server, "PUT", "/object/k", b"v").status == 200
    assert server.stop(signal.SIGINT) == 0
    assert "Traceback" not in server.log()

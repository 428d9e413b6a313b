"""probe: the container's health check finds the server from its settings and asks /health."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cache_api.probe import health_url, main, probe

POLL_SECONDS = 0.05
WAIT_SECONDS = 5.0


@pytest.fixture(autouse=True)
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:9000/health"),
        ("::", "http://[::1]:9000/health"),
        ("10.1.2.3", "http://10.1.2.3:9000/health"),
    ],
)
def test_health_url_follows_the_settings(host: str, url: str) -> None:
    assert health_url({"CACHE_HOST": host, "CACHE_PORT": "9000"}) == url


def test_health_url_reads_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text(
        "class P:\n    PORT = 7070\nconfig = {'production': P}\n"
    )
    assert health_url({"APP_ENV": "production"}) == "http://127.0.0.1:7070/health"


def test_bad_settings_fail_the_probe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([], {"CACHE_PORT": "not a port"}) == 1
    assert "probe: PORT='not a port'" in capsys.readouterr().err


def test_nothing_listening_fails_the_probe(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main([], {"CACHE_PORT": str(port)}) == 1
    assert "unreachable" in capsys.readouterr().err


@pytest.mark.e2e
def test_probe_passes_while_serving_and_fails_while_draining(
    server_factory: Callable[..., Any],
) -> None:
    server = server_factory(shutdown_delay="10")
    url = f"{server.base_url}/health"
    assert probe(url) is None
    assert main(["--url", url], {}) == 0
    assert main([], {"CACHE_PORT": str(server.port)}) == 0
    server.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + WAIT_SECONDS
    while (problem := probe(url)) is None and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    assert problem == f"{url} answered 503"
    assert server.stop() == 0

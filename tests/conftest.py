"""Shared fixtures: a fake clock, and a real server process for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from cache_api.server import PURE_PYTHON_ENV

ROOT = Path(__file__).resolve().parent.parent
BANNER = re.compile(rb"listening on http://([0-9.]+):(\d+)")
START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.02


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test stale compiled modules: a ``.so`` built before an edit hides the edit.

    The code of every compiled module is in one library beside the package
    (``cache_api__mypyc*.so``, see ``setup.py``); each module's own ``.so`` only
    loads it, so the library's age is the build's.
    """
    sources = [
        compiled.with_name(compiled.name.split(".", 1)[0] + ".py")
        for compiled in (ROOT / "cache_api").rglob("*.so")
    ]
    if not sources:
        return
    built = max((lib.stat().st_mtime for lib in ROOT.glob("cache_api__mypyc*.so")), default=0.0)
    stale = [str(s.relative_to(ROOT)) for s in sources if s.exists() and s.stat().st_mtime > built]
    if stale:
        pytest.exit(
            f"compiled modules older than their source: {', '.join(sorted(stale))}; rebuild "
            "with `pip install -e .` (or delete the .so files to test pure Python)",
            returncode=2,
        )


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class ServerProcess:
    """A running ``python wsgi.py`` on a free port, configured through ``CACHE_*`` variables."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log(self) -> str:
        """Everything the server has written to stderr so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal the server and wait for it to exit; return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def start_server(
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    args: tuple[str, ...] = (),
) -> ServerProcess:
    """Start ``python wsgi.py`` with ``CACHE_PORT=0``; learn the port from its banner."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CACHE_") or k == PURE_PYTHON_ENV  # a build flag, not a setting
    }
    full_env.pop("APP_ENV", None)
    full_env.update({"CACHE_PORT": "0", "CACHE_HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"})
    full_env.update(env or {})
    log_fd, log_name = tempfile.mkstemp(prefix="cache-api-test-", suffix=".log")
    log_path = Path(log_name)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "wsgi.py"), *args],
        cwd=cwd or ROOT,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log_fd,
    )
    os.close(log_fd)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        match = BANNER.search(log_path.read_bytes())
        if match:
            return ServerProcess(process, match.group(1).decode(), int(match.group(2)), log_path)
        if process.poll() is not None:
            break
        time.sleep(POLL_SECONDS)
    process.kill()
    process.wait()
    raise RuntimeError(f"server did not start: {log_path.read_text(errors='replace')}")


@pytest.fixture
def server_factory() -> Iterator[Callable[..., ServerProcess]]:
    """Start servers with given ``CACHE_*`` settings; all are stopped after the test."""
    started: list[ServerProcess] = []

    def factory(**settings: str) -> ServerProcess:
        server = start_server({f"CACHE_{name.upper()}": value for name, value in settings.items()})
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop(signal.SIGKILL)
        server.log_path.unlink(missing_ok=True)


SHARED_SERVER_SETTINGS = {
    "CACHE_NUMBER_OF_SLOTS": "0",
    "CACHE_EVICTION_POLICY": "REJECT",
    "CACHE_TIME_TO_LIVE": "60",
    "CACHE_MAX_OBJECT_SIZE": "1mb",
    "CACHE_MAX_HEADER_SIZE": "1kb",
    "CACHE_HEADER_TIMEOUT": "30",
    "CACHE_KEEPALIVE_TIMEOUT": "30",
}
"""The settings of ``shared_server``, spelled out so a config file cannot change them."""


@pytest.fixture(scope="module")
def shared_server() -> Iterator[ServerProcess]:
    """One server shared by a test module (``SHARED_SERVER_SETTINGS``); use distinct keys."""
    server = start_server(SHARED_SERVER_SETTINGS)
    yield server
    server.stop(signal.SIGKILL)
    server.log_path.unlink(missing_ok=True)

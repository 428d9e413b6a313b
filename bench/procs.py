"""Process plumbing for the bench: free ports, CPU pinning, servers that always die.

Every server is started in its own session (process group) and registered in
``_LIVE`` so that ``stop_all`` (called from ``finally`` blocks, ``atexit`` and
the SIGTERM handler) can kill whatever is still running.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
SERVER_CORE = 0
LOADGEN_CORE = 1
MIN_CORES_FOR_PINNING = 2
READY_TIMEOUT_S = 20.0
READY_POLL_S = 0.05
STOP_GRACE_S = 3.0
LOG_TAIL_CHARS = 2000
OPEN_FILES_LIMIT = 65536

_LIVE: list[Server] = []


def pinning_enabled() -> bool:
    """True when the machine has enough cores to split server and load generator."""
    return (os.cpu_count() or 1) >= MIN_CORES_FOR_PINNING


def pin_self_to_loadgen_core() -> None:
    """Run the orchestrator (and its bulk loaders) on the load-generator core."""
    if pinning_enabled():
        os.sched_setaffinity(0, {LOADGEN_CORE})


def pinned(cmd: Sequence[str], core: int) -> list[str]:
    """Prefix ``cmd`` with ``taskset -c core`` when pinning is possible."""
    if not pinning_enabled():
        return list(cmd)
    return ["taskset", "-c", str(core), *cmd]


def free_port() -> int:
    """Ask the kernel for a currently unused loopback TCP port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def raise_open_files_limit() -> None:
    """Raise RLIMIT_NOFILE so wrk and the servers can hold 512+ sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = max(soft, OPEN_FILES_LIMIT)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target)))


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on the loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(READY_POLL_S * 4)
        return sock.connect_ex((LOOPBACK, port)) == 0


@dataclass
class Server:
    """A running server process pinned to the server core."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    workdir: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        """Pid of the server (taskset execs, so it is the server itself)."""
        return self.proc.pid

    def log_tail(self) -> str:
        """The last part of the server's combined stdout/stderr."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text[-LOG_TAIL_CHARS:]

    def stop(self) -> None:
        """Terminate the whole process group, then kill it if it lingers."""
        if self in _LIVE:
            _LIVE.remove(self)
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_GRACE_S)
        # Children (nginx worker, ...) may outlive a dead leader.
        _signal_group(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.log_path.parent, ignore_errors=True)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to a process group, ignoring one that is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def start_server(
    name: str,
    cmd: Sequence[str],
    port: int,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    workdir: Path | None = None,
) -> Server:
    """Start ``cmd`` pinned to the server core and wait until ``port`` accepts."""
    log_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-log-"))
    log_path = log_dir / "server.log"
    full_env = {**os.environ, **(env or {})}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            pinned(cmd, SERVER_CORE),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
    server = Server(name, port, proc, log_path, workdir)
    _LIVE.append(server)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise RuntimeError(f"{name} exited with {proc.returncode} before listening:\n{tail}")
        if port_open(port):
            return server
        time.sleep(READY_POLL_S)
    tail = server.log_tail()
    server.stop()
    raise RuntimeError(f"{name} did not listen on {port} in {READY_TIMEOUT_S}s:\n{tail}")


@contextlib.contextmanager
def running(
    name: str,
    cmd: Sequence[str],
    port: int,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    workdir: Path | None = None,
) -> Iterator[Server]:
    """Context manager: a started server that is always stopped on exit."""
    server = start_server(name, cmd, port, env=env, cwd=cwd, workdir=workdir)
    try:
        yield server
    except Exception as exc:
        tail = server.log_tail().strip()
        if not tail:
            raise
        raise RuntimeError(f"{exc}\n--- {name} server log (tail) ---\n{tail}") from exc
    finally:
        server.stop()


def stop_all() -> None:
    """Stop every server that is still registered (safety net)."""
    for server in list(_LIVE):
        server.stop()


def _on_sigterm(signum: int, frame: object) -> None:
    """Turn SIGTERM/SIGHUP into SystemExit so ``finally`` blocks stop servers."""
    raise SystemExit(128 + signum)


def install_cleanup() -> None:
    """Make SIGTERM/SIGHUP unwind the stack (running ``finally``) and exit cleanly."""
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGHUP, _on_sigterm)


def run_tool(
    cmd: Sequence[str], timeout_s: float, stdin_data: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run a load-generator tool pinned to the load core, with a hard timeout."""
    return subprocess.run(
        pinned(cmd, LOADGEN_CORE),
        input=stdin_data,
        stdin=None if stdin_data is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout_s,
        check=False,
    )


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` over all its threads."""
    kids: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    with contextlib.suppress(OSError):
        for task in task_dir.iterdir():
            with contextlib.suppress(OSError):
                kids.extend(int(k) for k in (task / "children").read_text().split())
    return kids


def _rss_of(pid: int) -> int:
    """VmRSS of one process in bytes (0 when it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def tree_rss_bytes(pid: int) -> int:
    """VmRSS summed over ``pid`` and all its descendants, in bytes."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        total += _rss_of(current)
        stack.extend(_children(current))
    return total

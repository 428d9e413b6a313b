"""How to start each server under test, pinned to the server core, on a free port."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from loader import key_name, value_bytes
from procs import LOOPBACK, Server, free_port, running

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
FLASK_APP = BENCH_DIR / "baselines" / "flask_app.py"
MINIMAL_SERVER = BENCH_DIR / "baselines" / "minimal_server.py"
WORLD_READABLE_DIR = 0o755
NGINX_WORKER_CONNECTIONS = 8192
NGINX_KEEPALIVE_REQUESTS = 10_000_000
MEMCACHED_MEMORY_MB = 4096
MEMCACHED_MAX_CONNECTIONS = 8192
REDIS_MAX_CLIENTS = 10000
BENCH_TTL_S = 3600
SHARED_MEMORY_DIR = Path("/dev/shm")
OURS_BASE_ENV = {
    "CACHE_HOST": LOOPBACK,
    "CACHE_NUMBER_OF_SLOTS": "0",
    "CACHE_MAX_MEMORY": "0",
    "CACHE_TIME_TO_LIVE": str(BENCH_TTL_S),
    "CACHE_EVICTION_POLICY": "LRU",
    "CACHE_MAX_OBJECT_SIZE": "2mb",
    "CACHE_LOG_LEVEL": "WARNING",
}


@dataclass
class Commands:
    """Command lines of the servers whose location depends on the setup."""

    ours: list[str]
    python: str = sys.executable


COMMANDS = Commands(ours=[sys.executable, str(REPO_ROOT / "wsgi.py")])


@contextlib.contextmanager
def ours(**env: str) -> Iterator[Server]:
    """Our server (``python wsgi.py``) with OURS_BASE_ENV plus ``env`` overrides."""
    port = free_port()
    full_env = {**OURS_BASE_ENV, **env, "CACHE_PORT": str(port)}
    with running("ours", COMMANDS.ours, port, env=full_env, cwd=REPO_ROOT) as server:
        yield server


def flask(preload_keys: int = 0, value_size: int = 0) -> AbstractContextManager[Server]:
    """The Flask baseline, optionally preloaded with keys 0..preload_keys-1."""
    return _baseline("flask", FLASK_APP, preload_keys, value_size)


def minimal(preload_keys: int, value_size: int) -> AbstractContextManager[Server]:
    """The minimal httptools + uvloop server (headroom), preloaded with keys 0..preload_keys-1."""
    return _baseline("minimal", MINIMAL_SERVER, preload_keys, value_size)


@contextlib.contextmanager
def _baseline(name: str, script: Path, preload_keys: int, value_size: int) -> Iterator[Server]:
    """A Python baseline from ``bench/baselines`` (``BENCH_PRELOAD`` fills it at start)."""
    port = free_port()
    env = {"CACHE_HOST": LOOPBACK, "CACHE_PORT": str(port)}
    if preload_keys:
        env["BENCH_PRELOAD"] = f"{preload_keys}:{value_size}"
    with running(name, [COMMANDS.python, str(script)], port, env=env) as server:
        yield server


def _nginx_conf(workdir: Path, port: int) -> str:
    """nginx.conf text: one worker, no access log, static files from ``workdir``."""
    return f"""
daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log crit;
events {{ worker_connections {NGINX_WORKER_CONNECTIONS}; }}
http {{
    access_log off;
    log_not_found off;
    keepalive_requests {NGINX_KEEPALIVE_REQUESTS};
    default_type application/octet-stream;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen {LOOPBACK}:{port};
        root {workdir}/www;
    }}
}}
"""


@contextlib.contextmanager
def nginx(keys: int, value_size: int) -> Iterator[Server]:
    """nginx serving keys 0..keys-1 as static files under /object/."""
    port = free_port()
    # tmpfs, so that writing the files leaves no disk writeback behind to
    # compete with the measurement
    shm = SHARED_MEMORY_DIR if SHARED_MEMORY_DIR.is_dir() else None
    workdir = Path(tempfile.mkdtemp(prefix="bench-nginx-", dir=shm))
    try:
        workdir.chmod(WORLD_READABLE_DIR)  # the worker runs as nobody
        objects = workdir / "www" / "object"
        objects.mkdir(parents=True)
        for path in (workdir / "www", objects):
            path.chmod(WORLD_READABLE_DIR)
        data = value_bytes(value_size)
        for n in range(keys):
            (objects / key_name(n)).write_bytes(data)
        conf = workdir / "nginx.conf"
        conf.write_text(_nginx_conf(workdir, port))
        cmd = ["nginx", "-c", str(conf), "-p", str(workdir)]
        with running("nginx", cmd, port, workdir=workdir) as server:
            yield server
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def redis() -> Iterator[Server]:
    """redis-server without persistence on its own port."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    cmd = [
        "redis-server",
        "--port", str(port),
        "--bind", LOOPBACK,
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--maxclients", str(REDIS_MAX_CLIENTS),
        "--loglevel", "warning",
    ]  # fmt: skip
    try:
        with running("redis", cmd, port, workdir=workdir) as server:
            yield server
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def memcached() -> Iterator[Server]:
    """memcached with a memory cap big enough to never evict in the bench."""
    port = free_port()
    cmd = [
        "memcached",
        "-l", LOOPBACK,
        "-p", str(port),
        "-U", "0",
        "-m", str(MEMCACHED_MEMORY_MB),
        "-c", str(MEMCACHED_MAX_CONNECTIONS),
        "-u", "root",
    ]  # fmt: skip
    with running("memcached", cmd, port) as server:
        yield server

"""Start and stop: read the settings, build the store and routes, serve until a signal.

One process, one asyncio event loop on uvloop. The routes are the cache's
``/object/{key}`` plus the operational endpoints (``/health``, ``/stats``,
``/metrics``, ``/openapi.json``). The handler the protocol calls is
``Api.handle`` wrapped once here: always by the request counter, and by the
access log only when ``ACCESS_LOG`` is on.

SIGINT and SIGTERM start the shutdown: ``/health`` answers 503 at once and
the server keeps serving for ``SHUTDOWN_DELAY`` seconds (a second signal cuts
that short), so load balancers stop sending; then it stops accepting, lets
the responses in flight finish (up to ``SHUTDOWN_TIMEOUT``), closes every
connection, logs a summary and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import importlib.machinery
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence

import uvloop

from cache_api import __version__, logs, openapi
from cache_api.api import Api
from cache_api.config import ConfigError, Loaded, Settings, format_size, load
from cache_api.expiry import ACTIVE_EXPIRE_TICK_SECONDS, ActiveExpireCycle
from cache_api.http import HttpLimits, HttpProtocol, ServerState
from cache_api.listener import Listener, bind
from cache_api.metrics import Metrics
from cache_api.ops import Ops
from cache_api.policies import make_policy
from cache_api.store import Store
from cache_api.telemetry import Telemetry
from cache_api.traffic import RequestCounts
from cache_api.types import Endpoint

log = logging.getLogger("cache_api")
lifecycle = logging.getLogger(logs.LIFECYCLE_LOGGER)
"""Banner, shutdown progress and summary: written whatever LOG_LEVEL says."""

LISTEN_BACKLOG = 1024
"""Pending TCP connections the kernel queues for ``accept``."""

SHUTDOWN_POLL_SECONDS = 0.02
"""How often shutdown checks whether the last connections have closed."""

BYTES_PER_MIB = 1024**2

PURE_PYTHON_ENV = "CACHE_API_PURE_PYTHON"
"""Set at install to skip compiling (``setup.py``); the banner then only notes it."""


def compiled_modules() -> list[str]:
    """The loaded ``cache_api`` modules that are mypyc-compiled extensions (see ``setup.py``)."""
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name.startswith("cache_api.")
        and str(getattr(module, "__file__", "")).endswith(
            tuple(importlib.machinery.EXTENSION_SUFFIXES)
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The ``cache-api`` command: serve until a signal; exit 0 when stopped, 2 on bad config."""
    try:
        loaded = load(argv, os.environ)
    except ConfigError as error:
        print(f"cache-api: {error}", file=sys.stderr)
        return 2
    settings = loaded.settings
    logs.configure(settings.log_level, settings.log_format, settings.access_log, sys.stderr)
    release_large_frees()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        try:
            return runner.run(serve(loaded))
        except OSError as error:
            settings = loaded.settings
            log.critical("cannot listen on %s:%d: %s", settings.host, settings.port, error.strerror)
            return 1


def http_limits(settings: Settings) -> HttpLimits:
    """The protocol's limits from the settings."""
    return HttpLimits(
        max_body_size=settings.max_object_size,
        max_header_size=settings.max_header_size,
        keepalive_timeout=settings.keepalive_timeout,
        header_timeout=settings.header_timeout,
        max_connections=settings.max_connections,
    )


def operations_routes(telemetry: Telemetry) -> dict[bytes, dict[bytes, Endpoint]]:
    """The routes beside ``/object/{key}``: health, stats, metrics and the OpenAPI document."""
    ops = Ops(telemetry)
    metrics = Metrics(telemetry)
    return {
        b"/health": {b"GET": ops.health},
        b"/stats": {b"GET": ops.stats},
        b"/metrics": {b"GET": metrics.endpoint},
        b"/openapi.json": {b"GET": openapi.endpoint},
    }


# Returning freed tables to the system
# ------------------------------------
# What: at start the server sets glibc's ``M_MMAP_THRESHOLD`` to a fixed
# ``MMAP_THRESHOLD_BYTES``, so every allocation at least that large (the hash
# tables and arrays of a large cache) gets pages of its own and gives them
# back to the system when freed.
# Why: by default glibc raises that threshold after each large free, up to
# 32 MiB, so later tables come from the heap, and a table freed by a resize
# stays resident behind newer allocations. Measured with ``bench/
# entry_overhead.py --churn``: a full LRU cache of 200 k small entries held
# 455 bytes an entry without this and 372 with it; ``MAX_MEMORY`` should be
# the memory the objects use, not the allocator's history. Redis reaches the
# same end by shipping jemalloc.
# Why 2 MiB: below it, allocations come from the heap and are reused there.
# At 128 KiB (until 2026-12-06) every value of 128 KiB or more, and every
# read of that size, was a fresh mapping whose pages the kernel faulted in
# and zeroed: PUTs of 1 MB values at c64 ran 452-518/s, at 2 MiB 725-751/s
# (4 MiB: 692-742; glibc's own dynamic threshold: 662-713). What it costs:
# arrays between 128 KiB and 2 MiB freed by a resize may stay in the heap;
# a full LRU / SIEVE cache of 200 k entries under churn held 405 / 426 B an
# entry instead of 398 / 418 (1 M entries filled once: 138.9 B against 138.5), and
# ``bench/run.py --only memory`` gave the same RSS per object and the same
# ``MAX_MEMORY`` ratios (0.93-1.02x of the limit).
# Cost: one ``mmap``/``munmap`` pair per allocation of 2 MiB or more, none on
# the request path for values below it. A libc without ``mallopt`` (musl)
# keeps its own behaviour.
M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number for the mmap threshold."""

MMAP_THRESHOLD_BYTES = 2 * 1024 * 1024
"""Allocations of at least this many bytes are mapped apart and unmapped on free."""


def release_large_frees() -> bool:
    """Pin glibc's mmap threshold (see above); False where the libc has no ``mallopt``."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


# Keeping the long-lived objects out of the cyclic garbage collector.
#
# What: once the server has built everything that lives as long as it does
# (modules, settings, the store with its table and policy, the routes, the
# listener), one full collection clears any garbage, then ``gc.freeze()``
# moves every object tracked at that moment into the permanent generation,
# which later collections never examine.
# Why: the store's table keeps its entries in one list, and a list is a
# container the collector traverses item by item in every collection of the
# generation it is in. With 1 M objects stored, each full collection (every
# 20-30 s under steady traffic, triggered by short-lived connection objects)
# and the one middle collection the list went through stalled the loop for
# 23-25 ms (measured with a ``gc.callbacks`` timer on 2026-12-07), and the
# requests caught behind it put GET's p99 at 1 M objects at 5-16 ms in half
# of the benchmark's 2 s samples, against about 2 ms without a stall. The
# list is created empty with the store and grows in place, so freezing it
# before the first request keeps it out of every collection for good; it is
# never garbage. Objects created later (connections, their buffers) are
# collected as before.
# Cost: one full collection at startup (milliseconds); objects alive at the
# freeze that become cyclic garbage later are never reclaimed, which is why
# it runs after the build and before any connection.


def freeze_long_lived() -> int:
    """Collect, then exempt every object alive now from later collections; return their number."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def request_handler(api: Api, access_log: bool) -> Endpoint:
    """``api.handle``, access-logged only if ``access_log`` (else no logging cost at all)."""
    return logs.access_logged(api.handle) if access_log else api.handle


async def serve(loaded: Loaded) -> int:
    """Serve on the configured address until SIGINT or SIGTERM, then drain and return 0."""
    settings = loaded.settings
    loop = asyncio.get_running_loop()
    started_at = time.monotonic()
    store = Store(
        make_policy(settings.eviction_policy, settings.number_of_slots),
        max_items=settings.number_of_slots,
        max_bytes=settings.max_memory,
    )
    requests = RequestCounts()
    state = ServerState(requests=requests)
    state.refresh_date()
    expiry = ActiveExpireCycle(store, time.monotonic)
    telemetry = Telemetry(
        settings=settings,
        store=store,
        connections=state,
        requests=requests,
        expiry=expiry,
        clock=time.monotonic,
        started_at=started_at,
    )
    api = Api(store, settings, time.monotonic, routes=operations_routes(telemetry))
    handler = request_handler(api, settings.access_log)
    limits = http_limits(settings)
    listener = Listener(
        loop,
        bind(settings.host, settings.port, LISTEN_BACKLOG),
        lambda: HttpProtocol(handler, state, limits, loop),
    )
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    freeze_long_lived()
    listener.start()
    housekeeping = loop.create_task(_housekeeping(expiry, state))
    _log_banner(loaded, listener)
    await stop.wait()
    state.draining = True
    if settings.shutdown_delay:
        lifecycle.info(
            "shutting down: /health answers 503; serving %gs more (SHUTDOWN_DELAY)",
            settings.shutdown_delay,
        )
        stop.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.shutdown_delay)
    lifecycle.info("shutting down: draining %d connection(s)", len(state.connections))
    housekeeping.cancel()
    listener.close()
    await _drain(state, settings.shutdown_timeout)
    _log_summary(telemetry)
    return 0


async def _housekeeping(cycle: ActiveExpireCycle, state: ServerState) -> None:
    """Run the active-expiry tick and refresh the Date header, ten times a second."""
    while True:
        cycle.tick()
        state.refresh_date()
        await asyncio.sleep(ACTIVE_EXPIRE_TICK_SECONDS)


async def _drain(state: ServerState, timeout: float) -> None:
    """Close idle connections now and the busy ones after their answer, within ``timeout``."""
    for connection in list(state.connections):
        connection.shutdown()
    deadline = time.monotonic() + timeout
    while state.connections and time.monotonic() < deadline:
        await asyncio.sleep(SHUTDOWN_POLL_SECONDS)
    if state.connections:
        log.warning("SHUTDOWN_TIMEOUT: closing %d busy connection(s)", len(state.connections))
        for connection in list(state.connections):
            connection.abort()


def _log_summary(telemetry: Telemetry) -> None:
    """The shutdown summary: one line of what this run did."""
    snap = telemetry.snapshot()
    store = snap.store
    statuses = " ".join(f"{status}={count}" for status, count in snap.requests_by_status.items())
    lifecycle.info(
        "stopped after %.1fs: %d connection(s) served, %d request(s) [%s]; "
        "%d item(s) held in %d byte(s); %d hit(s), %d miss(es) (hit ratio %.3f), %d set(s), "
        "%d delete(s), %d eviction(s), %d expiration(s), %d rejected write(s); peak RSS %.1f MiB",
        snap.uptime_seconds,
        snap.total_connections,
        sum(snap.requests_by_status.values()),
        statuses or "none",
        store.items,
        store.bytes,
        store.hits,
        store.misses,
        snap.hit_ratio,
        store.sets,
        store.deletes,
        store.evictions,
        store.expirations,
        store.rejected_writes,
        snap.peak_rss_bytes / BYTES_PER_MIB,
    )


def _log_banner(loaded: Loaded, listener: Listener) -> None:
    """The start-up banner: address, version, config source, limits, policy, logging."""
    settings = loaded.settings
    host, port = listener.sockets[0].getsockname()[:2]
    lifecycle.info(
        "cache-api %s listening on http://%s:%d (APP_ENV=%s, config %s)",
        __version__,
        host,
        port,
        loaded.app_env,
        loaded.config_file or "file: none, defaults and environment",
    )
    lifecycle.info(
        "limits: EVICTION_POLICY=%s NUMBER_OF_SLOTS=%s MAX_MEMORY=%s TIME_TO_LIVE=%ss "
        "MAX_OBJECT_SIZE=%s MAX_KEY_LENGTH=%d MAX_CONNECTIONS=%d",
        settings.eviction_policy,
        settings.number_of_slots or "unlimited",
        format_size(settings.max_memory) if settings.max_memory else "unlimited",
        settings.time_to_live or "forever ",
        format_size(settings.max_object_size),
        settings.max_key_length,
        settings.max_connections,
    )
    lifecycle.info(
        "logging: LOG_LEVEL=%s LOG_FORMAT=%s ACCESS_LOG=%s; shutdown: SHUTDOWN_DELAY=%gs "
        "SHUTDOWN_TIMEOUT=%gs; endpoints: /object/{key} /health /stats /metrics /openapi.json",
        settings.log_level,
        settings.log_format,
        "on" if settings.access_log else "off",
        settings.shutdown_delay,
        settings.shutdown_timeout,
    )
    if compiled := compiled_modules():
        lifecycle.info("hot path compiled by mypyc: %d modules", len(compiled))
    elif os.environ.get(PURE_PYTHON_ENV):
        lifecycle.info("hot path is pure Python (%s is set)", PURE_PYTHON_ENV)
    else:
        log.warning(
            "hot path is pure Python, about a quarter slower: install with `pip install -e .` "
            "where a C compiler and Python headers exist (README, Quick start)"
        )

"""Start and stop: read the settings, build the store and routes, serve until a signal.

One process, one asyncio event loop on uvloop. SIGINT and SIGTERM stop
accepting, let the responses in flight finish (up to ``SHUTDOWN_TIMEOUT``),
close every connection and exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence

import uvloop

from cache_api import __version__
from cache_api.api import Api
from cache_api.config import ConfigError, Loaded, Settings, format_size, load
from cache_api.expiry import ACTIVE_EXPIRE_TICK_SECONDS, ActiveExpireCycle
from cache_api.http import HttpLimits, HttpProtocol, ServerState
from cache_api.policies import make_policy
from cache_api.store import Store

log = logging.getLogger("cache_api")

LISTEN_BACKLOG = 1024
"""Pending TCP connections the kernel queues for ``accept``."""

SHUTDOWN_POLL_SECONDS = 0.02
"""How often shutdown checks whether the last connections have closed."""

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: Sequence[str] | None = None) -> int:
    """The ``cache-api`` command: serve until a signal; exit 0 when stopped, 2 on bad config."""
    try:
        loaded = load(argv, os.environ)
    except ConfigError as error:
        print(f"cache-api: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=loaded.settings.log_level, format=LOG_FORMAT, stream=sys.stderr)
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


async def serve(loaded: Loaded) -> int:
    """Serve on the configured address until SIGINT or SIGTERM, then drain and return 0."""
    settings = loaded.settings
    loop = asyncio.get_running_loop()
    store = Store(
        make_policy(settings.eviction_policy),
        max_items=settings.number_of_slots,
        max_bytes=settings.max_memory,
    )
    api = Api(store, settings, time.monotonic)
    state = ServerState()
    state.refresh_date()
    limits = http_limits(settings)
    server = await loop.create_server(
        lambda: HttpProtocol(api.handle, state, limits, loop),
        settings.host,
        settings.port,
        backlog=LISTEN_BACKLOG,
        reuse_address=True,
    )
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    housekeeping = loop.create_task(_housekeeping(ActiveExpireCycle(store, time.monotonic), state))
    _log_banner(loaded, server)
    await stop.wait()
    log.info("shutting down: draining %d connection(s)", len(state.connections))
    housekeeping.cancel()
    state.draining = True
    server.close()
    await _drain(state, settings.shutdown_timeout)
    await server.wait_closed()
    stats = store.stats()
    log.info(
        "stopped: %d connection(s) served, %d item(s) held, %d hit(s), %d miss(es), %d set(s)",
        state.total_connections,
        stats.items,
        stats.hits,
        stats.misses,
        stats.sets,
    )
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


def _log_banner(loaded: Loaded, server: asyncio.Server) -> None:
    settings = loaded.settings
    host, port = server.sockets[0].getsockname()[:2]
    log.info(
        "cache-api %s listening on http://%s:%d (APP_ENV=%s, config %s)",
        __version__,
        host,
        port,
        loaded.app_env,
        loaded.config_file or "file: none, defaults and environment",
    )
    log.info(
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

"""The container health probe: ``python -m cache_api.probe`` exits 0 if ``/health`` answers 200.

Slim images have no curl, so the Dockerfile's ``HEALTHCHECK`` and the compose
file's ``healthcheck`` run this instead. It finds the server the way the
server finds its own address: the same settings (``CACHE_HOST``,
``CACHE_PORT``, the config file), read by ``config.load``. A wildcard listen
address (``0.0.0.0``, ``::``) is probed on loopback. ``--url`` overrides all.

Exit status: 0 healthy; 1 anything else (503 while draining, refused, timed
out, unreadable settings), with one line on stderr saying why.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from cache_api.config import ConfigError, load

PROBE_TIMEOUT_SECONDS = 2.0
"""How long the probe waits for an answer; keep it below the HEALTHCHECK ``--timeout``."""

HEALTH_PATH = "/health"
LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
"""Wildcard listen addresses and the loopback address to probe them on."""


def health_url(environ: Mapping[str, str]) -> str:
    """The ``/health`` URL of the server these settings describe."""
    settings = load([], environ).settings
    host = LOOPBACK.get(settings.host, settings.host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}{HEALTH_PATH}"


def probe(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """None if ``url`` answers 200, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            response.read()
    except urllib.error.HTTPError as error:
        error.close()
        return f"{url} answered {error.code}"
    except (OSError, http.client.HTTPException) as error:
        return f"{url} unreachable: {error}"
    return None if status == http.client.OK else f"{url} answered {status}"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    """Probe once; 0 if healthy, 1 if not."""
    parser = argparse.ArgumentParser(prog="python -m cache_api.probe", description=__doc__)
    parser.add_argument("--url", help="probe this URL instead of the configured server's")
    args = parser.parse_args(argv)
    try:
        url = args.url or health_url(environ)
    except ConfigError as error:
        print(f"probe: {error}", file=sys.stderr)
        return 1
    problem = probe(url)
    if problem is not None:
        print(f"probe: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The installed build: the request path runs compiled by mypyc, as ``setup.py`` promises."""

from __future__ import annotations

import importlib
import importlib.machinery
import os

from cache_api.server import compiled_modules

HOT_PATH = (
    "cache_api.types",
    "cache_api.http",
    "cache_api.traffic",
    "cache_api.api",
    "cache_api.store",
    "cache_api.expiry",
    "cache_api.policies.lru",
    "cache_api.policies.fifo",
    "cache_api.policies.wtinylfu",
)


PURE_PYTHON = bool(os.environ.get("CACHE_API_PURE_PYTHON"))
"""Set when the build skipped mypyc on purpose; then nothing may be compiled."""


def is_extension(name: str) -> bool:
    module = importlib.import_module(name)
    return str(module.__file__).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_request_path_is_compiled_unless_built_pure() -> None:
    for name in HOT_PATH:
        assert is_extension(name) is not PURE_PYTHON, (
            f"{name}: compiled={is_extension(name)}, CACHE_API_PURE_PYTHON={PURE_PYTHON}. "
            "Install with `pip install -e .` where gcc and Python's headers exist."
        )
    assert (set(HOT_PATH) <= set(compiled_modules())) is not PURE_PYTHON


def test_compiled_modules_lists_only_extensions() -> None:
    importlib.import_module("cache_api.config")
    assert "cache_api.config" not in compiled_modules()

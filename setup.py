"""Build: the modules on the request path are compiled to C extensions with mypyc.

What: ``pip install .`` (or ``-e .``) type-checks the modules in ``COMPILED``
with mypy and compiles them with mypyc, mypy's compiler for typed Python (it
builds mypy and black). The source stays the plain, typed Python you read; the
compiled modules sit beside it and are imported in its place.

Why: the request path is small Python functions, attribute reads and calls,
which is what mypyc speeds up most. Measured on the benchmark machine (see
README "Performance"): about 40 % fewer instructions per GET and PUT, and
about a quarter more GET/s over HTTP.

Cost: a C compiler and Python's headers at install time (``gcc`` and
``python3-dev`` on Debian), and about a minute of compiling. Without them each
extension is optional: the install still succeeds, pure Python, and the server
says so in its log. ``CACHE_API_PURE_PYTHON=1`` skips compiling on purpose
(for profiling with py-spy, which cannot see into compiled frames).
Startup and operations modules (config, server, ops, metrics...) stay Python:
they run once or rarely.
"""

from __future__ import annotations

import os
from glob import glob

from mypyc.build import mypycify
from setuptools import setup

PURE_PYTHON_ENV = "CACHE_API_PURE_PYTHON"
COMPILED = [
    "cache_api/types.py",
    "cache_api/http.py",
    "cache_api/traffic.py",
    "cache_api/api.py",
    "cache_api/store.py",
    "cache_api/expiry.py",
    "cache_api/table.py",
    "cache_api/probing.py",
    *sorted(path for path in glob("cache_api/policies/*.py") if not path.endswith("__init__.py")),
]
COMPILED_GROUP = "cache_api"
"""Names the compiled modules' shared library (``cache_api__mypyc``)."""


def compiled_extensions() -> list[object]:
    """The mypyc extensions, each optional (a failed compile leaves that module pure Python)."""
    if os.environ.get(PURE_PYTHON_ENV):
        return []
    extensions = mypycify(COMPILED, opt_level="3", group_name=COMPILED_GROUP)
    for extension in extensions:
        extension.optional = True
    return list(extensions)


setup(ext_modules=compiled_extensions())

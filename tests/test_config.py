"""Settings: one table, parsed once; precedence flag > env > config class > default."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cache_api import config
from cache_api.config import (
    SETTINGS,
    ConfigError,
    Settings,
    format_size,
    load,
    settings_table_markdown,
    size,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(directory: Path, body: str) -> Path:
    (directory / "instance").mkdir(exist_ok=True)
    path = directory / "instance" / "config.py"
    path.write_text(body)
    return path


def test_no_config_file_gives_defaults(in_tmp: Path) -> None:
    loaded = load([], {})
    assert loaded.settings == Settings()
    assert loaded.config_file is None
    assert loaded.app_env == "development"
    assert loaded.settings.eviction_policy == "REJECT"
    assert loaded.settings.port == 8080
    assert loaded.settings.host == "127.0.0.1"
    assert loaded.settings.max_object_size == 1024 * 1024


def test_sample_config_loads_every_environment(in_tmp: Path) -> None:
    shutil.copytree(ROOT / "instance", in_tmp / "instance")
    shutil.copy(in_tmp / "instance" / "sample-config.py", in_tmp / "instance" / "config.py")
    dev = load([], {}).settings
    assert (dev.number_of_slots, dev.time_to_live, dev.eviction_policy) == (10, 60, "REJECT")
    testing = load([], {"APP_ENV": "testing"}).settings
    assert testing.number_of_slots == 2
    production = load([], {"APP_ENV": "production"}).settings
    assert production.max_memory == 256 * 1024 * 1024
    assert production.eviction_policy != "REJECT"


def test_precedence_flag_over_env_over_class_over_default(in_tmp: Path) -> None:
    write_config(
        in_tmp,
        "class C:\n    PORT = 7000\n    TIME_TO_LIVE = 5\n    NUMBER_OF_SLOTS = 3\n"
        "config = {'development': C}\n",
    )
    loaded = load(["--port", "9000"], {"CACHE_PORT": "8000", "CACHE_TIME_TO_LIVE": "7"})
    assert loaded.settings.port == 9000
    assert loaded.settings.time_to_live == 7
    assert loaded.settings.number_of_slots == 3
    assert loaded.settings.max_key_length == 1024
    assert loaded.config_file == Path("instance/config.py")


def test_unknown_app_env_without_file_is_an_error(in_tmp: Path) -> None:
    with pytest.raises(ConfigError, match=r"APP_ENV='staging'.*development, testing, production"):
        load([], {"APP_ENV": "staging"})


def test_unknown_app_env_with_file_names_the_choices(in_tmp: Path) -> None:
    write_config(in_tmp, "class C:\n    PORT = 1\nconfig = {'dev': C}\n")
    with pytest.raises(ConfigError, match=r"APP_ENV='development' is not in `config`.*dev"):
        load([], {})


def test_config_file_without_config_dict(in_tmp: Path) -> None:
    write_config(in_tmp, "X = 1\n")
    with pytest.raises(ConfigError, match="no dict named `config`"):
        load([], {})


def test_config_file_that_fails_to_import(in_tmp: Path) -> None:
    write_config(in_tmp, "this is not python\n")
    with pytest.raises(ConfigError, match="failed to load"):
        load([], {})


def test_unknown_setting_in_config_class(in_tmp: Path) -> None:
    write_config(
        in_tmp, "class C:\n    DEBUG = True\n    TIME_TO_LIEV = 3\nconfig = {'development': C}\n"
    )
    with pytest.raises(ConfigError, match="unknown settings: TIME_TO_LIEV"):
        load([], {})


def test_explicit_missing_config_file(in_tmp: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(["--config", "nope.py"], {})
    with pytest.raises(ConfigError, match="does not exist"):
        load([], {"CACHE_CONFIG_FILE": "nope.py"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CACHE_PORT": "abc"}, "PORT='abc' from environment: expected a whole number"),
        ({"CACHE_PORT": "70000"}, "PORT='70000'.*between 0 and 65535"),
        ({"CACHE_NUMBER_OF_SLOTS": "-1"}, "NUMBER_OF_SLOTS='-1'"),
        ({"CACHE_EVICTION_POLICY": "RANDOM"}, "EVICTION_POLICY='RANDOM'.*REJECT"),
        ({"CACHE_MAX_MEMORY": "12 parsecs"}, "MAX_MEMORY='12 parsecs'.*64mb"),
        ({"CACHE_MAX_OBJECT_SIZE": "0"}, "MAX_OBJECT_SIZE='0'"),
        ({"CACHE_TIME_TO_LIVE": "1.5"}, "TIME_TO_LIVE='1.5'"),
        ({"CACHE_KEEPALIVE_TIMEOUT": "soon"}, "KEEPALIVE_TIMEOUT='soon'"),
        ({"CACHE_HOST": "  "}, "HOST='  '"),
        ({"CACHE_LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD'"),
    ],
)
def test_bad_values_name_the_setting_and_value(
    in_tmp: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load([], env)
    assert "\n" not in str(info.value)


def test_bad_value_in_config_class_names_its_source(in_tmp: Path) -> None:
    write_config(in_tmp, "class C:\n    NUMBER_OF_SLOTS = 'ten'\nconfig = {'development': C}\n")
    with pytest.raises(ConfigError, match=r"NUMBER_OF_SLOTS='ten' from instance/config.py \["):
        load([], {})


def test_bool_is_not_a_number(in_tmp: Path) -> None:
    write_config(in_tmp, "class C:\n    NUMBER_OF_SLOTS = True\nconfig = {'development': C}\n")
    with pytest.raises(ConfigError, match="NUMBER_OF_SLOTS=True"):
        load([], {})


def test_policy_is_case_insensitive(in_tmp: Path) -> None:
    assert load([], {"CACHE_EVICTION_POLICY": "lru"}).settings.eviction_policy == "LRU"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("64mb", 64 * 1024**2),
        ("64MB", 64 * 1024**2),
        ("1.5kb", 1536),
        ("2k", 2000),
        ("1gib", 1024**3),
        ("1048576", 1048576),
        (4096, 4096),
        (" 10 mb ", 10 * 1024**2),
    ],
)
def test_sizes(raw: object, expected: int) -> None:
    assert size(0, 2**40)(raw) == expected


@given(st.integers(min_value=0, max_value=2**40))
def test_format_size_round_trips(value: int) -> None:
    assert size(0, 2**40)(format_size(value)) == value


def test_every_setting_has_a_parser_help_and_valid_default() -> None:
    for spec in SETTINGS:
        assert spec.metadata["help"]
        assert spec.metadata["parse"](spec.default) == spec.default
        shown = config.shown_default(spec)
        assert spec.metadata["parse"](shown) == spec.default


def test_help_lists_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        load(["--help"], {})
    assert info.value.code == 0
    out = capsys.readouterr().out
    for spec in SETTINGS:
        assert f"CACHE_{spec.name.upper()}" in out


def test_readme_settings_table_matches_the_declared_table() -> None:
    readme = (ROOT / "README.md").read_text()
    assert settings_table_markdown() in readme

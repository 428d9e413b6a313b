"""Sample configuration for cache-api, in the shape of the original service's.

Copy it to ``instance/config.py`` and edit. ``APP_ENV`` picks the class from the
``config`` dict below (default ``development``). Any setting can still be
overridden by an environment variable ``CACHE_<SETTING>`` or a ``cache-api``
flag; without this file the server runs on its built-in defaults.

Sizes accept ``1048576``, ``512kb``, ``64mb`` or ``1gb``; times are in seconds.
"""


class Config:
    """Settings shared by every environment."""

    NUMBER_OF_SLOTS = 10
    TIME_TO_LIVE = 60
    EVICTION_POLICY = "REJECT"
    MAX_MEMORY = "64mb"
    MAX_OBJECT_SIZE = "1mb"
    MAX_KEY_LENGTH = 1024
    HOST = "127.0.0.1"
    PORT = 8080
    LOG_LEVEL = "INFO"


class DevelopmentConfig(Config):
    """A small cache for trying things out, as in the original sample."""

    LOG_LEVEL = "DEBUG"


class TestingConfig(Config):
    """A tiny cache, so that tests hit the limits quickly."""

    NUMBER_OF_SLOTS = 2
    TIME_TO_LIVE = 5


class ProductionConfig(Config):
    """A real cache: bounded by memory, evicting rather than refusing."""

    NUMBER_OF_SLOTS = 0
    MAX_MEMORY = "256mb"
    EVICTION_POLICY = "W_TINYLFU_ADAPTIVE"
    TIME_TO_LIVE = 3600
    LOG_LEVEL = "WARNING"


config = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

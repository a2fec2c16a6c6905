"""Chatgate's configuration: one Struct per concern, decoded once from the environment and TOML.

Every key in CONTRACT.md ("Configuration") is a field here. A Struct's encoded field names are
the keys themselves (``database_url``, ``cooldown_ms``), so the environment variable is
``CHATGATE_`` + the key in upper case, and a msgspec error path names the key directly.

Errors::

    SettingsError        one sentence naming the variable (or the config file's key) and what
                         it expected; nothing else is raised by load_settings
"""

from entrypoints.settings.loading import SettingsError, load_settings
from entrypoints.settings.sections import (
    CONFIG_VARIABLE,
    PREFIX,
    AdminSettings,
    BotSettings,
    DatabaseSettings,
    EventsSettings,
    HttpSettings,
    LimitsSettings,
    MetaSettings,
    RedisSettings,
    Settings,
    SheetsSettings,
    TelegramSettings,
    TwilioSettings,
    WahaSettings,
    WhatsAppSettings,
    WorkerSettings,
)

__all__ = [
    "CONFIG_VARIABLE", "PREFIX", "AdminSettings", "BotSettings", "DatabaseSettings", "EventsSettings",
    "HttpSettings", "LimitsSettings", "MetaSettings", "RedisSettings", "Settings", "SettingsError",
    "SheetsSettings", "TelegramSettings", "TwilioSettings", "WahaSettings", "WhatsAppSettings",
    "WorkerSettings", "load_settings",
]

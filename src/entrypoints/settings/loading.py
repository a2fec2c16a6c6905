"""Decoding the settings from the environment and the TOML file, and saying what is wrong in one sentence."""


from __future__ import annotations

import difflib
import functools
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from entrypoints.settings.sections import CONFIG_VARIABLE, PREFIX, Settings


class SettingsError(Exception):
    """A bad configuration, told in one sentence that names the variable."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        #: The key at fault, lower case without the prefix (``cooldown_ms``), when there is one.
        self.key = key


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Decode the settings from `environ` and the TOML file it names; the environment wins."""
    values: dict[str, tuple[Any, str | None]] = {}  # key -> (value, config file or None for env)
    config = _clean(environ.get(CONFIG_VARIABLE))
    if config is not None:
        values.update({key: (value, config) for key, value in _read_config(config).items()})
    for key in _keys():
        value = _clean(environ.get(PREFIX + key.upper()))
        if value is not None:
            values[key] = (value, None)
    settings = _convert(values)
    _check_requirements(settings, values)
    return settings


@functools.cache
def _keys() -> dict[str, tuple[str, Any]]:
    """Every key -> (the Settings field of its section, its type)."""
    return {
        field.encode_name: (section.name, field.type)
        for section in msgspec.structs.fields(Settings)
        for field in msgspec.structs.fields(section.type)
    }


def _clean(value: Any) -> Any:
    """Strip text; empty text counts as unset."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _read_config(path: str) -> dict[str, Any]:
    try:
        document = msgspec.toml.decode(Path(path).read_bytes())
    except FileNotFoundError:
        raise SettingsError(f"{CONFIG_VARIABLE} names a file that does not exist: {path}.") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SettingsError(f"{CONFIG_VARIABLE} names a file that cannot be read: {path} ({reason}).") from None
    except msgspec.DecodeError as exc:
        raise SettingsError(f"the config file {path} is not valid TOML ({exc}).") from None
    unknown = sorted(set(document) - set(_keys()))
    if unknown:
        raise SettingsError(_unknown_keys_sentence(path, unknown), key=unknown[0])
    cleaned = {key: _clean(value) for key, value in document.items()}
    return {key: _text_if_number(key, value) for key, value in cleaned.items() if value is not None}


def _unknown_keys_sentence(path: str, unknown: list[str]) -> str:
    if len(unknown) > 1:
        return f"the config file {path} has unknown keys {', '.join(map(repr, unknown))}."
    close = difflib.get_close_matches(unknown[0], list(_keys()), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"the config file {path} has an unknown key {unknown[0]!r}{hint}."


def _text_if_number(key: str, value: Any) -> Any:
    """TOML writes ids unquoted (phone_number_id = 123); a text field takes them as text."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return str(value) if is_number and str in _base_types(_keys()[key][1]) else value


def _convert(values: Mapping[str, tuple[Any, str | None]]) -> Settings:
    nested: dict[str, dict[str, Any]] = {}
    for key, (value, _) in values.items():
        nested.setdefault(_keys()[key][0], {})[key] = value
    try:
        return msgspec.convert(nested, Settings, strict=False)
    except msgspec.ValidationError as exc:
        match = re.search(r"at `\$\.\w+\.(\w+)`", str(exc))
        if match is None or match[1] not in values:
            raise SettingsError(f"the settings are invalid ({exc}).") from None
        raise _invalid(match[1], *values[match[1]]) from None


def _invalid(key: str, value: Any, source: str | None) -> SettingsError:
    expected, secret = _expectation(_keys()[key][1])
    got = "" if secret else f", got {_show(value)}"
    return SettingsError(f"{_name(key, source)} must be {expected}{got}.", key=key)


def _name(key: str, source: str | None) -> str:
    return PREFIX + key.upper() if source is None else f"{key} in the config file {source}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _expectation(tp: Any) -> tuple[str, bool]:
    """The phrase "what it expected" for a field's type, and whether its value is a secret."""
    for meta in _metas(tp):
        if meta.description:
            return meta.description, bool(meta.extra and meta.extra.get("secret"))
    base = _base_types(tp)[0]
    if typing.get_origin(base) is Literal:
        return "one of " + ", ".join(typing.get_args(base)), False
    return {bool: "true or false", int: "a whole number", float: "a number"}.get(base, "text"), False


def _metas(tp: Any) -> list[Meta]:
    if typing.get_origin(tp) is Annotated:
        return [m for m in tp.__metadata__ if isinstance(m, Meta)] + _metas(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (typing.Union, type(int | None)):
        return [m for arg in typing.get_args(tp) for m in _metas(arg)]
    return []


def _base_types(tp: Any) -> list[Any]:
    """The types a field accepts, with Annotated, unions and None taken off."""
    if typing.get_origin(tp) is Annotated:
        return _base_types(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (typing.Union, type(int | None)):
        return [t for arg in typing.get_args(tp) for t in _base_types(arg)]
    return [] if tp is type(None) else [tp]


# (key that must be set, key whose value triggers the rule, the value or None for "is set")
_REQUIREMENTS: tuple[tuple[str, str, str | None], ...] = (
    *((key, "whatsapp_provider", "meta") for key in (
        "meta_access_token", "meta_app_secret", "meta_verify_token", "meta_phone_number_id")),
    *((key, "whatsapp_provider", "twilio") for key in (
        "twilio_account_sid", "twilio_auth_token", "twilio_from", "public_url")),
    ("waha_url", "whatsapp_provider", "waha"),
    ("telegram_bot_token", "telegram_admin_chat_id", None),
    ("sheets_credentials", "sheets_spreadsheet_id", None),
)


def _check_requirements(settings: Settings, values: Mapping[str, tuple[Any, str | None]]) -> None:
    flat = msgspec.to_builtins(settings)
    given = {key: value for section in flat.values() for key, value in section.items()}
    for needed, trigger, when in _REQUIREMENTS:
        triggered = given.get(trigger) is not None if when is None else given.get(trigger) == when
        if triggered and given.get(needed) is None:
            condition = "is set" if when is None else f"is {when}"
            trigger_name = _name(trigger, values[trigger][1])
            raise SettingsError(
                f"{PREFIX}{needed.upper()} is required when {trigger_name} {condition}.", key=needed
            )

"""Chatgate's configuration: one Struct per concern, decoded once from the environment and TOML.

Every key in CONTRACT.md ("Configuration") is a field here. A Struct's encoded field names are
the keys themselves (``database_url``, ``cooldown_ms``), so the environment variable is
``CHATGATE_`` + the key in upper case, and a msgspec error path names the key directly.

Errors::

    SettingsError        one sentence naming the variable (or the config file's key) and what
                         it expected; nothing else is raised by load_settings
"""

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

PREFIX = "CHATGATE_"
CONFIG_VARIABLE = "CHATGATE_CONFIG"

# Each alias's description is the phrase an error message uses for "what it expected".
HttpUrl = Annotated[str, Meta(pattern=r"^https?://[^\s/]+\S*$", description="an http:// or https:// URL")]
DatabaseUrl = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z][A-Za-z0-9_]*(\+[A-Za-z0-9_]+)?://\S*$",
        description="an SQLAlchemy URL such as sqlite+aiosqlite:///./var/chatgate.db "
        "or postgresql+asyncpg://user:password@host/db",
    ),
]
RedisUrl = Annotated[
    str, Meta(pattern=r"^(redis|rediss|unix)://\S+$", description="a redis://, rediss:// or unix:// URL")
]
WhatsAppSender = Annotated[
    str,
    Meta(
        pattern=r"^whatsapp:\+[1-9][0-9]{6,14}$",
        description="a WhatsApp sender such as whatsapp:+14155238886",
    ),
]
Secret = Annotated[str, Meta(description="text", extra={"secret": True})]
# Telegram's own rule for setWebhook's secret_token: https://core.telegram.org/bots/api#setwebhook
TelegramSecret = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9_-]{1,256}$",
        description="1 to 256 characters from A-Z, a-z, 0-9, _ and -",
        extra={"secret": True},
    ),
]
ChatId = Annotated[int, Meta(description="a Telegram chat id (a whole number, negative for a group)")]
Characters = Annotated[int, Meta(ge=1, description="a whole number of characters (1 or more)")]
Milliseconds = Annotated[int, Meta(ge=0, description="a whole number of milliseconds (0 or more)")]
PerMinute = Annotated[int, Meta(ge=1, description="a whole number of messages per minute (1 or more)")]
PerSecond = Annotated[float, Meta(gt=0, le=1e9, description="a number of messages per second greater than 0")]
Hours = Annotated[
    float, Meta(gt=0, le=1e9, description="a number of hours greater than 0 (fractions allowed)")
]


def _prefixed(prefix: str) -> typing.Callable[[str], str]:
    return lambda name: f"{prefix}_{name.rstrip('_')}"


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every settings Struct."""


class DatabaseSettings(_Section, rename=_prefixed("database")):
    """Where conversations, leads and the outbox are stored."""

    #: Any SQLAlchemy async URL; PostgreSQL via postgresql+asyncpg://.
    url: DatabaseUrl = "sqlite+aiosqlite:///./var/chatgate.db"

    @property
    def is_sqlite(self) -> bool:
        """Whether the URL's dialect is SQLite."""
        return re.split(r"[+:]", self.url, maxsplit=1)[0].lower() == "sqlite"


class RedisSettings(_Section, rename=_prefixed("redis")):
    """Shared state for several instances; unset keeps locks and limits in the process."""

    #: redis://, rediss:// or unix:// URL, or None for in-process state.
    url: RedisUrl | None = None


class WorkerSettings(_Section, rename=_prefixed("worker")):
    """Where the outbox dispatcher and the scheduler run."""

    #: Whether `chatgate serve` also runs the dispatcher and the scheduler.
    in_serve: bool = True
    #: Seconds a claimed send may stay unfinished before another worker takes it over.
    claim_lease_seconds: Annotated[float, Meta(gt=0, le=86_400, description="a number of seconds above 0")] = 120.0


class BotSettings(_Section, rename={"name": "bot", "catalogue_file": "catalogue_file",
                                    "reference_file": "reference_file"}):
    """Which flow pack answers, and the business data it reads."""

    #: A built-in pack (demo, franchise_leads, shop_orders, ...) or one in the database.
    name: str = "demo"
    #: A JSON or YAML file of products (id, name, price, stock) replacing the pack's own catalogue.
    catalogue_file: str | None = None
    #: A JSON or YAML file of reference tables (orders, SOPs, SLAs, BOMs…) replacing the pack's own.
    reference_file: str | None = None


class AdminSettings(_Section, rename=_prefixed("admin")):
    """The admin API."""

    #: Bearer token of the admin API; None makes `serve` generate and print one.
    token: Secret | None = None


class HttpSettings(_Section):
    """The HTTP surface providers call."""

    #: Base URL providers call; Twilio signatures are checked over it plus path and query.
    public_url: HttpUrl | None = None


class WhatsAppSettings(_Section, rename=_prefixed("whatsapp")):
    """Which WhatsApp provider is used."""

    #: twilio, meta or waha; None disables WhatsApp.
    provider: Literal["twilio", "meta", "waha"] | None = None

    @property
    def enabled(self) -> bool:
        """Whether a WhatsApp provider is configured."""
        return self.provider is not None


class TwilioSettings(_Section, rename=_prefixed("twilio")):
    """The Twilio account behind WhatsApp."""

    #: Account SID (AC...).
    account_sid: str | None = None
    #: Auth token; also checks X-Twilio-Signature.
    auth_token: Secret | None = None
    #: Sending number, such as whatsapp:+14155238886.
    from_: WhatsAppSender | None = None
    #: Base of Twilio's REST API.
    api_base: HttpUrl = "https://api.twilio.com"


class MetaSettings(_Section, rename=_prefixed("meta")):
    """The WhatsApp Business Cloud API from Meta."""

    #: Graph API bearer token.
    access_token: Secret | None = None
    #: App secret; checks X-Hub-Signature-256.
    app_secret: Secret | None = None
    #: Token echoed in the GET verification handshake.
    verify_token: Secret | None = None
    #: Phone number id that sends messages.
    phone_number_id: str | None = None
    #: Base of the Graph API, version included.
    api_base: HttpUrl = "https://graph.facebook.com/v21.0"


class WahaSettings(_Section, rename=_prefixed("waha")):
    """A self-hosted WAHA server."""

    #: Base URL of the WAHA server.
    url: HttpUrl | None = None
    #: Sent as X-Api-Key.
    api_key: Secret | None = None
    #: WAHA session name.
    session: str = "default"
    #: Key of the X-Webhook-Hmac (SHA-512) signature; unset, WAHA webhooks are refused.
    hmac_key: Secret | None = None
    #: true accepts unsigned WAHA webhooks when no HMAC key is set (unsafe: anyone may post).
    unsafe_accept_unsigned: bool = False


class TelegramSettings(_Section, rename=_prefixed("telegram")):
    """The Telegram channel and the admin's chat."""

    #: Bot API token; None disables Telegram.
    bot_token: Secret | None = None
    #: Expected X-Telegram-Bot-Api-Secret-Token header; unset, Telegram webhooks are refused.
    webhook_secret: TelegramSecret | None = None
    #: true accepts Telegram webhooks without the secret header (unsafe: anyone may post).
    unsafe_accept_unsigned: bool = False
    #: Base of the Bot API.
    api_base: HttpUrl = "https://api.telegram.org"
    #: Chat that receives escalations and alerts.
    admin_chat_id: ChatId | None = None

    @property
    def enabled(self) -> bool:
        """Whether the Telegram channel is configured."""
        return self.bot_token is not None


class SheetsSettings(_Section, rename=_prefixed("sheets")):
    """Google Sheets sync."""

    #: Spreadsheet id; None disables the sync.
    spreadsheet_id: str | None = None
    #: Sheet (tab) name inside the spreadsheet.
    sheet_name: str | None = None
    #: Path of a service-account JSON, or an OAuth client JSON with a refresh token.
    credentials: str | None = None
    #: Base of the Sheets API.
    api_base: HttpUrl = "https://sheets.googleapis.com"


class EventsSettings(_Section, rename=_prefixed("events")):
    """The integrator's endpoint for signed domain events."""

    #: URL that receives events; None sends none.
    webhook_url: HttpUrl | None = None
    #: Key that signs each event.
    webhook_secret: Secret | None = None


class LimitsSettings(_Section):
    """Limits on what users send and what the gateway sends."""

    #: Longer user messages get a polite reply.
    max_message_chars: Characters = 500
    #: A burst from one contact inside this window is answered once.
    cooldown_ms: Milliseconds = 1500
    #: Inbound messages per contact per minute.
    rate_limit_per_minute: PerMinute = 30
    #: Outbound messages per second per sending number or bot.
    send_rate_per_second: PerSecond = 80.0
    #: Idle time after which a conversation starts afresh.
    session_ttl_hours: Hours = 24.0

    @property
    def cooldown_seconds(self) -> float:
        """COOLDOWN_MS in seconds."""
        return self.cooldown_ms / 1000

    @property
    def session_ttl_seconds(self) -> float:
        """SESSION_TTL_HOURS in seconds."""
        return self.session_ttl_hours * 3600


def _section(cls: type[_Section]) -> Any:
    return msgspec.field(default_factory=cls)


class Settings(_Section):
    """Everything Chatgate is configured with."""

    database: DatabaseSettings = _section(DatabaseSettings)
    redis: RedisSettings = _section(RedisSettings)
    worker: WorkerSettings = _section(WorkerSettings)
    bot: BotSettings = _section(BotSettings)
    admin: AdminSettings = _section(AdminSettings)
    http: HttpSettings = _section(HttpSettings)
    whatsapp: WhatsAppSettings = _section(WhatsAppSettings)
    twilio: TwilioSettings = _section(TwilioSettings)
    meta: MetaSettings = _section(MetaSettings)
    waha: WahaSettings = _section(WahaSettings)
    telegram: TelegramSettings = _section(TelegramSettings)
    sheets: SheetsSettings = _section(SheetsSettings)
    events: EventsSettings = _section(EventsSettings)
    limits: LimitsSettings = _section(LimitsSettings)

    def warnings(self) -> list[str]:
        """Sentences an operator should read at start-up: channels that will refuse webhooks."""
        notes = []
        if self.whatsapp.provider == "waha" and not self.waha.hmac_key:
            notes.append(_refusal("WAHA", "CHATGATE_WAHA_HMAC_KEY", "CHATGATE_WAHA_UNSAFE_ACCEPT_UNSIGNED",
                                  self.waha.unsafe_accept_unsigned))
        if self.worker.claim_lease_seconds < 30:
            notes.append(
                f"CHATGATE_WORKER_CLAIM_LEASE_SECONDS is {self.worker.claim_lease_seconds:g}: a send slower than "
                "that (providers are given 10 s) may be taken over and go out twice; 30 or more is safe."
            )
        if self.telegram.enabled and not self.telegram.webhook_secret:
            notes.append(_refusal("Telegram", "CHATGATE_TELEGRAM_WEBHOOK_SECRET",
                                  "CHATGATE_TELEGRAM_UNSAFE_ACCEPT_UNSIGNED", self.telegram.unsafe_accept_unsigned))
        return notes


def _refusal(channel: str, secret: str, opt_out: str, opted_out: bool) -> str:
    if opted_out:
        return f"{secret} is unset and {opt_out} is true: {channel} webhooks are accepted unsigned (unsafe)."
    return f"{secret} is unset: {channel} webhooks will be refused until it is set (or {opt_out}=true)."


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

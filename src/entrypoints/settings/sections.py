"""The settings, one Struct per concern: every key of CONTRACT.md, its type and its default."""


from __future__ import annotations

import re
import typing
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

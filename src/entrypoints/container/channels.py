"""A sender per configured provider, and the HTTP session they share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from dependency_injector import containers, providers

from adapters.sandbox.senders import SandboxSender
from adapters.events.webhook import WebhookEventSink
from adapters.telegram.admin import TelegramAdminSender
from adapters.telegram.bot_api import TelegramSender
from adapters.whatsapp.meta import MetaSender
from adapters.whatsapp.twilio_wa import TwilioSender
from adapters.whatsapp.waha import WahaSender
from application.ports.channels import ChannelSender
from entrypoints.settings import Settings



def _twilio_sender(settings: Settings) -> TwilioSender:
    public = settings.http.public_url
    return TwilioSender(
        account_sid=settings.twilio.account_sid,
        auth_token=settings.twilio.auth_token,
        from_=settings.twilio.from_,
        api_base=settings.twilio.api_base,
        status_callback=f"{public.rstrip('/')}/webhooks/twilio/status" if public else None,
    )

async def _closing(sender: ChannelSender | None) -> AsyncIterator[ChannelSender | None]:
    # A sender with a client of its own (twilio's) closes it at shutdown.
    yield sender
    close = getattr(sender, "close", None)
    if close is not None:
        await close()

async def _telegram_sender(settings: Settings) -> AsyncIterator[TelegramSender | None]:
    if not settings.telegram.bot_token:
        yield None
        return
    sender = TelegramSender(token=settings.telegram.bot_token, api_base=settings.telegram.api_base)
    await sender.initialize()
    try:
        yield sender
    finally:
        await sender.shutdown()

async def _http_session() -> AsyncIterator[aiohttp.ClientSession]:
    # One pooled session for every provider: keep-alive matters on the send path.
    connector = aiohttp.TCPConnector(limit=256, ttl_dns_cache=300)
    session = aiohttp.ClientSession(connector=connector)
    yield session
    await session.close()

def _senders(whatsapp: ChannelSender | None, telegram: ChannelSender | None, admin: ChannelSender | None,
             extra: dict[str, ChannelSender]) -> dict[str, ChannelSender]:
    senders: dict[str, ChannelSender] = {"sandbox": SandboxSender()}
    for sender in (whatsapp, telegram, admin):
        if sender is not None:
            senders[sender.provider] = sender
    senders.update(extra)
    return senders

def _whatsapp_provider(settings: Settings) -> str:
    return settings.whatsapp.provider or "none"

class Channels(containers.DeclarativeContainer):
    """A sender per configured provider."""

    settings = providers.Dependency(instance_of=Settings)
    http = providers.Resource(_http_session)
    whatsapp_choice = providers.Selector(
        providers.Callable(_whatsapp_provider, settings),
        meta=providers.Singleton(
            MetaSender,
            http,
            api_base=settings.provided.meta.api_base,
            phone_number_id=settings.provided.meta.phone_number_id,
            access_token=settings.provided.meta.access_token,
        ),
        twilio=providers.Singleton(_twilio_sender, settings),
        waha=providers.Singleton(
            WahaSender,
            http,
            base_url=settings.provided.waha.url,
            api_key=settings.provided.waha.api_key,
            session_name=settings.provided.waha.session,
        ),
        none=providers.Object(None),
    )
    whatsapp = providers.Resource(_closing, whatsapp_choice)
    admin = providers.Singleton(
        lambda settings, http: TelegramAdminSender(
            http, api_base=settings.telegram.api_base, token=settings.telegram.bot_token
        ) if settings.telegram.bot_token else None,
        settings, http,
    )
    events = providers.Singleton(
        lambda settings, http: WebhookEventSink(
            http, url=settings.events.webhook_url, secret=settings.events.webhook_secret
        ) if settings.events.webhook_url else None,
        settings, http,
    )
    extra = providers.Object({})
    telegram = providers.Resource(_telegram_sender, settings)
    senders = providers.Singleton(_senders, whatsapp, telegram, admin, extra)

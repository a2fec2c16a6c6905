"""Provider webhooks: check the signature over the raw bytes, parse, hand to the use case.

Each provider's routes are built with its settings in hand, so a handler's only injected
dependency is the use case (one dependency resolves without a task group: it is the hot path).
"""

from __future__ import annotations

import time

import msgspec

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers import HTTPRouteHandler

from adapters.telegram import bot_api
from adapters.whatsapp import meta, twilio_wa, waha
from application.handle_inbound import HandleInbound
from domain.messages import WebhookBatch, outbox_tracker
from entrypoints.settings import MetaSettings, Settings, TelegramSettings, WahaSettings

# What Twilio expects back when we answer through the REST API instead (PROVIDERS.md 1.1).
_EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _empty_ok() -> Response[bytes]:
    return Response(content=b"", status_code=200, media_type="text/plain")


def meta_routes(settings: MetaSettings) -> list[HTTPRouteHandler]:
    """``GET`` (verification handshake) and ``POST`` (notifications) of ``/webhooks/meta``."""
    secret = settings.app_secret or ""
    verify_token = settings.verify_token or ""

    @get("/webhooks/meta", media_type="text/plain", sync_to_thread=False)
    def meta_handshake(request: Request) -> Response[str]:
        """Meta's verification handshake: echo ``hub.challenge`` when the token matches."""
        query = request.query_params
        challenge = meta.verification_challenge(
            query.get("hub.mode"), query.get("hub.verify_token"), query.get("hub.challenge"), verify_token
        )
        if challenge is None:
            raise PermissionDeniedException("hub.verify_token does not match")
        return Response(content=challenge, media_type="text/plain")

    @post("/webhooks/meta", status_code=200)
    async def meta_webhook(request: Request, handle_inbound: NamedDependency[HandleInbound]) -> Response[bytes]:
        """Messages and statuses from the WhatsApp Cloud API."""
        body = await request.body()
        if not meta.verify_signature(body, request.headers.get("x-hub-signature-256"), secret):
            raise NotAuthorizedException("X-Hub-Signature-256 is missing or does not match")
        try:
            batch = meta.parse_webhook(body, now=time.time())
        except meta.MalformedWebhook as exc:
            raise HTTPException(status_code=400, detail=f"not a WhatsApp notification: {exc}") from exc
        await handle_inbound(batch)
        return _empty_ok()

    return [meta_handshake, meta_webhook]


def twilio_routes(settings: Settings) -> list[HTTPRouteHandler]:
    """``POST /webhooks/twilio`` (messages) and ``/webhooks/twilio/status`` (delivery callbacks)."""
    token = settings.twilio.auth_token or ""
    public_url = settings.http.public_url or ""

    async def signed_form(request: Request) -> dict[str, list[str]]:
        # Twilio signs the URL it called: rebuilt from PUBLIC_URL, never from proxy headers.
        form = twilio_wa.parse_form(await request.body())
        url = twilio_wa.webhook_url(public_url, request.url.path, request.scope["query_string"].decode())
        if not public_url or not twilio_wa.verify_signature(url, form, request.headers.get("x-twilio-signature"), token):
            raise NotAuthorizedException("X-Twilio-Signature is missing or does not match")
        return form

    async def accept(handle_inbound: HandleInbound, parse: object, form: dict[str, list[str]]) -> Response[bytes]:
        try:
            batch: WebhookBatch = parse(form, now=time.time())  # type: ignore[operator]
        except twilio_wa.MalformedWebhook as exc:
            raise HTTPException(status_code=400, detail=f"not a Twilio WhatsApp request: {exc}") from exc
        await handle_inbound(batch)
        return Response(content=_EMPTY_TWIML, status_code=200, media_type="text/xml")

    @post("/webhooks/twilio", status_code=200)
    async def twilio_webhook(request: Request, handle_inbound: NamedDependency[HandleInbound]) -> Response[bytes]:
        """Inbound WhatsApp messages through Twilio (form-encoded)."""
        return await accept(handle_inbound, twilio_wa.parse_webhook, await signed_form(request))

    @post("/webhooks/twilio/status", status_code=200)
    async def twilio_status(request: Request, handle_inbound: NamedDependency[HandleInbound]) -> Response[bytes]:
        """Twilio's delivery status callbacks (the URL's ``outbox`` query names our job)."""
        form = await signed_form(request)
        outbox_id = request.query_params.get("outbox", "")
        tracker = outbox_tracker(int(outbox_id)) if outbox_id.isdigit() else None

        def parse(form: dict[str, list[str]], now: float) -> WebhookBatch:
            batch = twilio_wa.parse_status_callback(form, now=now)
            statuses = tuple(msgspec.structs.replace(s, tracker=tracker) for s in batch.statuses)
            return msgspec.structs.replace(batch, statuses=statuses)

        return await accept(handle_inbound, parse, form)

    return [twilio_webhook, twilio_status]


def waha_routes(settings: WahaSettings) -> list[HTTPRouteHandler]:
    """``POST /webhooks/waha``: every WAHA event; refused unsigned unless explicitly allowed."""
    key = settings.hmac_key or ""
    unsigned_ok = settings.unsafe_accept_unsigned and not key

    @post("/webhooks/waha", status_code=200)
    async def waha_webhook(request: Request, handle_inbound: NamedDependency[HandleInbound]) -> Response[bytes]:
        """Messages, acks and session events from a WAHA server."""
        body = await request.body()
        signature, algorithm = request.headers.get("x-webhook-hmac"), request.headers.get("x-webhook-hmac-algorithm")
        if not unsigned_ok and not waha.verify_signature(body, signature, key, algorithm=algorithm):
            raise NotAuthorizedException(
                "X-Webhook-Hmac is missing or does not match" if key else "CHATGATE_WAHA_HMAC_KEY is not set"
            )
        try:
            batch = waha.parse_webhook(body, now=time.time())
        except waha.MalformedWebhook as exc:
            raise HTTPException(status_code=400, detail=f"not a WAHA event: {exc}") from exc
        await handle_inbound(batch)
        return _empty_ok()

    return [waha_webhook]


def telegram_routes(settings: TelegramSettings) -> list[HTTPRouteHandler]:
    """``POST /webhooks/telegram``: Bot API updates, checked by the secret-token header."""
    secret = settings.webhook_secret or ""
    unsigned_ok = settings.unsafe_accept_unsigned and not secret

    @post("/webhooks/telegram", status_code=200)
    async def telegram_webhook(request: Request, handle_inbound: NamedDependency[HandleInbound]) -> Response[bytes]:
        """Updates from the Telegram Bot API."""
        header = request.headers.get("x-telegram-bot-api-secret-token")
        if not unsigned_ok and not bot_api.verify_secret(header, secret):
            raise PermissionDeniedException(
                "X-Telegram-Bot-Api-Secret-Token is missing or does not match"
                if secret else "CHATGATE_TELEGRAM_WEBHOOK_SECRET is not set"
            )
        try:
            batch = bot_api.parse_update(await request.body(), now=time.time())
        except bot_api.MalformedUpdate as exc:
            raise HTTPException(status_code=400, detail=f"not a Telegram update: {exc}") from exc
        await handle_inbound(batch)
        return _empty_ok()

    return [telegram_webhook]

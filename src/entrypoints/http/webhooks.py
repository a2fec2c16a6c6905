"""Provider webhooks: check the signature over the raw bytes, parse, hand to the use case."""

from __future__ import annotations

import time

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException

from adapters.whatsapp import meta
from application.handle_inbound import HandleInbound
from entrypoints.settings import Settings

_EMPTY_OK = Response(content=b"", status_code=200, media_type="text/plain")


@get("/webhooks/meta", media_type="text/plain", sync_to_thread=False, include_in_schema=True)
def meta_handshake(request: Request, settings: NamedDependency[Settings]) -> Response[str]:
    """Meta's verification handshake: echo ``hub.challenge`` when the token matches."""
    query = request.query_params
    challenge = meta.verification_challenge(
        query.get("hub.mode"), query.get("hub.verify_token"), query.get("hub.challenge"),
        settings.meta.verify_token or "",
    )
    if challenge is None:
        raise PermissionDeniedException("hub.verify_token does not match")
    return Response(content=challenge, media_type="text/plain")


@post("/webhooks/meta", status_code=200)
async def meta_webhook(
    request: Request, settings: NamedDependency[Settings], handle_inbound: NamedDependency[HandleInbound]
) -> Response[bytes]:
    """Messages and statuses from the WhatsApp Cloud API."""
    body = await request.body()
    secret = settings.meta.app_secret
    if not secret or not meta.verify_signature(body, request.headers.get("x-hub-signature-256"), secret):
        raise NotAuthorizedException("X-Hub-Signature-256 is missing or does not match")
    try:
        batch = meta.parse_webhook(body, now=time.time())
    except meta.MalformedWebhook as exc:
        raise HTTPException(status_code=400, detail=f"not a WhatsApp notification: {exc}") from exc
    await handle_inbound(batch)
    return _EMPTY_OK


ROUTES = [meta_handshake, meta_webhook]

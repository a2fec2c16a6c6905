"""Provider webhooks: check the signature over the raw bytes, parse, hand to the use case.

Each provider's routes are built with its settings in hand, so a handler's only injected
dependency is the use case (one dependency resolves without a task group: it is the hot path).
"""

from __future__ import annotations

import time

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers import HTTPRouteHandler

from adapters.whatsapp import meta
from application.handle_inbound import HandleInbound
from entrypoints.settings import MetaSettings


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

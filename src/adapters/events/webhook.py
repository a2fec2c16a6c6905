"""WebhookEventSink: domain events POSTed to the integrator's endpoint, signed.

The body is JSON ``{"id", "kind", "contact", "at", "data"}``; ``X-Chatgate-Signature`` is
``sha256=`` + the hex HMAC-SHA256 of the raw body with EVENTS_WEBHOOK_SECRET, and
``X-Chatgate-Delivery`` the event id, the same on every retry (so the receiver can drop a
repeat). Any 2xx is success; 429 and 5xx are retried; other answers are refused for good.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import aiohttp
import msgspec

from application.ports.channels import PermanentFailure, RateLimited, TemporaryFailure


class _Envelope(msgspec.Struct, frozen=True):
    id: int
    kind: str
    contact: str
    at: float
    data: msgspec.Raw


_encode = msgspec.json.Encoder().encode


class WebhookEventSink:
    """The ``EventSink`` port: an HTTPS endpoint of the integrator's."""

    def __init__(self, session: aiohttp.ClientSession, *, url: str, secret: str | None, timeout: float = 10.0) -> None:
        self._session = session
        self._url = url
        self._secret = (secret or "").encode()
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def deliver(self, event_id: int, kind: str, contact_key: str, payload: bytes, at: float) -> None:
        """POST the event; raise the port's errors on failure."""
        body = _encode(_Envelope(id=event_id, kind=kind, contact=contact_key, at=at, data=msgspec.Raw(payload)))
        headers = {"Content-Type": "application/json", "X-Chatgate-Event": kind,
                   "X-Chatgate-Delivery": str(event_id)}
        if self._secret:
            headers["X-Chatgate-Signature"] = "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        try:
            async with self._session.post(self._url, data=body, headers=headers, timeout=self._timeout) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise TemporaryFailure(f"the events endpoint could not be reached: {exc!r}") from exc
        if 200 <= status < 300:
            return
        if status == 429:
            raise RateLimited("the events endpoint asked us to slow down", code="429")
        if status >= 500:
            raise TemporaryFailure(f"the events endpoint answered HTTP {status}", code=str(status))
        raise PermanentFailure(f"the events endpoint refused the event with HTTP {status}", code=str(status))

"""TwilioSender: replies through Twilio's Messages API with twilio's own async REST client.

Twilio's failures become the port's errors (``application.ports.channels``), decided by the
Twilio error ``code`` first and the HTTP status only when the code is unknown or missing
(PROVIDERS.md 1.5):

SendFailed
├── RateLimited               20429 (too many concurrent requests), 63018 (channel rate); else HTTP 429
├── TemporaryFailure          network errors, timeouts; 20500, 20503; else 5xx
└── PermanentFailure(code)    63016 (24 h window), 63003/63024/21211 (recipient), 63007 (sender),
                              63014 (blocked), 63021/63030/63032, 21617/21658 (too long),
                              20003/20404 (credentials); else other 4xx
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import AsyncHttpClient
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from application.ports.channels import (
    PermanentFailure,
    RateLimited,
    SendFailed,
    SendReceipt,
    TemporaryFailure,
)
from domain.contacts import InvalidContactId, whatsapp_contact
from domain.messages import OutboundMessage

from .rendering import MessageParams, render_reply
from .webhook import WHATSAPP_PREFIX

_THROTTLED = frozenset({20429, 63018})
_TRANSIENT = frozenset({20500, 20503})  # Twilio's "internal server error", "service unavailable"
_REFUSED = frozenset(
    {20003, 20404, 21211, 21617, 21658, 63003, 63007, 63014, 63016, 63021, 63024, 63030, 63032}
)
# twilio's Client reads TWILIO_EDGE/TWILIO_REGION from os.environ when given no (or an empty)
# mapping; settings reach adapters only through the container, so hand it one with neither.
_NO_ENVIRONMENT = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}


class TwilioSender:
    """A ChannelSender for WhatsApp through Twilio.

    A text past 1,600 characters goes as several messages, in order, each awaited before the
    next; the receipt names the first. A failure part-way raises, so a retry resends the parts
    that had gone out.
    """

    provider = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_: str,
        api_base: str,
        status_callback: str | None = None,
        http_client: AsyncHttpClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        try:
            self._from = whatsapp_address(from_)
        except InvalidContactId as exc:
            raise ValueError(f"not a WhatsApp number to send from: {from_!r}") from exc
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._api_base = api_base.rstrip("/")
        self._status_callback = status_callback or None
        self._http_client = http_client
        self._own_http_client: AsyncTwilioHttpClient | None = None
        self._timeout = timeout
        self._client: Client | None = None

    async def send(self, message: OutboundMessage) -> SendReceipt:
        try:
            to = whatsapp_address(message.address)
        except InvalidContactId as exc:
            raise PermanentFailure(f"Twilio cannot write to {message.address!r}: {exc}") from exc
        parts = render_reply(message.reply)
        if not parts:
            raise PermanentFailure("the reply is empty: nothing to send")
        first: SendReceipt | None = None
        for part in parts:
            # The first part's callbacks name the outbox job: a send whose answer was lost is
            # recognised by its status callback, and never sent twice.
            receipt = await self._create(to, part, message.outbox_id if first is None else None)
            if first is None:
                first = receipt
        assert first is not None  # parts is not empty
        return first

    async def close(self) -> None:
        """Close the HTTP session this sender opened (one handed in belongs to its owner)."""
        own, self._own_http_client, self._client = self._own_http_client, None, None
        if own is not None:
            await own.close()

    async def _create(self, to: str, part: MessageParams, outbox_id: int | None) -> SendReceipt:
        params = dict(part, to=to, from_=self._from)
        if self._status_callback:
            params["status_callback"] = _tracked(self._status_callback, outbox_id)
        try:
            # AsyncTwilioHttpClient ignores its own ``timeout``: bound the whole call here.
            async with asyncio.timeout(self._timeout):
                sent = await self._rest_client().messages.create_async(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _failure(exc) from exc
        except json.JSONDecodeError:
            return SendReceipt()  # a 2xx whose body is not JSON: accepted all the same
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TemporaryFailure(f"Twilio could not be reached: {exc!r}") from exc
        return SendReceipt(provider_message_id=sent.sid)

    def _rest_client(self) -> Client:
        """twilio's Client on first use: its aiohttp session must be made inside the event loop."""
        if self._client is None:
            http_client = self._http_client
            if http_client is None:
                http_client = self._own_http_client = AsyncTwilioHttpClient()
            client = Client(
                self._account_sid, self._auth_token, http_client=http_client, environment=_NO_ENVIRONMENT
            )
            # The Api domain's base URL (https://api.twilio.com); TWILIO_API_BASE points it
            # at a proxy or at a test server. Messages go to {base}/2010-04-01/Accounts/{sid}/….
            client.api.base_url = self._api_base
            self._client = client
        return self._client


def whatsapp_address(address: str) -> str:
    """``whatsapp:+E164`` for a number written with or without the prefix or the ``+``."""
    contact = whatsapp_contact(address)
    if contact.phone is None:
        raise InvalidContactId(f"not a phone number: {address!r}")
    return WHATSAPP_PREFIX + contact.phone


def _failure(exc: TwilioRestException | TwilioServiceException) -> SendFailed:
    status = _integer(exc.status) or 0
    code = _integer(exc.code)
    if code == status:
        code = None  # without a Twilio code in the body, twilio-python puts the HTTP status there
    detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
    reason = f"Twilio answered HTTP {status}" + (f" with error {code}" if code else "") + f": {detail}"
    code_text = str(code) if code is not None else None
    if code in _THROTTLED:
        # twilio-python's exceptions carry no response headers, so no Retry-After hint either.
        return RateLimited(reason, code=code_text)
    if code in _TRANSIENT:
        return TemporaryFailure(reason, code=code_text)
    if code in _REFUSED:
        return PermanentFailure(reason, code=code_text)
    if status == 429:
        return RateLimited(reason, code=code_text)
    if status >= 500:
        return TemporaryFailure(reason, code=code_text)
    return PermanentFailure(reason, code=code_text)


def _integer(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _tracked(callback: str, outbox_id: int | None) -> str:
    """The status-callback URL, naming the outbox job in its query when there is one."""
    if outbox_id is None:
        return callback
    return f"{callback}{'&' if '?' in callback else '?'}outbox={outbox_id}"

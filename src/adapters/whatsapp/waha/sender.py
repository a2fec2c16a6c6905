"""WahaSender: replies through a WAHA server's ``POST /api/send…``, and read receipts.

WAHA's failures become the port's errors (``application.ports.channels``), decided by the HTTP
status, since WAHA answers plain statuses with a NestJS body (PROVIDERS.md 3.5):

SendFailed
├── RateLimited(retry_after)   HTTP 429 (a proxy in front of WAHA; WAHA itself has no limits)
├── TemporaryFailure           network errors, timeouts, 408, 5xx but 501; a 422 naming the
│                              session's status (the session is not WORKING yet, waha#1329)
└── PermanentFailure(code)     "auth" for 401/403; "501" the engine lacks the method; any
                               other 4xx by its status (400, 404 unknown session, 422 …)
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import msgspec

from adapters.http_headers import retry_after_seconds
from application.ports.channels import (
    PermanentFailure,
    RateLimited,
    SendFailed,
    SendReceipt,
    TemporaryFailure,
)
from domain.contacts import InvalidContactId, whatsapp_chat_id, whatsapp_contact
from domain.messages import OutboundMessage

from .jids import user_chat_id
from .payloads import ErrorResponse, SentMessage, SerializedId
from .rendering import SEND_SEEN, Call, render_reply

_log = logging.getLogger(__name__)

_ENCODER = msgspec.json.Encoder()
_SENT = msgspec.json.Decoder(SentMessage)
_ERROR = msgspec.json.Decoder(ErrorResponse)

_AUTH = "auth"
_UNSUPPORTED = frozenset({"422", "501"})  # media on WAHA Core (Plus only) or on an engine without it
_DETAIL_MAX = 300


class WahaSender:
    """A ChannelSender for a self-hosted WAHA server.

    A text past 4,096 characters goes as several messages, in order, each awaited before the
    next; the receipt names the first. A failure part-way raises, so a retry resends the parts
    that had gone out. ``reply_to`` names the user's message the reply answers: it is marked
    seen first (WAHA's anti-ban advice), and a failure to mark it never stops the reply.
    """

    provider = "waha"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_key: str | None,
        session_name: str = "default",
        timeout: float = 10.0,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._session_name = session_name
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self._headers["X-Api-Key"] = api_key
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        chat_id = chat_id_for(message.address)
        calls = render_reply(message.reply)
        if not calls:
            raise PermanentFailure("the reply is empty: nothing to send")
        if message.reply_to:
            await self._try_mark_seen(chat_id, message.reply_to)
        first: SendReceipt | None = None
        for call in calls:
            receipt = await self._call(call, chat_id, {})
            first = receipt if first is None else first
        assert first is not None  # calls is not empty
        return first

    async def _try_mark_seen(self, chat_id: str, message_id: str) -> None:
        try:
            await self.mark_seen(chat_id, message_id)
        except SendFailed as exc:
            _log.info("WAHA did not mark %s seen (%s); replying anyway", message_id, exc)

    async def mark_seen(self, chat_id: str, message_id: str, *, participant: str | None = None) -> None:
        """Blue ticks for a message (WAHA's anti-ban advice: seen before answering).

        Body ``{"session", "chatId", "messageIds": [message_id]}``, plus ``participant`` (the
        sender's id) for a group message (PROVIDERS.md 3.4).
        """
        fields: dict[str, Any] = {"messageIds": [message_id]}
        if participant:
            fields["participant"] = participant
        await self._post(SEND_SEEN, self._body(chat_id_for(chat_id), fields))

    async def _call(self, call: Call, chat_id: str, quote: dict[str, str]) -> SendReceipt:
        try:
            return await self._post(call.path, self._body(chat_id, {**call.fields, **quote}))
        except PermanentFailure as exc:
            if not call.fallback or exc.code not in _UNSUPPORTED:
                raise
            _log.info("WAHA cannot %s (%s); sending it as text instead", call.path, exc.reason)
        first: SendReceipt | None = None
        for part in call.fallback:
            receipt = await self._post(part.path, self._body(chat_id, {**part.fields, **quote}))
            first, quote = (receipt if first is None else first), {}
        return first or SendReceipt()

    def _body(self, chat_id: str, fields: dict[str, Any]) -> bytes:
        return _ENCODER.encode({"session": self._session_name, "chatId": chat_id, **fields})

    async def _post(self, path: str, data: bytes) -> SendReceipt:
        try:
            async with self._session.post(
                self._base_url + path, data=data, headers=self._headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                status, retry_after = response.status, response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TemporaryFailure(f"WAHA could not be reached: {exc!r}") from exc
        if 200 <= status < 300:
            return _receipt(raw)
        raise _failure(status, raw, retry_after)


def chat_id_for(address: str) -> str:
    """The ``chatId`` to send to: a user's ``<digits>@c.us`` / ``<digits>@lid`` (device parts and
    ``@s.whatsapp.net`` folded, PROVIDERS.md 3.6), other chat ids as they are; a bare number or a
    contact value (``+62…``, ``lid:…``) becomes its chat id."""
    text = address.strip()
    if "@" in text:
        return user_chat_id(text) or text
    try:
        return whatsapp_chat_id(whatsapp_contact(text))
    except InvalidContactId as exc:
        raise PermanentFailure(f"no WAHA chat id for the address {address!r}", code="address") from exc


def _receipt(raw: bytes) -> SendReceipt:
    """The id a later ``message.ack`` names: ``id`` (a string, or WEBJS's ``{_serialized}``), or
    WAHA's ``{fromMe}_{chatId}_{id}`` built from NOWEB's ``key`` (unverified, PROVIDERS.md 3.4)."""
    try:
        sent = _SENT.decode(raw)
    except msgspec.DecodeError:
        return SendReceipt()  # accepted all the same; the id is only for status matching
    if isinstance(sent.id, str) and sent.id:
        return SendReceipt(provider_message_id=sent.id)
    if isinstance(sent.id, SerializedId) and sent.id.serialized:
        return SendReceipt(provider_message_id=sent.id.serialized)
    key = sent.key
    if key is None or not key.id:
        return SendReceipt()
    if not key.remoteJid:
        return SendReceipt(provider_message_id=key.id)
    chat = user_chat_id(key.remoteJid) or key.remoteJid
    from_me = "false" if key.fromMe is False else "true"
    return SendReceipt(provider_message_id=f"{from_me}_{chat}_{key.id}")


def _failure(status: int, raw: bytes, retry_after: str | None) -> SendFailed:
    error = _error(raw)
    detail = _detail(error) if error is not None else ""
    reason = f"WAHA answered HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        return RateLimited(reason, retry_after=retry_after_seconds(retry_after), code="429")
    if status in (401, 403):
        return PermanentFailure(reason, code=_AUTH)
    if status == 422 and error is not None and (error.expected or error.status):
        return TemporaryFailure(reason, code="session_status")  # STARTING, SCAN_QR_CODE, FAILED…
    if status == 408 or (status >= 500 and status != 501):
        return TemporaryFailure(reason, code=str(status))
    return PermanentFailure(reason, code=str(status))


def _error(raw: bytes) -> ErrorResponse | None:
    try:
        return _ERROR.decode(raw) if raw else None
    except msgspec.DecodeError:
        return None


def _detail(error: ErrorResponse) -> str:
    message = "; ".join(error.message) if isinstance(error.message, list) else error.message
    parts = [part for part in (message, error.error, error.status and f"session {error.status}") if part]
    text = " - ".join(parts)
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"

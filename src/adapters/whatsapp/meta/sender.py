"""MetaSender: replies through the Graph API's ``POST /{phone_number_id}/messages``.

Meta's failures become the port's errors (``application.ports.channels``), decided by the
Graph ``error.code`` first and the HTTP status only when the code is unknown or missing,
because Meta's statuses are inconsistent (PROVIDERS.md 2.5 and 6):

SendFailed
├── RateLimited(retry_after)   codes 4, 80007, 130429, 131056; else HTTP 429
├── TemporaryFailure           network errors, timeouts; codes 1, 2, 131000, 131016, 131057; else 5xx
└── PermanentFailure(code)     24 h window 131047, bad recipient 131026/131030, bad params 100/131008/
                               131009, credentials 190/10/200-299, templates 132xxx…; else other 4xx
"""

from __future__ import annotations

import re
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
from domain.messages import OutboundMessage, outbox_tracker

from .payloads import ErrorResponse, SendResponse
from .rendering import render_reply

_ENCODER = msgspec.json.Encoder()
_SEND_RESPONSE = msgspec.json.Decoder(SendResponse)
_ERROR_RESPONSE = msgspec.json.Decoder(ErrorResponse)

_THROTTLED = frozenset({4, 80007, 130429, 131056})
_PAIR_RATE = 131056  # too many messages to this one user: only their lane should wait
# 1 and 2 are the Graph API's generic "unknown" and "service unavailable" codes.
_TRANSIENT = frozenset({1, 2, 131000, 131016, 131057})
_REFUSED = frozenset(
    {10, 100, 190, 368, 130472, 131008, 131009, 131021, 131026, 131030, 131031, 131047, 131048, 131049,
     131050, 131051, 131052, 131053, 131062, 132000, 132001, 132005, 132007, 132012, 132015, 132016}
)  # fmt: skip
# A username user has no phone: Meta writes to their business-scoped id as ``recipient``.
_BSUID = re.compile(r"[A-Z]{2}\.")
_BSUID_PREFIX = "bsuid:"


class MetaSender:
    """A ChannelSender for the WhatsApp Cloud API.

    A text past 4,096 characters goes as several messages, in order, each awaited before the
    next; the receipt names the first. A failure part-way raises, so a retry resends the parts
    that had gone out.
    """

    provider = "meta"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_base: str,
        phone_number_id: str,
        access_token: str,
        timeout: float = 10.0,
    ) -> None:
        self._session = session
        self._url = f"{api_base.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        parts = render_reply(message.reply)
        if not parts:
            raise PermanentFailure("the reply is empty: nothing to send")
        envelope = recipient_fields(message.address)
        first: SendReceipt | None = None
        for part in parts:
            body = {**envelope, **part}
            if first is None:
                # Echoed in this message's status webhooks: a send whose answer was lost is
                # recognised by it, and never sent twice (PROVIDERS.md 2.4).
                body["biz_opaque_callback_data"] = outbox_tracker(message.outbox_id)
                if message.reply_to:
                    body["context"] = {"message_id": message.reply_to}
            receipt = await self._post(_ENCODER.encode(body))
            if first is None:
                first = receipt
        assert first is not None  # parts is not empty
        return first

    async def _post(self, data: bytes) -> SendReceipt:
        try:
            async with self._session.post(
                self._url, data=data, headers=self._headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                status, retry_after = response.status, response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TemporaryFailure(f"Meta could not be reached: {exc!r}") from exc
        if 200 <= status < 300:
            return _receipt(raw)
        raise _failure(status, raw, retry_after)


def recipient_fields(address: str) -> dict[str, Any]:
    """The envelope naming whom a message goes to: ``to`` for a wa_id, ``recipient`` for a BSUID."""
    if address.startswith(_BSUID_PREFIX):
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "recipient": address[6:]}
    if _BSUID.match(address):
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "recipient": address}
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": address}


def _receipt(raw: bytes) -> SendReceipt:
    try:
        sent = _SEND_RESPONSE.decode(raw)
    except msgspec.DecodeError:
        return SendReceipt()  # accepted all the same; the id is only for status matching
    return SendReceipt(provider_message_id=sent.messages[0].id if sent.messages else None)


def _failure(status: int, raw: bytes, retry_after: str | None) -> SendFailed:
    try:
        error = _ERROR_RESPONSE.decode(raw).error
    except msgspec.DecodeError:
        error = None
    code = error.code if error is not None else None
    reason = f"Meta answered HTTP {status}" + (f" with error {code}: {error.message}" if error else "")
    code_text = str(code) if code is not None else None
    if code in _THROTTLED:
        return RateLimited(reason, retry_after=retry_after_seconds(retry_after), code=code_text,
                           per_recipient=code == _PAIR_RATE)
    if code in _TRANSIENT:
        return TemporaryFailure(reason, code=code_text)
    if _refused(code):
        return PermanentFailure(reason, code=code_text)
    if status == 429:
        return RateLimited(reason, retry_after=retry_after_seconds(retry_after), code=code_text)
    if status >= 500:
        return TemporaryFailure(reason, code=code_text)
    return PermanentFailure(reason, code=code_text)


def _refused(code: int | None) -> bool:
    return code is not None and (code in _REFUSED or 200 <= code <= 299)

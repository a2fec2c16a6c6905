"""TelegramAdminSender: operator notices to the admin chat through the Bot API."""

from __future__ import annotations

import asyncio

import aiohttp
import msgspec

from application.ports.channels import (
    PermanentFailure,
    RateLimited,
    SendReceipt,
    TemporaryFailure,
)
from domain.messages import OutboundMessage, reply_text

_MAX_TEXT = 4096


class _Answer(msgspec.Struct):
    ok: bool
    result: dict | None = None
    error_code: int | None = None
    description: str | None = None
    parameters: dict | None = None


_decode = msgspec.json.Decoder(_Answer).decode


class TelegramAdminSender:
    """Sends plain-text notices to ``TELEGRAM_ADMIN_CHAT_ID`` (``sendMessage``)."""

    provider = "telegram_admin"

    def __init__(self, session: aiohttp.ClientSession, *, api_base: str, token: str, timeout: float = 10.0) -> None:
        self._session = session
        self._url = f"{api_base.rstrip('/')}/bot{token}/sendMessage"
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Post the notice; raise the port's errors on failure."""
        body = {"chat_id": message.address, "text": reply_text(message.reply)[:_MAX_TEXT]}
        try:
            async with self._session.post(self._url, json=body, timeout=self._timeout) as response:
                answer = _decode(await response.read())
        except (aiohttp.ClientError, asyncio.TimeoutError, msgspec.DecodeError) as exc:
            raise TemporaryFailure(f"Telegram did not answer: {exc!r}") from exc
        if answer.ok:
            return SendReceipt(provider_message_id=str((answer.result or {}).get("message_id", "")) or None)
        raise _failure(answer)


def _failure(answer: _Answer) -> Exception:
    code, text = answer.error_code or 0, answer.description or "unknown error"
    if code == 429:
        retry_after = (answer.parameters or {}).get("retry_after")
        return RateLimited(text, retry_after=float(retry_after) if retry_after else None, code="429")
    if code >= 500:
        return TemporaryFailure(text, code=str(code))
    return PermanentFailure(text, code=str(code))

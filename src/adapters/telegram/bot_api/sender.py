"""TelegramSender: replies through the Bot API, on python-telegram-bot's ``telegram.Bot``.

python-telegram-bot raises its own errors (it reads the HTTP status and ``parameters``); they
become the port's errors (``application.ports.channels``) here, PROVIDERS.md 4.5:

SendFailed
├── RateLimited(retry_after)   RetryAfter: 429 with parameters.retry_after
├── TemporaryFailure           TimedOut, NetworkError (5xx, connection refused, reset), an unreadable answer
└── PermanentFailure(code)     Forbidden "403" (the user blocked the bot), BadRequest "400",
                               ChatMigrated "400" (the group is a supergroup now: its new chat id
                               is in the reason), InvalidToken "401" (401 or 404: the token is wrong)

A button press is acknowledged first: ``reply_to`` on a Telegram message is always the callback
query id the inbound message carried as ``ack_token``, and ``answerCallbackQuery`` stops the
client's spinner. A 400 on it (the query is too old, or was answered by a send that failed
part-way and is now retried) is ignored: the answer is only cosmetic, the reply is what matters.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Awaitable

import telegram
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import BaseRequest, HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from application.ports.channels import PermanentFailure, RateLimited, SendFailed, SendReceipt, TemporaryFailure
from domain.messages import OutboundMessage

from .rendering import MediaPart, Part, TextPart, render_reply

_log = logging.getLogger(__name__)

# python-telegram-bot assumes Telegram always answers {"ok": true, "result": ...}; a proxy or a
# stand-in that does not makes it fail with these instead of a TelegramError.
_UNREADABLE_ANSWER = (KeyError, TypeError, ValueError)


class TelegramSender:
    """A ChannelSender for the Telegram Bot API.

    ``initialize()`` and ``shutdown()`` open and close the HTTP connection pool. Unlike
    ``Bot.initialize()`` they make no ``getMe`` call, so start-up does not depend on Telegram
    being reachable; a wrong token shows at the first send (PermanentFailure "401").
    A text past 4,096 characters goes as several messages, in order, each awaited before the
    next; the receipt names the first. A failure part-way raises, so a retry resends them all,
    and so may a read timeout after Telegram had already accepted a message (the Bot API has
    no idempotency key): at most a repeated message, never a lost one.
    """

    provider = "telegram"

    def __init__(
        self, *, token: str, api_base: str, request: BaseRequest | None = None, timeout: float = 10.0
    ) -> None:
        base = api_base.rstrip("/")
        self._token = token
        # One pool for everything: this bot never polls getUpdates, so it needs no second one.
        self._request = request or HTTPXRequest(
            connection_pool_size=64,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
            pool_timeout=timeout,
            media_write_timeout=timeout,
        )
        self._bot = telegram.Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=self._request,
            get_updates_request=self._request,
        )

    async def initialize(self) -> None:
        await self._request.initialize()

    async def shutdown(self) -> None:
        await self._request.shutdown()

    async def send(self, message: OutboundMessage) -> SendReceipt:
        parts = render_reply(message.reply)
        if not parts:
            raise PermanentFailure("the reply is empty: nothing to send")
        if any(isinstance(part, MediaPart) and not _is_web_url(part.url) for part in parts):
            raise PermanentFailure("a media reply needs an http(s) URL")
        if message.reply_to:
            await self._acknowledge(message.reply_to)
        first: str | None = None
        for part in parts:
            sent = await self._call(self._send_part(message.address, part))
            if first is None:
                first = _message_id(sent)
        return SendReceipt(provider_message_id=first)

    async def _acknowledge(self, callback_query_id: str) -> None:
        try:
            await self._call(self._bot.answer_callback_query(callback_query_id))
        except PermanentFailure as exc:
            if not isinstance(exc.__cause__, BadRequest):
                raise
            _log.info("callback query %s was not answered: %s", callback_query_id, exc.reason)

    def _send_part(self, chat_id: str, part: Part) -> Awaitable[object]:
        if isinstance(part, TextPart):
            return self._bot.send_message(chat_id, part.text, reply_markup=part.keyboard)
        method = getattr(self._bot, f"send_{part.media}")
        # No parse_mode anywhere: a caption may quote the user, and must not be read as markup.
        caption = {"caption": part.caption} if part.caption else {}
        return method(chat_id, part.url, **caption)

    async def _call(self, call: Awaitable[object]) -> object:
        try:
            return await call
        except TelegramError as exc:
            raise self._failure(exc) from exc
        except _UNREADABLE_ANSWER as exc:
            raise TemporaryFailure(f"Telegram's answer could not be read: {exc!r}") from exc

    def _failure(self, exc: TelegramError) -> SendFailed:
        reason = self._scrub(exc.message)
        match exc:
            case RetryAfter():
                return RateLimited(reason, retry_after=_retry_after(exc), code="429")
            case ChatMigrated():
                return PermanentFailure(
                    f"the group became a supergroup; write to chat {exc.new_chat_id} instead", code="400"
                )
            case Forbidden():
                return PermanentFailure(reason, code="403")
            case InvalidToken() | EndPointNotFound():
                return PermanentFailure(f"the bot token was refused: {reason}", code="401")
            case BadRequest():  # before NetworkError, which it subclasses
                return PermanentFailure(reason, code="400")
            case NetworkError():  # TimedOut, 5xx, 429 without retry_after, connection errors
                return TemporaryFailure(f"Telegram could not be reached: {reason}")
        return TemporaryFailure(f"Telegram failed: {reason}")  # e.g. a 2xx that is not JSON

    def _scrub(self, text: str) -> str:
        """The text without the bot token, which is part of every URL."""
        return text.replace(self._token, "<token>") if self._token else text


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # v22 warns that the attribute will become a timedelta; accept both.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _message_id(sent: object) -> str | None:
    message_id = getattr(sent, "message_id", None)
    return str(message_id) if message_id is not None else None


def _is_web_url(url: str) -> bool:
    # python-telegram-bot uploads a string that names a local file: only a URL may be sent on.
    return url.startswith(("https://", "http://"))

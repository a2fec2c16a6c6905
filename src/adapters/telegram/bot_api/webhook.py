"""Telegram Bot API webhooks: the secret header, and the translation of one Update.

MalformedUpdate   the body is not JSON, not an Update, or an Update python-telegram-bot cannot read

One webhook request carries one Update (PROVIDERS.md 4.1). It is parsed with python-telegram-bot's
own types (``Update.de_json``) and translated at once; no ``telegram`` object leaves this module.
What becomes a turn:

- ``message``: text (a command too, ``/start@MyBot x`` read as ``/start x``), a caption, a photo
  (its largest size), document, video, voice or audio, a location or venue, a shared contact.
- ``callback_query``: a pressed inline button; ``choice_id`` is its ``callback_data`` and
  ``ack_token`` the query id, so the first reply answers the query and the spinner stops.

Everything else is no turn at all: ``edited_message`` (a correction to a message already
answered; answering it again would break "each message is answered once"), ``channel_post``,
``business_message``, ``my_chat_member`` (blocked, unblocked, added to a group), ``chat_member``,
reactions, inline queries, and a callback query from inline mode (it names no chat).
Groups, supergroups and channels are translated with their ``chat_kind``; the application
ignores them.
"""

from __future__ import annotations

import hmac
import json
import logging
import re

import msgspec
import telegram

from domain.contacts import InvalidContactId, classify_telegram_chat, normalise_phone, telegram_contact
from domain.messages import Channel, InboundMessage, Location, Media, SharedContact, WebhookBatch

PROVIDER = "telegram"

_log = logging.getLogger(__name__)

# A command addressed to one bot in a group: "/start@MyBot payload" -> "/start payload".
_ADDRESSED_COMMAND = re.compile(r"^(/[A-Za-z0-9_]+)@[A-Za-z0-9_]+(?=\s|$)")
# What python-telegram-bot raises on a shape it did not expect (it does not validate types).
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError)

Content = dict[str, object]


class MalformedUpdate(Exception):
    """The body is not a Telegram Update we can read."""


def verify_secret(header: str | None, secret: str) -> bool:
    """True when ``X-Telegram-Bot-Api-Secret-Token`` is our webhook secret (constant time)."""
    if header is None or not secret:
        return False
    return hmac.compare_digest(header.encode("utf-8", "replace"), secret.encode("utf-8"))


def parse_update(body: bytes, *, now: float, bot: telegram.Bot | None = None) -> WebhookBatch:
    """The turn one Update carries, if any; ``now`` stands in for a missing date."""
    try:
        data = json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise MalformedUpdate(f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        raise MalformedUpdate("not a Telegram Update: no integer update_id")
    try:
        update = telegram.Update.de_json(data, bot)
        inbound = _translate(update, now)
        if inbound is not None:
            # python-telegram-bot checks no types: let msgspec check what we took from it.
            inbound = msgspec.convert(msgspec.to_builtins(inbound), InboundMessage)
    except (*_UNREADABLE, msgspec.ValidationError) as exc:
        raise MalformedUpdate(f"update {data['update_id']} cannot be read: {exc!r}") from exc
    return WebhookBatch(messages=(inbound,) if inbound is not None else ())


def _translate(update: telegram.Update, now: float) -> InboundMessage | None:
    if update.message is not None:
        return _from_message(update.message, now)
    if update.callback_query is not None:
        return _from_callback(update.callback_query, now)
    return None


def _from_message(message: telegram.Message, now: float) -> InboundMessage | None:
    user = message.from_user
    if user is None:
        return None  # a channel post or an anonymous admin speaks as a chat, not a person
    if type(message.message_id) is not int:
        raise TypeError(f"message_id is {message.message_id!r}")
    content = _content(message, user)
    return _inbound(
        user,
        message.chat,
        # message_id is unique only within a chat (PROVIDERS.md 4.1), so the chat is part of the
        # key. update_id would dedupe Telegram's re-deliveries as well, but it names the delivery,
        # not the message, and "if there are no new updates for at least a week" the next one is
        # "chosen randomly instead of sequentially" (https://core.telegram.org/bots/api#update), so
        # a quiet bot could meet an old id again; chat:message_id names the message for good.
        provider_message_id=f"{message.chat.id}:{message.message_id}",
        received_at=_seconds(message, now),
        **content,
    )


def _from_callback(query: telegram.CallbackQuery, now: float) -> InboundMessage | None:
    message = query.message
    if query.data is None or message is None:
        return None  # a game button, or a button under an inline-mode message (no chat)
    return _inbound(
        query.from_user,
        message.chat,
        provider_message_id=f"cbq:{query.id}",  # query ids are unique across chats
        received_at=now,  # a query has no date; the message's date is when *we* sent it
        text=_button_text(message, query.data) or query.data,
        choice_id=query.data,
        ack_token=query.id,
    )


def _inbound(user: telegram.User, chat: telegram.Chat, **fields: object) -> InboundMessage | None:
    if type(chat.id) is not int:
        raise TypeError(f"chat.id is {chat.id!r}")
    try:
        contact = telegram_contact(user.id)
    except InvalidContactId:
        _log.warning("skipped Telegram %s: its sender %r is not a user", fields["provider_message_id"], user.id)
        return None
    return InboundMessage(
        channel=Channel.TELEGRAM,
        provider=PROVIDER,
        contact=contact,
        chat_kind=classify_telegram_chat(str(chat.type)),
        from_me=bool(user.is_bot),
        reply_address=str(chat.id),
        profile_name=_profile_name(user),
        **fields,  # type: ignore[arg-type]
    )


def _profile_name(user: telegram.User) -> str | None:
    name = " ".join(part for part in (user.first_name, user.last_name) if part).strip()
    return name or user.username or None


def _seconds(message: telegram.Message, now: float) -> float:
    date = message.date
    seconds = date.timestamp() if date is not None else 0.0
    return seconds if seconds > 0 else now


def _button_text(message: telegram.MaybeInaccessibleMessage, data: str) -> str | None:
    """The label of the pressed button, read from the keyboard of the message it was under."""
    markup = getattr(message, "reply_markup", None)  # an inaccessible (old) message has none
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


# --- What a message says ----------------------------------------------------------------------


def _content(message: telegram.Message, user: telegram.User) -> Content:
    content: Content = {}
    if message.text is not None:
        content["text"] = _ADDRESSED_COMMAND.sub(r"\1", message.text)
    elif message.caption is not None:
        content["text"] = message.caption
    media = _media(message)
    if media is not None:
        content["media"] = (media,)
    if message.venue is not None:
        venue = message.venue
        content["location"] = Location(
            latitude=venue.location.latitude,
            longitude=venue.location.longitude,
            name=venue.title,
            address=venue.address,
        )
    elif message.location is not None:
        content["location"] = Location(latitude=message.location.latitude, longitude=message.location.longitude)
    if message.contact is not None:
        content.update(_shared_contact(message.contact, user))
    return content


def _media(message: telegram.Message) -> Media | None:
    caption = message.caption
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        return Media(kind="image", reference=largest.file_id, caption=caption)
    # An animation (GIF) also arrives as a document, for old clients: read it first.
    for attribute, kind in _MEDIA_KINDS:
        item = getattr(message, attribute)
        if item is not None:
            return Media(
                kind=kind,
                reference=item.file_id,
                mime_type=getattr(item, "mime_type", None),
                caption=caption,
                filename=getattr(item, "file_name", None),
            )
    return None


# Named as the other channels name them (MediaReply and Meta use image/video/audio/document).
_MEDIA_KINDS = (
    ("animation", "video"),
    ("video", "video"),
    ("video_note", "video"),
    ("voice", "audio"),
    ("audio", "audio"),
    ("document", "document"),
    ("sticker", "sticker"),
)


def _shared_contact(card: telegram.Contact, user: telegram.User) -> Content:
    name = " ".join(part for part in (card.first_name, card.last_name) if part).strip() or None
    raw = card.phone_number or ""
    if card.user_id is not None and card.user_id == user.id:
        # The user shared their own number (a "share my phone" button): a Telegram account's
        # number is international, though Telegram often writes it without the "+".
        phone = normalise_phone(raw if raw.lstrip().startswith("+") else f"+{raw.strip()}")
        phone = phone or normalise_phone(raw)
        return {"shared_contact": SharedContact(phone=phone or raw or None, name=name), "phone": phone}
    # Someone else's card, typed into an address book: local forms are read as local.
    return {"shared_contact": SharedContact(phone=normalise_phone(raw) or raw or None, name=name)}

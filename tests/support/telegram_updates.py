"""Telegram webhook bodies, built from python-telegram-bot's own objects.

Nothing here is hand-written JSON: each builder composes ``telegram.Update``, ``Message``,
``User``, ``Chat``, ``CallbackQuery``… as python-telegram-bot models the Bot API (PROVIDERS.md
section 4.1) and serialises it with ``.to_dict()``, which writes the Bot API's own field names
(``from``, Unix ``date``). The bytes are what Telegram posts to a webhook: one Update per request.
Ids are fake; each call gets a fresh update id and message id unless told otherwise.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Sequence
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Contact,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Location,
    Message,
    MessageEntity,
    PhotoSize,
    Update,
    User,
    Voice,
)

BOT_USER = User(id=7000000001, is_bot=True, first_name="Chatgate", username="ChatgateBot")
DATE = 1_760_000_000

_update_ids = itertools.count(900_000_001)
_message_ids = itertools.count(17)
_query_ids = itertools.count(4382)


def new_update_id() -> int:
    return next(_update_ids)


def new_message_id() -> int:
    return next(_message_ids)


def new_query_id() -> str:
    """A callback query id in Telegram's style (a long numeric string)."""
    return f"{next(_query_ids)}{dt.datetime.now(dt.UTC).timestamp():.0f}"


# python-telegram-bot writes these Message flags as false; Telegram sends them only when true.
_TRUE_ONLY_FLAGS = frozenset({"delete_chat_photo", "group_chat_created", "supergroup_chat_created",
                              "channel_chat_created"})  # fmt: skip


def encode(update: Update) -> bytes:
    """The webhook body for ``update``, as Telegram posts it."""
    return json.dumps(_as_sent(update.to_dict()), ensure_ascii=False).encode()


def _as_sent(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_sent(v) for k, v in value.items() if not (k in _TRUE_ONLY_FLAGS and v is False)}
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    return value


def user(user_id: int, *, first_name: str = "Ana", last_name: str | None = None,
         username: str | None = None, is_bot: bool = False) -> User:
    return User(id=user_id, is_bot=is_bot, first_name=first_name, last_name=last_name,
                username=username, language_code="pt-br")  # fmt: skip


def private_chat(user_id: int, first_name: str = "Ana") -> Chat:
    return Chat(id=user_id, type=Chat.PRIVATE, first_name=first_name)


def when(timestamp: int = DATE) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def message(user_id: int, *, chat: Chat | None = None, message_id: int | None = None,
            date: int = DATE, sender: User | None = None, **fields: Any) -> Message:
    """A Message from ``user_id`` (in their private chat unless ``chat`` says otherwise)."""
    sender = sender or user(user_id)
    return Message(
        message_id=message_id or new_message_id(),
        date=when(date),
        chat=chat or private_chat(user_id, sender.first_name),
        from_user=sender,
        **fields,
    )  # fmt: skip


def message_update(user_id: int, *, update_id: int | None = None, **fields: Any) -> bytes:
    """An Update whose ``message`` has the given fields (``text``, ``voice``, ``location``…)."""
    return encode(Update(update_id=update_id or new_update_id(), message=message(user_id, **fields)))


def text_update(user_id: int, text: str, **fields: Any) -> bytes:
    """A text message; a leading ``/command`` carries its ``bot_command`` entity, as Telegram sends."""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        fields.setdefault("entities", (MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command)),))
    return message_update(user_id, text=text, **fields)


def group_text_update(user_id: int, text: str, *, chat_id: int = -1001234567890,
                      chat_type: str = Chat.SUPERGROUP, title: str = "Franchise owners",
                      **fields: Any) -> bytes:
    """A text someone wrote in a group, supergroup or channel chat."""
    return text_update(user_id, text, chat=Chat(id=chat_id, type=chat_type, title=title), **fields)


def edited_update(user_id: int, text: str, *, message_id: int | None = None, edit_date: int = DATE + 60,
                  **fields: Any) -> bytes:
    """An ``edited_message``: the user corrected a message they had sent."""
    edited = message(user_id, message_id=message_id, text=text, edit_date=when(edit_date), **fields)
    return encode(Update(update_id=new_update_id(), edited_message=edited))


def contact_update(user_id: int, phone_number: str, *, contact_user_id: int | None = None,
                   first_name: str = "Ana", last_name: str | None = None, **fields: Any) -> bytes:
    """A shared contact; ``contact_user_id=user_id`` is the user sharing their own number."""
    card = Contact(phone_number=phone_number, first_name=first_name, last_name=last_name,
                   user_id=contact_user_id)  # fmt: skip
    return message_update(user_id, contact=card, **fields)


def photo_update(user_id: int, *, caption: str | None = None,
                 sizes: Sequence[tuple[int, int]] = ((90, 90), (320, 320), (1280, 1280)),
                 **fields: Any) -> bytes:
    """A photo; Telegram lists its sizes smallest first, with a file id each."""
    photo = tuple(
        PhotoSize(file_id=f"AgACAgQ-{w}x{h}", file_unique_id=f"AQAD{w}{h}", width=w, height=h, file_size=w * h // 10)
        for w, h in sizes
    )
    return message_update(user_id, photo=photo, caption=caption, **fields)


def document_update(user_id: int, *, file_name: str = "ktp-scan.pdf", mime_type: str = "application/pdf",
                    caption: str | None = None, **fields: Any) -> bytes:
    document = Document(file_id="BQACAgQ-doc", file_unique_id="AgADdoc", file_name=file_name,
                        mime_type=mime_type, file_size=120_000)  # fmt: skip
    return message_update(user_id, document=document, caption=caption, **fields)


def voice_update(user_id: int, **fields: Any) -> bytes:
    voice = Voice(file_id="AwACAgQ-voice", file_unique_id="AgADvoice", duration=3, mime_type="audio/ogg")
    return message_update(user_id, voice=voice, **fields)


def location_update(user_id: int, latitude: float = -6.2, longitude: float = 106.816666, **fields: Any) -> bytes:
    return message_update(user_id, location=Location(longitude=longitude, latitude=latitude), **fields)


def keyboard(buttons: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """An inline keyboard, one (text, callback_data) button per row, as TelegramSender sends it."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)] for text, data in buttons])


def callback_update(user_id: int, data: str, *, query_id: str | None = None,
                    buttons: Sequence[tuple[str, str]] | None = None, chat: Chat | None = None,
                    message_date: int = DATE - 30, inaccessible: bool = False,
                    inline: bool = False) -> bytes:
    """A pressed inline button under one of our messages (``buttons`` is that message's keyboard).

    ``inaccessible``: the message is too old for Telegram to include (it sends ``date`` 0);
    ``inline``: the button was under an inline-mode message, so there is no message at all.
    """
    chat = chat or private_chat(user_id)
    ours: Message | None = Message(
        message_id=new_message_id(),
        date=when(0 if inaccessible else message_date),
        chat=chat,
        from_user=None if inaccessible else BOT_USER,
        text=None if inaccessible else "Confirm your order?",
        reply_markup=keyboard(buttons) if buttons and not inaccessible else None,
    )
    query = CallbackQuery(
        id=query_id or new_query_id(),
        from_user=user(user_id),
        chat_instance="-7341234567890123456",
        data=data,
        message=None if inline else ours,
        inline_message_id="AgAAAB8" if inline else None,
    )
    return encode(Update(update_id=new_update_id(), callback_query=query))


def my_chat_member_update(user_id: int, *, blocked: bool = True) -> bytes:
    """The user blocked (or unblocked) the bot: a ``my_chat_member`` update, not a message."""
    banned = ChatMemberBanned(BOT_USER, until_date=when(0))
    member = ChatMemberMember(BOT_USER)
    change = ChatMemberUpdated(
        chat=private_chat(user_id),
        from_user=user(user_id),
        date=when(),
        old_chat_member=member if blocked else banned,
        new_chat_member=banned if blocked else member,
    )
    return encode(Update(update_id=new_update_id(), my_chat_member=change))


def sent_message(chat_id: int | str, message_id: int, **fields: Any) -> dict[str, Any]:
    """The ``result`` of a send: the Message Telegram created, as a dict."""
    sent = Message(message_id=message_id, date=when(), chat=Chat(id=int(chat_id), type=Chat.PRIVATE),
                   from_user=BOT_USER, **fields)  # fmt: skip
    return _as_sent(sent.to_dict())

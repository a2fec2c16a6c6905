"""How each Reply looks on Telegram, within the Bot API's limits (PROVIDERS.md 4.4-4.5).

- TextReply: ``sendMessage`` with no ``parse_mode`` (the text may hold user content); past
  4,096 characters, split at paragraphs, then sentences, then words, sent in order.
- ButtonsReply and ListReply: the text under an inline keyboard, one button per row, each
  ``callback_data`` the option's id (Telegram has no list widget; a footer joins the text).
- MediaReply: ``sendPhoto``/``sendVideo``/``sendAudio``/``sendSticker``/``sendDocument`` by URL,
  the caption with it when it fits 1,024 characters, else as text after it.
A label past our limit is shortened, never dropped; an option that cannot be a button (an id
past 64 bytes of UTF-8, ids repeated, labels empty or alike once shortened, more than 100)
makes the whole reply numbered text (``reply_text``), so no option is ever lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, InlineKeyboardMarkupLimit, MessageLimit

from adapters.text_limits import shorten, split_text
from domain.messages import Button, ButtonsReply, ListReply, MediaReply, Reply, TextReply, reply_text

TEXT_MAX = int(MessageLimit.MAX_TEXT_LENGTH)  # 4,096
CAPTION_MAX = int(MessageLimit.CAPTION_LENGTH)  # 1,024
CALLBACK_DATA_MAX_BYTES = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)  # 64
BUTTONS_MAX = int(InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER)  # 100
# Telegram documents no limit on a button's text, but a phone clips a full-width button at
# about this many characters; shortening it ourselves keeps the cut at a word break.
BUTTON_TEXT_MAX = 40

# MediaReply.kind -> the Bot API method's media parameter; anything else goes as a document.
MEDIA_METHODS = {"image": "photo", "video": "video", "audio": "audio", "sticker": "sticker"}
_UNCAPTIONED = frozenset({"sticker"})


@dataclass(frozen=True)
class TextPart:
    """One ``sendMessage``."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class MediaPart:
    """One ``send<Media>`` by URL; ``media`` names the method (photo, video, …, document)."""

    media: str
    url: str
    caption: str | None = None


Part = TextPart | MediaPart


def render_reply(reply: Reply) -> list[Part]:
    """The messages that carry ``reply``, in order (empty when there is nothing to say)."""
    match reply:
        case TextReply(text=text):
            return render_text(text)
        case MediaReply():
            return _media(reply)
        case ButtonsReply(text=text, buttons=options, footer=footer) | ListReply(
            text=text, options=options, footer=footer
        ):
            return _with_keyboard(text, options, footer) or render_text(reply_text(reply))
    raise TypeError(f"not a reply: {reply!r}")


def render_text(text: str) -> list[Part]:
    return [TextPart(part) for part in split_text(text, TEXT_MAX)]


def callback_data_fits(option_id: str) -> bool:
    """Telegram takes 1-64 *bytes* of callback_data: 16 Devanagari letters are already 48."""
    return 0 < len(option_id.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES


def _with_keyboard(text: str, options: tuple[Button, ...], footer: str | None) -> list[Part] | None:
    keyboard = _keyboard(options)
    body = f"{text.strip()}\n\n{footer.strip()}" if footer and footer.strip() else text.strip()
    if keyboard is None or not text.strip():
        return None
    *leading, last = split_text(body, TEXT_MAX)
    return [*(TextPart(part) for part in leading), TextPart(last, keyboard)]


def _keyboard(options: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    labels = [shorten(option.title, BUTTON_TEXT_MAX) for option in options]
    ids = [option.id for option in options]
    usable = (
        1 <= len(options) <= BUTTONS_MAX
        and all(callback_data_fits(i) for i in ids)
        and len(set(ids)) == len(ids)
        and all(labels)
        and len(set(labels)) == len(labels)
    )
    if not usable:
        return None
    rows = [[InlineKeyboardButton(label, callback_data=i)] for label, i in zip(labels, ids)]
    return InlineKeyboardMarkup(rows)


def _media(reply: MediaReply) -> list[Part]:
    media = MEDIA_METHODS.get(reply.kind, "document")
    caption = reply.caption.strip() if reply.caption else ""
    if caption and media not in _UNCAPTIONED and len(caption) <= CAPTION_MAX:
        return [MediaPart(media, reply.url, caption)]
    return [MediaPart(media, reply.url), *render_text(caption)]

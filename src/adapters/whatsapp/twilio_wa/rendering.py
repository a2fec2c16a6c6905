"""How each Reply looks on Twilio's Messages API, within its limits (PROVIDERS.md 1.4-1.5).

- TextReply: ``Body``; past 1,600 characters, split at paragraphs, then sentences, then words.
- ButtonsReply / ListReply: numbered text (``reply_text``). Real WhatsApp buttons and lists
  need a Content API template per menu (``twilio/quick-reply``, ``twilio/list-picker``, sent by
  ``ContentSid``), which Chatgate does not create; the user answers by number or by words,
  and the flows read both.
- MediaReply: ``MediaUrl``, with ``Body`` as the caption of an image or video. Twilio takes no
  caption (or filename) for a document, nor for audio: the caption goes first as its own text.
"""

from __future__ import annotations

from typing import Any

from adapters.text_limits import split_text
from domain.messages import MediaReply, Reply, reply_text

TEXT_MAX = 1600
_CAPTIONED = frozenset({"image", "video"})

MessageParams = dict[str, Any]
"""Keyword arguments of ``client.messages.create_async`` (``body``, ``media_url``), no recipient."""


def render_reply(reply: Reply) -> list[MessageParams]:
    """The messages that carry ``reply``, in the order they are sent."""
    if isinstance(reply, MediaReply):
        return _media(reply)
    return render_text(reply_text(reply))


def render_text(text: str) -> list[MessageParams]:
    return [{"body": part} for part in split_text(text, TEXT_MAX)]


def _media(reply: MediaReply) -> list[MessageParams]:
    media: MessageParams = {"media_url": [reply.url]}
    caption = (reply.caption or "").strip()
    if caption and reply.kind in _CAPTIONED and len(caption) <= TEXT_MAX:
        return [{**media, "body": caption}]
    return [*render_text(caption), media]

"""How each Reply looks on WAHA: the ``/api/send…`` calls that carry it, in order.

- TextReply: ``/api/sendText``; past 4,096 characters (WhatsApp's practical ceiling; WAHA
  documents none of its own, PROVIDERS.md 3.5) split at paragraphs, then sentences, then words.
- ButtonsReply, ListReply: numbered text (``reply_text``). WAHA's ``sendButtons`` is documented
  as not working and ``sendList`` as engine-limited and liable to stop (PROVIDERS.md 3.4), so
  a menu is text the user answers with a number or the option's words.
- MediaReply: ``/api/sendImage`` for an image, ``/api/sendFile`` for anything else (a video or
  audio then arrives as a document: no engine-specific format to meet), by URL with a caption
  of up to 1,024 characters; a longer caption follows as text. WAHA Core and some engines do
  not send media (422 "Plus version", 501 not implemented): the call carries a text fallback,
  the caption and the link, that the sender uses then.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from adapters.text_limits import split_text
from domain.messages import ButtonsReply, ListReply, MediaReply, Reply, TextReply, reply_text

TEXT_MAX = 4096
CAPTION_MAX = 1024
SEND_TEXT = "/api/sendText"
SEND_IMAGE = "/api/sendImage"
SEND_FILE = "/api/sendFile"
SEND_SEEN = "/api/sendSeen"

_DEFAULT_MIMETYPES = {"image": "image/jpeg"}
_OCTET_STREAM = "application/octet-stream"


class Call(NamedTuple):
    """One ``POST`` to WAHA: the path and the body's fields besides ``session`` and ``chatId``."""

    path: str
    fields: dict[str, Any]
    fallback: tuple[Call, ...] = ()
    """What to send instead when WAHA cannot do this call (media on an engine without it)."""


def render_reply(reply: Reply) -> list[Call]:
    """The calls that carry ``reply``, in the order they must be sent."""
    match reply:
        case TextReply(text=text):
            return render_text(text)
        case ButtonsReply() | ListReply():
            return render_text(reply_text(reply))
        case MediaReply():
            return _media(reply)
    raise TypeError(f"not a reply: {reply!r}")


def render_text(text: str) -> list[Call]:
    return [Call(SEND_TEXT, {"text": part}) for part in split_text(text, TEXT_MAX)]


def _media(reply: MediaReply) -> list[Call]:
    url_name = PurePosixPath(urlsplit(reply.url).path).name
    filename = reply.filename or url_name
    file: dict[str, str] = {"url": reply.url, "mimetype": _mimetype(reply.kind, filename, url_name)}
    if filename:
        file["filename"] = filename
    fields: dict[str, Any] = {"file": file}
    caption = (reply.caption or "").strip()
    trailing: list[Call] = []
    if caption and len(caption) <= CAPTION_MAX:
        fields["caption"] = caption
        fallback = render_text(f"{caption}\n{reply.url}")
    else:
        trailing = render_text(caption)  # empty when there is no caption
        fallback = render_text(reply.url)
    path = SEND_IMAGE if reply.kind == "image" else SEND_FILE
    return [Call(path, fields, tuple(fallback)), *trailing]


def _mimetype(kind: str, *names: str) -> str:
    """WAHA requires ``file.mimetype``: guessed from the file name, else a safe default."""
    for name in names:
        guessed = mimetypes.guess_type(name)[0] if name else None
        if guessed:
            return guessed
    return _DEFAULT_MIMETYPES.get(kind, _OCTET_STREAM)

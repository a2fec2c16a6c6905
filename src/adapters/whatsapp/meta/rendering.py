"""How each Reply looks on the Meta Cloud API, within its limits (PROVIDERS.md 2.4-2.5).

- TextReply: ``text``; past 4,096 characters, split at paragraphs, then sentences, then words.
- ButtonsReply: 1-3 options → reply ``button``s; 4-10 → a ``list`` (button "Menu"); else text.
- ListReply: 1-10 options → a one-section ``list``; else numbered text.
- MediaReply: ``image``/``video``/``audio``/``sticker``/``document`` by ``link``.
A title past its limit is shortened with an ellipsis, never dropped; an option that cannot be
rendered (ids too long, titles alike once shortened, a body past 1,024) makes the whole reply
numbered text (``reply_text``), so no option is ever lost.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from adapters.text_limits import shorten, split_text
from domain.messages import Button, ButtonsReply, ListReply, MediaReply, Reply, TextReply, reply_text

TEXT_MAX = 4096
CAPTION_MAX = 1024
BODY_MAX = 1024
FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20
LIST_BUTTON_DEFAULT = "Menu"  # a ButtonsReply has no label; "Menu" reads in English and Indonesian

_MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
_CAPTIONED = frozenset({"image", "video", "document"})

MessageObject = dict[str, Any]


def render_reply(reply: Reply) -> list[MessageObject]:
    """The message objects (``type`` and its content, no recipient) that carry ``reply``, in order."""
    match reply:
        case TextReply(text=text):
            return render_text(text)
        case MediaReply():
            return _media(reply)
        case ButtonsReply(text=text, buttons=options, footer=footer):
            interactive = _buttons(text, options, footer) or _list(text, LIST_BUTTON_DEFAULT, options, footer)
        case ListReply(text=text, button_label=label, options=options, footer=footer):
            interactive = _list(text, label, options, footer)
        case _:
            raise TypeError(f"not a reply: {reply!r}")
    if interactive is None:
        return render_text(reply_text(reply))
    return [{"type": "interactive", "interactive": interactive}]


def render_text(text: str) -> list[MessageObject]:
    has_link = "http://" in text or "https://" in text
    return [{"type": "text", "text": {"body": part, "preview_url": has_link}} for part in split_text(text, TEXT_MAX)]


def _body(text: str, footer: str | None) -> dict[str, Any] | None:
    """Body and footer of an interactive message; a long footer joins the body when it fits."""
    text = text.strip()
    if not text or len(text) > BODY_MAX:
        return None
    parts: dict[str, Any] = {}
    if footer and len(footer) > FOOTER_MAX and len(text) + 2 + len(footer) <= BODY_MAX:
        text, footer = f"{text}\n\n{footer}", None
    parts["body"] = {"text": text}
    if footer:
        parts["footer"] = {"text": shorten(footer, FOOTER_MAX)}
    return parts


def _buttons(text: str, options: tuple[Button, ...], footer: str | None) -> dict[str, Any] | None:
    body = _body(text, footer)
    titles = [shorten(option.title, BUTTON_TITLE_MAX) for option in options]
    usable = _usable(options, titles, BUTTON_ID_MAX) and len(set(titles)) == len(titles)
    if body is None or not 1 <= len(options) <= BUTTONS_MAX or not usable:
        return None
    buttons = [{"type": "reply", "reply": {"id": o.id, "title": t}} for o, t in zip(options, titles)]
    return {"type": "button", **body, "action": {"buttons": buttons}}


def _list(text: str, label: str, options: tuple[Button, ...], footer: str | None) -> dict[str, Any] | None:
    body = _body(text, footer)
    titles = [shorten(option.title, ROW_TITLE_MAX) for option in options]
    if body is None or not 1 <= len(options) <= ROWS_MAX or not _usable(options, titles, ROW_ID_MAX):
        return None
    rows = [_row(option, title) for option, title in zip(options, titles)]
    button = shorten(label, LIST_BUTTON_MAX) or LIST_BUTTON_DEFAULT
    return {"type": "list", **body, "action": {"button": button, "sections": [{"rows": rows}]}}


def _row(option: Button, title: str) -> dict[str, str]:
    row = {"id": option.id, "title": title}
    # A shortened title with no description of its own is shown whole underneath.
    description = option.description or (option.title if title != option.title.strip() else None)
    if description:
        row["description"] = shorten(description, ROW_DESCRIPTION_MAX)
    return row


def _usable(options: tuple[Button, ...], titles: list[str], id_max: int) -> bool:
    """Meta rejects empty, repeated or over-long ids and empty titles (and repeated button titles)."""
    ids = [option.id for option in options]
    return all(0 < len(i) <= id_max for i in ids) and len(set(ids)) == len(ids) and all(titles)


def _media(reply: MediaReply) -> list[MessageObject]:
    kind = reply.kind if reply.kind in _MEDIA_TYPES else "document"
    media: dict[str, str] = {"link": reply.url}
    trailing: list[MessageObject] = []
    if reply.caption and kind in _CAPTIONED and len(reply.caption) <= CAPTION_MAX:
        media["caption"] = reply.caption
    elif reply.caption:
        trailing = render_text(reply.caption)  # audio and stickers take none; a long one follows
    if kind == "document":
        filename = reply.filename or PurePosixPath(urlsplit(reply.url).path).name
        if filename:
            media["filename"] = filename
    return [{"type": kind, kind: media}, *trailing]

"""What a WAHA message says: text, media, a location, a contact card, a tapped option.

WAHA normalises only ``body`` (the text, a media caption, a list row's title), ``media``,
``location`` and ``vCards``; the id of a tapped list row or reply button lives in the engine's
``_data`` under engine-specific, unverified paths (PROVIDERS.md 3.1, 6). They are read where
found, and the body text is what a flow gets otherwise: our own menus are numbered text.
"""

from __future__ import annotations

import math
import re

from domain.messages import Location, Media, SharedContact

from .payloads import EngineData, EngineMessage, LocationInfo, MediaInfo, Message

Content = dict[str, object]

_MEDIA_KINDS = {"image": "image", "video": "video", "audio": "audio"}
# WEBJS ``_data.type`` of a media message whose mimetype WAHA did not give.
_ENGINE_KINDS = {"image": "image", "video": "video", "audio": "audio", "ptt": "audio", "sticker": "sticker"}
_FOLDED_LINE = re.compile(r"\r?\n[ \t]")
_VCARD_ESCAPES = {"\\,": ",", "\\;": ";", "\\n": " ", "\\N": " ", "\\\\": "\\"}


def message_content(message: Message, data: EngineData) -> Content:
    """The ``InboundMessage`` fields that carry what the message says."""
    # WEBJS puts a location's thumbnail and a card's vCard text in ``body``: not the user's words.
    place = _location(message.location) if message.location is not None else None
    if place is not None:
        return {"location": place}
    card = shared_contact(message.vCards[0]) if message.vCards else None
    if card is not None:
        return {"shared_contact": card}
    body = message.body or ""
    content: Content = {"text": body}
    if message.hasMedia or message.media is not None:
        content["media"] = (_media(message, message.media, data, body),)
    choice_id, title = _choice(data)
    if choice_id:
        content["choice_id"] = choice_id
        content["text"] = body or title or ""
    return content


def _media(message: Message, media: MediaInfo | None, data: EngineData, caption: str) -> Media:
    mime_type = media.mimetype if media is not None else None
    return Media(
        kind=_kind(mime_type, data.type),
        # Without a url (WAHA did not download it) the message id is how to fetch it later.
        reference=(media.url if media is not None else None) or message.id,
        mime_type=mime_type,
        caption=caption or None,
        filename=media.filename if media is not None else None,
    )


def _kind(mime_type: str | None, engine_type: str | None) -> str:
    if mime_type:
        return _MEDIA_KINDS.get(mime_type.split("/", 1)[0].strip().lower(), "document")
    return _ENGINE_KINDS.get(engine_type or "", "document")


def _location(place: LocationInfo) -> Location | None:
    latitude, longitude = _coordinate(place.latitude), _coordinate(place.longitude)
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        return None
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=place.name or place.description or None,
        address=place.address or None,
    )


def _coordinate(value: float | str | None) -> float | None:
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _choice(data: EngineData) -> tuple[str | None, str | None]:
    """The id and title of a tapped list row or reply button, from whichever engine wrote it."""
    for message in (data.message, data.Message):
        found = _engine_choice(message) if message is not None else (None, None)
        if found[0]:
            return found
    picked = data.listResponse  # WEBJS
    if picked is not None and picked.singleSelectReply is not None and picked.singleSelectReply.selectedRowId:
        return picked.singleSelectReply.selectedRowId, picked.title
    return data.selectedButtonId, None


def _engine_choice(message: EngineMessage) -> tuple[str | None, str | None]:
    picked = message.listResponseMessage
    if picked is not None and picked.singleSelectReply is not None:
        row = picked.singleSelectReply
        return row.selectedRowId or row.selectedRowID, picked.title
    tapped = message.buttonsResponseMessage
    if tapped is not None:
        return tapped.selectedButtonId or tapped.selectedButtonID, tapped.selectedDisplayText
    return None, None


def shared_contact(vcard: str) -> SharedContact | None:
    """The name (``FN``) and first phone (``TEL``, its ``waid`` when WhatsApp added one) of a vCard."""
    name: str | None = None
    phone: str | None = None
    for line in _FOLDED_LINE.sub("", vcard).splitlines():
        head, colon, value = line.partition(":")
        if not colon:
            continue
        prop, *params = head.split(";")
        prop = prop.rsplit(".", 1)[-1].strip().upper()  # "item1.TEL" is a TEL
        if prop == "FN" and name is None:
            name = _unescape(value).strip() or None
        elif prop == "TEL" and phone is None:
            waid = next((p.split("=", 1)[1] for p in params if p.strip().lower().startswith("waid=")), "")
            phone = f"+{waid.strip()}" if waid.strip().isdigit() else value.strip() or None
    return SharedContact(phone=phone, name=name) if name or phone else None


def _unescape(text: str) -> str:
    return re.sub(r"\\[,;nN\\]", lambda m: _VCARD_ESCAPES[m.group()], text)

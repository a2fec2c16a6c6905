"""Meta WhatsApp Cloud API webhooks: the GET handshake, the signature, and the translation.

MalformedWebhook   the body is not JSON, or not a WhatsApp Business Account notification

Only a body that is not a notification at all fails as a whole. Inside one, every message and
status is translated alone: one that cannot be read, or whose sender cannot be identified, is
skipped (and logged by its wamid), and the rest of the batch survives.
See PROVIDERS.md 2.1-2.3.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import TypeVar

import msgspec

from domain.contacts import ChatKind, ContactId, InvalidContactId, meta_contact
from domain.messages import (
    Channel,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    Location,
    Media,
    SharedContact,
    WebhookBatch,
)

from .payloads import Contact, Message, Notification, Status, Value

PROVIDER = "meta"

_log = logging.getLogger(__name__)

_NOTIFICATION = msgspec.json.Decoder(Notification)
_VALUE = msgspec.json.Decoder(Value)
_MESSAGE = msgspec.json.Decoder(Message)
_STATUS = msgspec.json.Decoder(Status)
_CONTACT = msgspec.json.Decoder(Contact)

_OBJECT = "whatsapp_business_account"
_MESSAGES_FIELD = "messages"
_ECHOES_FIELD = "smb_message_echoes"  # coexistence: what the business typed in the Business app
_SIGNATURE_PREFIX = "sha256="
_STATES = {
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "failed": DeliveryState.FAILED,
}
_MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
_NOT_USER_INPUT = frozenset({"reaction", "system"})  # an emoji on a bubble; a number change

T = TypeVar("T")


class MalformedWebhook(Exception):
    """The body is not a Meta WhatsApp notification: not JSON, or the wrong shape."""


def verify_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """True when ``X-Hub-Signature-256`` is ``sha256=`` + the HMAC-SHA256 of the raw body."""
    if not header or not app_secret or not header.startswith(_SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    given = header[len(_SIGNATURE_PREFIX) :].strip().lower()
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def verification_challenge(
    mode: str | None, token: str | None, challenge: str | None, verify_token: str
) -> str | None:
    """The ``hub.challenge`` to echo when Meta's GET handshake names our token, else None."""
    if mode != "subscribe" or token is None or challenge is None or not verify_token:
        return None
    if not hmac.compare_digest(token.encode("utf-8", "replace"), verify_token.encode()):
        return None
    return challenge


def parse_webhook(body: bytes, *, now: float) -> WebhookBatch:
    """Every message and status of one webhook body; ``now`` stands in for missing timestamps."""
    try:
        notification = _NOTIFICATION.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedWebhook(f"not a Meta webhook body: {exc}") from exc
    if notification.object != _OBJECT:
        raise MalformedWebhook(f"object is {notification.object!r}, expected {_OBJECT!r}")
    messages: list[InboundMessage] = []
    statuses: list[DeliveryStatus] = []
    for entry in notification.entry:
        for change in entry.changes:
            if not change.value or change.field not in (_MESSAGES_FIELD, _ECHOES_FIELD):
                continue  # template, account and preference updates are not conversations
            value = _decode(_VALUE, change.value)
            if value is not None:
                _translate_value(value, change.field == _ECHOES_FIELD, now, messages, statuses)
    return WebhookBatch(messages=tuple(messages), statuses=tuple(statuses))


def _decode(decoder: msgspec.json.Decoder[T], raw: msgspec.Raw) -> T | None:
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        _log.warning("skipped an unreadable part of a Meta webhook: %s", exc)
        return None


def _translate_value(
    value: Value, echoes: bool, now: float, messages: list[InboundMessage], statuses: list[DeliveryStatus]
) -> None:
    contacts = [card for raw in value.contacts if (card := _decode(_CONTACT, raw)) is not None]
    own_number = _digits(value.metadata.display_phone_number) if value.metadata else ""
    for raw in value.message_echoes if echoes else value.messages:
        message = _decode(_MESSAGE, raw)
        inbound = message and _inbound(message, contacts, own_number, echoes, now)
        if inbound is not None:
            messages.append(inbound)
    for raw in value.statuses:
        status = _decode(_STATUS, raw)
        delivery = status and _delivery_status(status, now)
        if delivery is not None:
            statuses.append(delivery)


def _inbound(
    message: Message, contacts: list[Contact], own_number: str, echo: bool, now: float
) -> InboundMessage | None:
    if message.type in _NOT_USER_INPUT:
        return None
    # An echo is ours, written to ``to``; a message is the user's, written from ``from``.
    wa_id, user_id = (message.to, message.to_user_id) if echo else (message.from_, message.from_user_id)
    card = _find_contact(contacts, wa_id, user_id)
    if card is not None:
        wa_id, user_id = wa_id or card.wa_id, user_id or card.user_id
    contact = _identify(wa_id, user_id)
    if contact is None:
        _log.warning("skipped Meta message %s: its sender cannot be identified", message.id)
        return None
    from_me = echo or (bool(own_number) and _digits(message.from_ or "") == own_number)
    content = _CONTENT.get(message.type, _no_content)(message)
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider=PROVIDER,
        provider_message_id=message.id,
        contact=contact,
        chat_kind=ChatKind.GROUP if message.group_id else ChatKind.USER,
        from_me=from_me,
        # Where a reply goes: the wa_id digits; a username user has only the BSUID
        # (``US.1349…``), which MetaSender sends as ``recipient``; a group, its id.
        reply_address=message.group_id or wa_id or user_id or "",
        received_at=_seconds(message.timestamp, now),
        profile_name=card.profile.name if card is not None and card.profile is not None else None,
        phone=contact.phone,
        aliases=_aliases(contact, user_id),
        **content,
    )


def _find_contact(contacts: list[Contact], wa_id: str | None, user_id: str | None) -> Contact | None:
    for card in contacts:
        if (wa_id and card.wa_id == wa_id) or (user_id and card.user_id == user_id):
            return card
    return None


def _identify(wa_id: str | None, user_id: str | None) -> ContactId | None:
    """The contact by phone, else by BSUID; a garbled wa_id does not hide a good BSUID."""
    for phone, scoped in ((wa_id, user_id), (None, user_id)):
        try:
            return meta_contact(phone, scoped)
        except InvalidContactId:
            continue
    return None


def _aliases(contact: ContactId, user_id: str | None) -> tuple[ContactId, ...]:
    """The BSUID beside a phone: a later message with only the BSUID is the same contact."""
    if contact.phone is None or not user_id:
        return ()
    try:
        return (meta_contact(None, user_id),)
    except InvalidContactId:
        return ()


def _delivery_status(status: Status, now: float) -> DeliveryStatus | None:
    state = _STATES.get(status.status)
    if state is None:
        return None  # "played" and whatever Meta adds later
    error_code = None
    if state is DeliveryState.FAILED and status.errors and status.errors[0].code is not None:
        error_code = str(status.errors[0].code)
    return DeliveryStatus(
        provider=PROVIDER,
        provider_message_id=status.id,
        state=state,
        at=_seconds(status.timestamp, now),
        error_code=error_code,
        tracker=status.biz_opaque_callback_data,
    )


def _seconds(timestamp: str | int | None, now: float) -> float:
    """Meta's timestamp (a string of Unix seconds), or ``now`` when it is missing or garbled."""
    try:
        seconds = int(timestamp) if timestamp is not None else 0
    except ValueError:
        return now
    return float(seconds) if seconds > 0 else now


def _digits(number: str) -> str:
    if number.isascii() and number.isdigit():
        return number  # how Meta writes it; the generator below costs a microsecond
    return "".join(char for char in number if char.isdigit())


# --- What a message says, by type ---------------------------------------------------------------

Content = dict[str, object]


def _no_content(message: Message) -> Content:
    return {}


def _text(message: Message) -> Content:
    return {"text": message.text.body} if message.text is not None else {}


def _interactive(message: Message) -> Content:
    interactive = message.interactive
    reply = interactive and (interactive.button_reply or interactive.list_reply)
    return {"text": reply.title, "choice_id": reply.id} if reply else {}


def _template_button(message: Message) -> Content:
    button = message.button
    return {"text": button.text, "choice_id": button.payload} if button is not None else {}


def _media(message: Message) -> Content:
    media = getattr(message, message.type)
    if media is None or not (media.id or media.url):
        return {}
    attachment = Media(
        kind=message.type,
        reference=media.id or media.url or "",
        mime_type=media.mime_type,
        caption=media.caption,
        filename=media.filename,
    )
    return {"media": (attachment,), "text": media.caption or ""}


def _location(message: Message) -> Content:
    place = message.location
    if place is None:
        return {}
    return {
        "location": Location(
            latitude=place.latitude, longitude=place.longitude, name=place.name, address=place.address
        )
    }


def _shared_contact(message: Message) -> Content:
    if not message.contacts:
        return {}
    card = message.contacts[0]
    phone = next((p for p in card.phones if p.wa_id or p.phone), None)
    number = (f"+{phone.wa_id}" if phone.wa_id and phone.wa_id.isdigit() else phone.phone) if phone else None
    name = card.name.formatted_name if card.name is not None else None
    return {"shared_contact": SharedContact(phone=number, name=name)}


_CONTENT: dict[str, Callable[[Message], Content]] = {
    "text": _text,
    "interactive": _interactive,
    "button": _template_button,
    "location": _location,
    "contacts": _shared_contact,
    **{kind: _media for kind in _MEDIA_TYPES},
}

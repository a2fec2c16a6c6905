"""Twilio WhatsApp webhooks: the form body, the signature, and the translation.

MalformedWebhook   the form is not a Twilio message (or status callback): no MessageSid, no
                   WhatsApp sender, no MessageStatus

Twilio signs every parameter it sent, repeated and blank ones too (``Body=`` on a document
without caption): a form parser that drops blank values or keeps one value per key breaks the
signature. ``parse_form`` reads the raw body keeping all of them, whatever the web framework
does. See PROVIDERS.md 1.1-1.3.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlparse

import msgspec
from twilio.request_validator import RequestValidator, add_port, remove_port

from domain.contacts import ContactId, InvalidContactId, whatsapp_contact
from domain.messages import (
    Channel,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    Location,
    Media,
    WebhookBatch,
)

from .payloads import MessageForm, StatusForm

PROVIDER = "twilio"
WHATSAPP_PREFIX = "whatsapp:"

# A form as it arrives: ``parse_form``/``parse_qs`` output (every value a list), a multidict
# (Litestar's FormMultiDict, multidict.MultiDict: repeated keys), or a mapping of single values.
Form = Mapping[str, Any]

_STATES = {
    "accepted": DeliveryState.QUEUED,
    "scheduled": DeliveryState.QUEUED,
    "queued": DeliveryState.QUEUED,
    "sending": DeliveryState.SENT,
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "failed": DeliveryState.FAILED,
    "undelivered": DeliveryState.FAILED,
    "canceled": DeliveryState.FAILED,
}  # receiving, received, partially_delivered and whatever Twilio adds later are ignored
_MEDIA_KINDS = ("image", "video", "audio")  # by content type prefix; anything else is a document
_MEDIA_MAX = 10  # Twilio carries at most ten media per message


class MalformedWebhook(Exception):
    """The form is not a Twilio WhatsApp message or status callback."""


class _Params(dict[str, list[str]]):
    """Every value of every key, shaped the way ``RequestValidator.get_values`` reads multidicts."""

    def getall(self, key: str) -> list[str]:
        return self[key]


def parse_form(body: bytes) -> dict[str, list[str]]:
    """The form-urlencoded body as every key with all its values, blank values kept."""
    text = body.decode("utf-8", errors="replace")
    return parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="replace")


def webhook_url(public_url: str, path: str, query_string: str | bytes = "") -> str:
    """The URL Twilio called and signed: ``PUBLIC_URL`` + the request path + its raw query."""
    query = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    return public_url.rstrip("/") + path + (f"?{query}" if query else "")


def verify_signature(url: str, params: Form, signature: str | None, auth_token: str) -> bool:
    """True when ``X-Twilio-Signature`` is Twilio's signature of ``url`` and every parameter.

    The string to sign is built by twilio's own ``RequestValidator`` (sorted keys, repeated
    keys, the URL with and without the scheme's port, as the SDK accepts both), and compared
    in constant time (the SDK's ``compare`` is a hand-rolled loop).
    """
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    values = _Params(form_values(params))
    try:
        parsed = urlparse(url)
        candidates = {remove_port(parsed), add_port(parsed)}
    except ValueError:  # a port that is not a number
        return False
    given = signature.strip().encode("utf-8", "replace")
    return any(
        hmac.compare_digest(validator.compute_signature(candidate, values).encode(), given)
        for candidate in candidates
    )


def form_values(form: Form) -> dict[str, list[str]]:
    """Every key with all its values, from any of the shapes a form arrives in."""
    values: dict[str, list[str]] = {}
    for key, value in form.items():  # a multidict yields each repeated key once per value
        listed: Iterable[Any] = value if isinstance(value, (list, tuple)) else (value,)
        values.setdefault(str(key), []).extend(str(item) for item in listed)
    return values


def _flat(form: Form) -> dict[str, str]:
    return {key: items[0] for key, items in form_values(form).items() if items}


def parse_webhook(form: Form, *, now: float) -> WebhookBatch:
    """The one message of an inbound messaging webhook; ``now`` is its arrival time."""
    flat = _flat(form)
    fields = msgspec.convert(flat, MessageForm)
    if not fields.MessageSid:
        raise MalformedWebhook("the form has no MessageSid: not a Twilio message")
    contact, address = _sender(fields)
    content = _content(fields, flat)
    message = InboundMessage(
        channel=Channel.WHATSAPP,
        provider=PROVIDER,
        provider_message_id=fields.MessageSid,
        contact=contact,
        reply_address=address,
        received_at=now,
        profile_name=fields.ProfileName or None,
        phone=contact.phone,
        **content,
    )
    return WebhookBatch(messages=(message,))


def _sender(fields: MessageForm) -> tuple[ContactId, str]:
    """The contact (``WaId``, else ``From``) and the address to reply to (``whatsapp:+…``)."""
    sender = fields.From or ""
    is_whatsapp = sender[: len(WHATSAPP_PREFIX)].lower() == WHATSAPP_PREFIX
    for raw in (fields.WaId, sender if is_whatsapp else None):
        if not raw:
            continue
        try:
            contact = whatsapp_contact(raw)
        except InvalidContactId:
            continue
        if contact.phone is not None:
            return contact, sender if is_whatsapp else f"{WHATSAPP_PREFIX}{contact.phone}"
    raise MalformedWebhook(f"message {fields.MessageSid} names no WhatsApp sender (From={fields.From!r})")


# Where a list-picker reply's item id is: not documented (PROVIDERS.md 6), so read defensively.
_LIST_ID_FIELDS = ("ListId", "ButtonPayload")


def _content(fields: MessageForm, flat: Mapping[str, str]) -> dict[str, Any]:
    """What the message says: text, a tapped option, media, a location."""
    if fields.ListId or fields.ListTitle:
        choice = next((flat[name] for name in _LIST_ID_FIELDS if flat.get(name)), None)
        return {"text": fields.Body or fields.ListTitle or "", "choice_id": choice}
    if fields.ButtonPayload:
        return {"text": fields.ButtonText or fields.Body, "choice_id": fields.ButtonPayload}
    content: dict[str, Any] = {"text": fields.Body}
    media = _media(fields, flat)
    if media:
        content["media"] = media
    location = _location(fields)
    if location is not None:
        content["location"] = location
    return content


def _media(fields: MessageForm, flat: Mapping[str, str]) -> tuple[Media, ...]:
    try:
        count = min(int(fields.NumMedia or 0), _MEDIA_MAX)
    except ValueError:
        count = _MEDIA_MAX  # garbled: look at whatever MediaUrlN keys came
    attachments = []
    for index in range(count):
        url = flat.get(f"MediaUrl{index}")
        if not url:
            continue
        content_type = flat.get(f"MediaContentType{index}") or None
        caption = (fields.Body or None) if not attachments else None  # one caption, on the first
        attachments.append(
            Media(kind=_media_kind(content_type), reference=url, mime_type=content_type, caption=caption)
        )
    return tuple(attachments)


def _media_kind(content_type: str | None) -> str:
    major = (content_type or "").partition("/")[0].strip().lower()
    return major if major in _MEDIA_KINDS else "document"


def _location(fields: MessageForm) -> Location | None:
    if not fields.Latitude or not fields.Longitude:
        return None
    try:
        latitude, longitude = float(fields.Latitude), float(fields.Longitude)
    except ValueError:
        return None
    return Location(
        latitude=latitude, longitude=longitude, name=fields.Label or None, address=fields.Address or None
    )


def parse_status_callback(form: Form, *, now: float) -> WebhookBatch:
    """The delivery status a status callback reports; an unknown status is an empty batch."""
    fields = msgspec.convert(_flat(form), StatusForm)
    status = fields.MessageStatus or fields.SmsStatus
    if not fields.MessageSid or not status:
        raise MalformedWebhook("the form has no MessageSid or MessageStatus: not a Twilio status callback")
    state = _STATES.get(status.strip().lower())
    if state is None:
        return WebhookBatch()
    error_code = (fields.ErrorCode or "").strip() or None
    return WebhookBatch(
        statuses=(
            DeliveryStatus(
                provider=PROVIDER,
                provider_message_id=fields.MessageSid,
                state=state,
                at=now,
                error_code=error_code if state is DeliveryState.FAILED else None,
            ),
        )
    )

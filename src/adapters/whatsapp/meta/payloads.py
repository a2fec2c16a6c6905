"""msgspec Structs mirroring the Meta WhatsApp Cloud API's JSON (webhooks and /messages answers).

Unknown fields are accepted (msgspec's default): Meta adds fields without warning. Lists a
single bad item must not spoil (``messages``, ``statuses``, ``contacts``, ``message_echoes``)
are kept as ``msgspec.Raw`` and decoded one item at a time by the webhook parser, and a change
is decoded only when its ``field`` is one we read. Field names follow Meta's JSON.
See PROVIDERS.md section 2.
"""

from __future__ import annotations

import msgspec


class Profile(msgspec.Struct, frozen=True):
    name: str | None = None
    username: str | None = None


class Contact(msgspec.Struct, frozen=True):
    """``value.contacts[]``: who a message is from (phone, BSUID, profile)."""

    wa_id: str | None = None
    user_id: str | None = None
    profile: Profile | None = None


class Metadata(msgspec.Struct, frozen=True):
    display_phone_number: str | None = None
    phone_number_id: str | None = None


class Text(msgspec.Struct, frozen=True):
    body: str = ""


class Reply(msgspec.Struct, frozen=True):
    """An ``interactive.button_reply`` or ``interactive.list_reply``."""

    id: str
    title: str = ""
    description: str | None = None


class Interactive(msgspec.Struct, frozen=True):
    type: str = ""
    button_reply: Reply | None = None
    list_reply: Reply | None = None


class TemplateButton(msgspec.Struct, frozen=True):
    """Legacy ``type="button"``: a template quick-reply tap."""

    payload: str | None = None
    text: str = ""


class MediaObject(msgspec.Struct, frozen=True):
    """``image``/``video``/``audio``/``document``/``sticker`` of an inbound message."""

    id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    url: str | None = None


class LocationObject(msgspec.Struct, frozen=True):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class CardName(msgspec.Struct, frozen=True):
    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class CardPhone(msgspec.Struct, frozen=True):
    phone: str | None = None
    wa_id: str | None = None
    type: str | None = None


class ContactCard(msgspec.Struct, frozen=True):
    """One card of a ``type="contacts"`` message."""

    name: CardName | None = None
    phones: list[CardPhone] = []


class Context(msgspec.Struct, frozen=True):
    id: str | None = None
    from_: str | None = msgspec.field(default=None, name="from")
    forwarded: bool = False


class Message(msgspec.Struct, frozen=True):
    """``value.messages[]`` (and ``value.message_echoes[]``, which adds ``to``)."""

    id: str
    type: str = ""
    from_: str | None = msgspec.field(default=None, name="from")
    from_user_id: str | None = None
    to: str | None = None
    to_user_id: str | None = None
    timestamp: str | int | None = None
    group_id: str | None = None
    context: Context | None = None
    text: Text | None = None
    interactive: Interactive | None = None
    button: TemplateButton | None = None
    image: MediaObject | None = None
    video: MediaObject | None = None
    audio: MediaObject | None = None
    document: MediaObject | None = None
    sticker: MediaObject | None = None
    location: LocationObject | None = None
    contacts: list[ContactCard] | None = None


class ErrorObject(msgspec.Struct, frozen=True):
    code: int | None = None
    title: str | None = None
    message: str | None = None


class Status(msgspec.Struct, frozen=True):
    """``value.statuses[]``: progress of a message we sent."""

    id: str
    status: str
    timestamp: str | int | None = None
    recipient_id: str | None = None
    errors: list[ErrorObject] = []
    biz_opaque_callback_data: str | None = None


class Value(msgspec.Struct, frozen=True):
    """``entry[].changes[].value`` of a ``messages`` or ``smb_message_echoes`` change."""

    metadata: Metadata | None = None
    contacts: list[msgspec.Raw] = []
    messages: list[msgspec.Raw] = []
    statuses: list[msgspec.Raw] = []
    message_echoes: list[msgspec.Raw] = []


class Change(msgspec.Struct, frozen=True):
    field: str = ""
    value: msgspec.Raw = msgspec.Raw()


class Entry(msgspec.Struct, frozen=True):
    id: str | None = None
    changes: list[Change] = []


class Notification(msgspec.Struct, frozen=True):
    """The whole webhook body."""

    object: str
    entry: list[Entry]


# --- /messages answers -----------------------------------------------------------------------


class SentMessage(msgspec.Struct, frozen=True):
    id: str | None = None


class SendResponse(msgspec.Struct, frozen=True):
    """A 2xx answer of ``POST /{phone_number_id}/messages``."""

    messages: list[SentMessage] = []


class GraphError(msgspec.Struct, frozen=True):
    code: int | None = None
    error_subcode: int | None = None
    message: str | None = None
    type: str | None = None
    fbtrace_id: str | None = None


class ErrorResponse(msgspec.Struct, frozen=True):
    """A non-2xx Graph API answer: ``{"error": {...}}``."""

    error: GraphError | None = None

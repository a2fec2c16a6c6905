"""What crosses a boundary about messages: inbound messages, delivery statuses, replies.

Every provider adapter translates its own payloads into these Structs at once; nothing
provider-shaped travels further. Replies form a tagged union; each channel adapter renders
the richest form its channel carries and falls back to text where it must.
"""

from __future__ import annotations

import enum

import msgspec

from domain.contacts import ChatKind, ContactId


class Channel(enum.StrEnum):
    """The messaging network a contact writes on."""

    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    SANDBOX = "sandbox"


class Media(msgspec.Struct, frozen=True, kw_only=True):
    """A picture, document, audio or video attached to an inbound message."""

    kind: str
    reference: str
    mime_type: str | None = None
    caption: str | None = None
    filename: str | None = None


class Location(msgspec.Struct, frozen=True, kw_only=True):
    """A shared location."""

    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class SharedContact(msgspec.Struct, frozen=True, kw_only=True):
    """A contact card the user shared."""

    phone: str | None = None
    name: str | None = None


class InboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message a provider delivered, translated out of its payload."""

    channel: Channel
    provider: str
    provider_message_id: str
    contact: ContactId
    chat_kind: ChatKind = ChatKind.USER
    from_me: bool = False
    reply_address: str
    received_at: float
    text: str = ""
    choice_id: str | None = None
    profile_name: str | None = None
    phone: str | None = None
    media: tuple[Media, ...] = ()
    location: Location | None = None
    shared_contact: SharedContact | None = None
    # Other ids of the same person in this payload (a Meta BSUID or a WhatsApp LID beside the
    # phone): recorded so that a later message carrying only one of them finds this contact.
    aliases: tuple[ContactId, ...] = ()
    # A provider token the answer must acknowledge (a Telegram callback query id): the
    # first reply of the turn carries it as ``reply_to`` so its sender can answer it.
    ack_token: str | None = None

    @property
    def is_from_user(self) -> bool:
        """True when a person wrote this in a one-to-one chat (not us, a group or a status)."""
        return not self.from_me and self.chat_kind is ChatKind.USER


class DeliveryState(enum.StrEnum):
    """How far an outbound message got, in the order a provider reports progress."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class DeliveryStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's report on a message we sent."""

    provider: str
    provider_message_id: str
    state: DeliveryState
    at: float
    error_code: str | None = None
    # Our own reference the provider echoes (Meta's biz_opaque_callback_data, a Twilio
    # callback URL's query): it ties a report to a send whose answer was lost.
    tracker: str | None = None


class WebhookBatch(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one provider request carried: messages and statuses, each handled alone."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[DeliveryStatus, ...] = ()


# --- Replies -------------------------------------------------------------------------------


class Button(msgspec.Struct, frozen=True, kw_only=True):
    """One option of a menu: a stable id and the words shown."""

    id: str
    title: str
    description: str | None = None


class TextReply(msgspec.Struct, frozen=True, kw_only=True, tag="text"):
    """Plain text."""

    text: str


class ButtonsReply(msgspec.Struct, frozen=True, kw_only=True, tag="buttons"):
    """Text with a few quick-reply options (a channel without buttons numbers them)."""

    text: str
    buttons: tuple[Button, ...]
    footer: str | None = None


class ListReply(msgspec.Struct, frozen=True, kw_only=True, tag="list"):
    """Text with a longer menu, opened by a button on channels that have lists."""

    text: str
    button_label: str
    options: tuple[Button, ...]
    footer: str | None = None


class MediaReply(msgspec.Struct, frozen=True, kw_only=True, tag="media"):
    """An image or document by public URL, with an optional caption."""

    kind: str
    url: str
    caption: str | None = None
    filename: str | None = None


Reply = TextReply | ButtonsReply | ListReply | MediaReply


def reply_text(reply: Reply) -> str:
    """The reply as plain text, options numbered: what a text-only channel shows."""
    match reply:
        case TextReply(text=text):
            return text
        case ButtonsReply(text=text, buttons=options, footer=footer) | ListReply(
            text=text, options=options, footer=footer
        ):
            lines = [text, ""] + [f"{i}. {option.title}" for i, option in enumerate(options, 1)]
            if footer:
                lines += ["", footer]
            return "\n".join(lines)
        case MediaReply(url=url, caption=caption):
            return f"{caption}\n{url}" if caption else url
    raise TypeError(f"not a reply: {reply!r}")  # pragma: no cover


def reply_options(reply: Reply) -> tuple[Button, ...]:
    """The options a reply offers, in order (empty for text and media)."""
    match reply:
        case ButtonsReply(buttons=options) | ListReply(options=options):
            return options
    return ()


# WhatsApp's customer-service window: a free-form message may go out only this long after the
# contact last wrote; later, only an approved template may (PROVIDERS.md: Meta 131047, Twilio 63016).
WHATSAPP_WINDOW_SECONDS = 24 * 3600.0


def free_form_allowed(channel: Channel, last_inbound_at: float | None, now: float) -> bool:
    """Whether a free-form reply may be sent to a contact who last wrote at ``last_inbound_at``."""
    if channel is not Channel.WHATSAPP or last_inbound_at is None:
        return True
    return now - last_inbound_at < WHATSAPP_WINDOW_SECONDS


def outbox_tracker(outbox_id: int) -> str:
    """The reference a send carries so that its provider's reports name the outbox job."""
    return f"chatgate:{outbox_id}"


def tracked_outbox_id(tracker: str | None) -> int | None:
    """The outbox job a provider's echoed reference names, if it is one of ours."""
    if not tracker or not tracker.startswith("chatgate:"):
        return None
    number = tracker.removeprefix("chatgate:")
    return int(number) if number.isdigit() else None


class OutboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A reply on its way to one contact through one provider."""

    outbox_id: int
    channel: Channel
    provider: str
    contact_key: str
    address: str
    reply: Reply
    reply_to: str | None = None

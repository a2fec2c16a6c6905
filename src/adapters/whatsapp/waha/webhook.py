"""WAHA webhooks: the HMAC signature, and the translation of one event into a WebhookBatch.

MalformedWebhook   the body is not JSON, or not a WAHA event (no ``event`` name)

Only a body that is not an event at all fails. An event of a type Chatgate does not read
(``session.status``, ``presence.update``, ``message.reaction``, …) is an empty batch, and so is
one whose payload cannot be read (logged).

``message`` and ``message.any`` deliver the same message twice when both are subscribed
(PROVIDERS.md 3.1 advises it: some engines emit only ``message.any``). Both translate to the
same ``provider_message_id`` (``payload.id``), so the gateway's de-duplication drops the
second; our own messages (``fromMe``) come out with ``from_me=True`` and are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from typing import TypeVar

import msgspec

from domain.contacts import ChatKind, ContactId, classify_whatsapp_chat
from domain.messages import Channel, DeliveryState, DeliveryStatus, InboundMessage, WebhookBatch

from .content import message_content
from .jids import contact_of, preferred, same_person, user_chat_id
from .payloads import Ack, EngineData, Event, Me, Message

PROVIDER = "waha"
ALGORITHM = "sha512"

_log = logging.getLogger(__name__)

_EVENT = msgspec.json.Decoder(Event)
_ME = msgspec.json.Decoder(Me)
_MESSAGE = msgspec.json.Decoder(Message)
_ACK = msgspec.json.Decoder(Ack)
_ENGINE_DATA = msgspec.json.Decoder(EngineData)

_MESSAGE_EVENTS = frozenset({"message", "message.any"})
_ACK_EVENT = "message.ack"
# Recognised, and nothing for a conversation: session health is the operator's business, and
# group acks concern messages Chatgate never sends (it does not write to groups).
_NOTHING_TO_DO = frozenset({"session.status", "message.ack.group"})

# ack levels (PROVIDERS.md 3.3); PENDING (0) says nothing new; PLAYED (a voice note) implies READ.
_ACK_STATES = {
    -1: DeliveryState.FAILED,
    1: DeliveryState.SENT,
    2: DeliveryState.DELIVERED,
    3: DeliveryState.READ,
    4: DeliveryState.READ,
}
_ACK_NAMES = {"ERROR": -1, "PENDING": 0, "SERVER": 1, "DEVICE": 2, "READ": 3, "PLAYED": 4}

# WEBJS ``_data.type`` values that are WhatsApp notices, not something a person wrote.
_NOTICES = frozenset(
    {"e2e_notification", "notification_template", "gp2", "protocol", "call_log", "revoked", "ciphertext"}
)

T = TypeVar("T")


class MalformedWebhook(Exception):
    """The body is not a WAHA webhook event: not JSON, or the wrong shape."""


def verify_signature(body: bytes, header: str | None, key: str, *, algorithm: str | None = None) -> bool:
    """True when ``X-Webhook-Hmac`` is the hex HMAC-SHA512 of the raw body under ``key``.

    ``algorithm`` is the ``X-Webhook-Hmac-Algorithm`` header: absent means sha512 (the only one
    WAHA uses); any other value is refused.
    """
    if not header or not key:
        return False
    if algorithm is not None and algorithm.strip().lower() != ALGORITHM:
        return False
    expected = hmac.new(key.encode(), body, hashlib.sha512).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode("utf-8", "replace"))


def parse_webhook(body: bytes, *, now: float) -> WebhookBatch:
    """The messages and statuses of one WAHA event; ``now`` stands in for missing timestamps."""
    try:
        event = _EVENT.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedWebhook(f"not a WAHA event: {exc}") from exc
    at = _seconds(event.timestamp, now)
    if event.event in _MESSAGE_EVENTS:
        message = _decode(_MESSAGE, event.payload, event.event)
        inbound = message and _inbound(message, _me(event.me), at)
        return WebhookBatch(messages=(inbound,)) if inbound else WebhookBatch()
    if event.event == _ACK_EVENT:
        ack = _decode(_ACK, event.payload, event.event)
        status = ack and _delivery_status(ack, at)
        return WebhookBatch(statuses=(status,)) if status else WebhookBatch()
    if event.event not in _NOTHING_TO_DO:
        _log.debug("ignored a WAHA %r event", event.event)
    return WebhookBatch()


def _decode(decoder: msgspec.json.Decoder[T], raw: msgspec.Raw, event: str) -> T | None:
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        _log.warning("skipped a WAHA %r event whose payload cannot be read: %s", event, exc)
        return None


def _me(raw: msgspec.Raw) -> ContactId | None:
    if not raw:
        return None
    try:
        return contact_of(_ME.decode(raw).id)
    except msgspec.DecodeError:
        return None


def _engine_data(message: Message) -> EngineData:
    if not message.data:
        return EngineData()
    try:
        return _ENGINE_DATA.decode(message.data)
    except msgspec.DecodeError as exc:
        _log.debug("WAHA message %s: unreadable _data (%s); reading the payload alone", message.id, exc)
        return EngineData()


# --- Messages -------------------------------------------------------------------------------


def _inbound(message: Message, me: ContactId | None, at: float) -> InboundMessage | None:
    data = _engine_data(message)
    if data.type in _NOTICES:
        return None
    chat = _chat(message, me)
    kind = classify_whatsapp_chat(chat)
    sender = _sender(message, data, chat, kind)
    identities = same_person(sender, _alternatives(data))
    contact = preferred(identities)
    from_me = message.fromMe or (me is not None and contact == me)
    if contact is None:
        if kind is ChatKind.USER:
            _log.warning("skipped WAHA message %s: its sender cannot be identified", message.id)
            return None
        # Nobody we could answer (a channel post, a status without its poster): the message
        # still comes out, marked, so that it is counted as ignored; nothing keys on this id.
        contact = ContactId(channel=Channel.WHATSAPP.value, value=chat.strip().lower())
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider=PROVIDER,
        provider_message_id=message.id,
        contact=contact,
        chat_kind=kind,
        from_me=from_me,
        # WAHA answers in the chat the person wrote from: ``<digits>@c.us`` or ``<digits>@lid``.
        reply_address=(user_chat_id(chat) if kind is ChatKind.USER else None) or chat.strip(),
        received_at=_seconds(message.timestamp, at),
        profile_name=None if from_me else _profile_name(data),
        phone=contact.phone,
        aliases=tuple(other for other in identities if other != contact),
        # The reply marks this message seen before it goes out (WahaSender).
        ack_token=message.id if kind is ChatKind.USER and not from_me else None,
        **message_content(message, data),
    )


def _chat(message: Message, me: ContactId | None) -> str:
    """The chat id. WEBJS writes our own messages ``from`` us ``to`` the chat; NOWEB keeps
    ``from`` = the chat (PROVIDERS.md 3.1; WAHA's WAMessage docs)."""
    chat = message.from_ or message.to or ""
    if message.fromMe and message.to and me is not None and contact_of(chat) == me:
        return message.to
    return chat


def _sender(message: Message, data: EngineData, chat: str, kind: ChatKind) -> str | None:
    """Who wrote it: the chat itself one-to-one; in groups and statuses, the participant."""
    if kind is ChatKind.USER:
        return chat
    key, info = data.key, data.Info
    return (
        message.participant
        or message.author
        or (key.participant if key is not None else None)
        or (info.Sender if info is not None else None)
    )


def _alternatives(data: EngineData) -> list[tuple[str | None, str | None]]:
    """The ``(jid, other form)`` pairs the engine wrote: a LID and the phone of one person."""
    pairs: list[tuple[str | None, str | None]] = []
    if data.key is not None:  # NOWEB / Baileys
        key = data.key
        pairs += [(key.remoteJid, key.remoteJidAlt), (key.remoteJid, key.senderPn)]
        pairs += [(key.participant, key.participantAlt), (key.participant, key.participantPn)]
    if data.Info is not None:  # GOWS / whatsmeow
        pairs.append((data.Info.Sender, data.Info.SenderAlt))
    return pairs


def _profile_name(data: EngineData) -> str | None:
    """Not normalised by WAHA: NOWEB ``pushName``, GOWS ``Info.PushName``, WEBJS ``notifyName``."""
    info_name = data.Info.PushName if data.Info is not None else None
    for name in (data.pushName, info_name, data.notifyName):
        if name and name.strip():
            return name.strip()
    return None


# --- Statuses -------------------------------------------------------------------------------


def _delivery_status(ack: Ack, at: float) -> DeliveryStatus | None:
    if ack.fromMe is False:
        return None  # a receipt for someone else's message: not one we sent
    level = ack.ack if ack.ack is not None else _ACK_NAMES.get((ack.ackName or "").upper())
    state = _ACK_STATES.get(level) if level is not None else None
    if state is None:
        return None
    return DeliveryStatus(provider=PROVIDER, provider_message_id=ack.id, state=state, at=at)


def _seconds(timestamp: object, fallback: float) -> float:
    """A Unix time in seconds (milliseconds are recognised by their size), else ``fallback``."""
    if isinstance(timestamp, bool):
        return fallback
    try:
        seconds = float(timestamp) if isinstance(timestamp, (int, float, str)) else 0.0
    except ValueError:
        return fallback
    if not math.isfinite(seconds) or seconds <= 0:
        return fallback
    return seconds / 1000.0 if seconds > 1e11 else seconds  # milliseconds: the envelope's clock

"""msgspec Structs mirroring WAHA's JSON: webhook events, their payloads, and /api answers.

Unknown fields are accepted (msgspec's default): WAHA and its engines add fields without
warning. The envelope keeps ``payload`` and ``me`` as ``msgspec.Raw`` so that one event type's
payload is decoded only when it is one we read, and a bad part spoils nothing else.

``_data`` is the engine's raw message (NOWEB = Baileys, GOWS = whatsmeow, WEBJS =
whatsapp-web.js) and "can change at any time" (PROVIDERS.md 3): ``EngineData`` declares only
the few fields we read, each optional, and the parser survives it failing to decode.
Timestamps are typed ``object`` because engines have sent numbers, numeric strings and (old
NOWEB) Long objects. Field names follow WAHA's JSON. See PROVIDERS.md section 3.
"""

from __future__ import annotations

import msgspec


class Event(msgspec.Struct, frozen=True):
    """The whole webhook body: one event of one session."""

    event: str
    session: str | None = None
    id: str | None = None
    timestamp: object = None  # Unix milliseconds
    engine: str | None = None
    me: msgspec.Raw = msgspec.Raw()
    payload: msgspec.Raw = msgspec.Raw()


class Me(msgspec.Struct, frozen=True):
    """The envelope's ``me``: the account the session runs."""

    id: str | None = None
    pushName: str | None = None


class MediaInfo(msgspec.Struct, frozen=True):
    """``payload.media``; ``url`` is null when WAHA did not download the file."""

    url: str | None = None
    mimetype: str | None = None
    filename: str | None = None


class LocationInfo(msgspec.Struct, frozen=True):
    """``payload.location``; old WAHA versions wrote the coordinates as strings."""

    latitude: float | str | None = None
    longitude: float | str | None = None
    description: str | None = None
    name: str | None = None
    address: str | None = None


class Message(msgspec.Struct, frozen=True):
    """The payload of ``message`` and ``message.any``."""

    id: str
    timestamp: object = None  # Unix seconds
    from_: str | None = msgspec.field(default=None, name="from")
    fromMe: bool = False
    source: str | None = None
    to: str | None = None
    participant: str | None = None
    author: str | None = None  # legacy name of ``participant``
    body: str | None = None
    hasMedia: bool = False
    media: MediaInfo | None = None
    location: LocationInfo | None = None
    vCards: list[str] | None = None
    data: msgspec.Raw = msgspec.field(default=msgspec.Raw(), name="_data")


class Ack(msgspec.Struct, frozen=True):
    """The payload of ``message.ack``: how far one of our messages got."""

    id: str
    fromMe: bool | None = None
    ack: int | None = None
    ackName: str | None = None


# --- _data, per engine (every field optional; paths partly unverified, PROVIDERS.md 3.1, 6) ---


class EngineKey(msgspec.Struct, frozen=True):
    """NOWEB ``_data.key``: the chat and sender, with their other form (LID or phone)."""

    remoteJid: str | None = None
    remoteJidAlt: str | None = None
    participant: str | None = None
    participantAlt: str | None = None
    senderPn: str | None = None  # older Baileys, before remoteJidAlt
    participantPn: str | None = None


class EngineInfo(msgspec.Struct, frozen=True):
    """GOWS ``_data.Info``: whatsmeow's MessageInfo (JIDs serialised as strings)."""

    Chat: str | None = None
    Sender: str | None = None
    SenderAlt: str | None = None
    PushName: str | None = None


class SingleSelectReply(msgspec.Struct, frozen=True):
    selectedRowId: str | None = None  # Baileys / whatsapp-web.js spelling
    selectedRowID: str | None = None  # whatsmeow spelling


class ListResponse(msgspec.Struct, frozen=True):
    """A ``listResponseMessage``: the row the user picked."""

    title: str | None = None
    singleSelectReply: SingleSelectReply | None = None


class ButtonsResponse(msgspec.Struct, frozen=True):
    """A ``buttonsResponseMessage``: the reply button the user tapped."""

    selectedButtonId: str | None = None
    selectedButtonID: str | None = None
    selectedDisplayText: str | None = None


class EngineMessage(msgspec.Struct, frozen=True):
    """The WhatsApp protobuf message: NOWEB ``_data.message``, GOWS ``_data.Message``."""

    listResponseMessage: ListResponse | None = None
    buttonsResponseMessage: ButtonsResponse | None = None


class EngineData(msgspec.Struct, frozen=True):
    """The fields of ``_data`` Chatgate reads, whichever engine wrote them."""

    key: EngineKey | None = None  # NOWEB
    pushName: str | None = None  # NOWEB
    message: EngineMessage | None = None  # NOWEB
    Info: EngineInfo | None = None  # GOWS
    Message: EngineMessage | None = None  # GOWS
    notifyName: str | None = None  # WEBJS
    type: str | None = None  # WEBJS message type
    selectedButtonId: str | None = None  # WEBJS
    listResponse: ListResponse | None = None  # WEBJS


# --- /api answers ----------------------------------------------------------------------------


class SerializedId(msgspec.Struct, frozen=True):
    """WEBJS writes a message id as an object; ``_serialized`` is WAHA's string form."""

    serialized: str | None = msgspec.field(default=None, name="_serialized")


class MessageKey(msgspec.Struct, frozen=True):
    """NOWEB answers with Baileys' message ``key``."""

    id: str | None = None
    remoteJid: str | None = None
    fromMe: bool | None = None


class SentMessage(msgspec.Struct, frozen=True):
    """A 2xx answer of ``POST /api/send…``: the created message, shaped by the engine."""

    id: str | SerializedId | None = None
    key: MessageKey | None = None


class ErrorResponse(msgspec.Struct, frozen=True):
    """A non-2xx answer: ``{message, error, statusCode}`` (NestJS; ``message`` may be a list).

    A session that is not ``WORKING`` answers 422 with the session's ``status`` and the
    ``expected`` ones instead (observed, devlikeapro/waha#1329).
    """

    message: str | list[str] | None = None
    error: str | None = None
    statusCode: int | None = None
    status: str | None = None
    expected: list[str] | None = None

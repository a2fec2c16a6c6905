"""msgspec Structs mirroring the form parameters of Twilio's WhatsApp webhooks.

Twilio posts ``application/x-www-form-urlencoded`` bodies; the webhook parser takes the first
value of each key and converts that flat mapping into these Structs. Unknown keys are accepted
(msgspec's default): Twilio adds parameters without notice. Every value is a string, as sent;
the numbered media keys (``MediaUrl0``, ``MediaContentType0`` …) are read by the parser itself.
Field names follow Twilio's parameter names. See PROVIDERS.md sections 1.1 and 1.3.
"""

from __future__ import annotations

import msgspec


class MessageForm(msgspec.Struct, frozen=True, kw_only=True):
    """The inbound messaging webhook: one message a WhatsApp user sent to our number."""

    MessageSid: str | None = None
    AccountSid: str | None = None
    From: str | None = None
    To: str | None = None
    WaId: str | None = None
    ProfileName: str | None = None
    Body: str = ""
    MessageType: str | None = None
    NumMedia: str | None = None
    ButtonPayload: str | None = None
    ButtonText: str | None = None
    ListId: str | None = None
    ListTitle: str | None = None
    Latitude: str | None = None
    Longitude: str | None = None
    Address: str | None = None
    Label: str | None = None
    OriginalRepliedMessageSid: str | None = None


class StatusForm(msgspec.Struct, frozen=True, kw_only=True):
    """A status callback: how far one of our messages got."""

    MessageSid: str | None = None
    MessageStatus: str | None = None
    SmsStatus: str | None = None  # the legacy duplicate of MessageStatus
    ErrorCode: str | None = None
    From: str | None = None
    To: str | None = None
    AccountSid: str | None = None

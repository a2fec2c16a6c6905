"""msgspec codecs for the Structs stored as JSON blobs."""

from __future__ import annotations

import msgspec

from domain.conversations import Conversation
from domain.events import Event
from domain.flows import FlowEvent
from domain.messages import InboundMessage, Reply
from domain.orders import Order

encode = msgspec.json.Encoder().encode
decode_inbound = msgspec.json.Decoder(InboundMessage).decode
decode_conversation = msgspec.json.Decoder(Conversation).decode
decode_reply = msgspec.json.Decoder(Reply).decode
decode_event = msgspec.json.Decoder(Event).decode
decode_fields = msgspec.json.Decoder(dict[str, str]).decode
decode_order = msgspec.json.Decoder(Order).decode


def event_kind(event: Event) -> str:
    """The event's kind: its tag (``lead.captured``), or a pack's own name (``onboarding.completed``)."""
    if isinstance(event, FlowEvent):
        return event.name
    return type(event).__struct_config__.tag  # type: ignore[return-value]

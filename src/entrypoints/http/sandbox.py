"""The sandbox channel: a person chats with the bot in the browser, no provider needed."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, JSONBody

from application.handle_inbound import HandleInbound, InboundOutcome
from adapters.sql.transcripts import SqlTranscriptQuery
from application.ports.storage import TranscriptEntry
from domain.contacts import ContactId
from domain.messages import Channel, InboundMessage, WebhookBatch

_PAGE = Path(__file__).with_name("static") / "index.html"
_CONTACT = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")


class SandboxMessage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the browser sends: who is writing, and the text or the pressed option."""

    contact: str
    text: str = ""
    choice_id: str | None = None
    message_id: str | None = None


class SandboxAccepted(msgspec.Struct, frozen=True, kw_only=True):
    """What became of the message."""

    outcome: str
    message_id: str


class Transcript(msgspec.Struct, frozen=True, kw_only=True):
    """The conversation so far."""

    contact: str
    messages: list[TranscriptEntry]


@get("/", media_type="text/html", include_in_schema=False)
async def page() -> Response[bytes]:
    """The sandbox chat and dashboard."""
    return Response(_PAGE.read_bytes(), media_type="text/html")


@post("/sandbox/messages", status_code=202)
async def send(data: JSONBody[SandboxMessage], handle_inbound: NamedDependency[HandleInbound]) -> SandboxAccepted:
    """A message from the sandbox contact, handled exactly like a provider's."""
    message_id = data.message_id or uuid.uuid4().hex
    outcome = (await handle_inbound(WebhookBatch(messages=(_inbound(data, message_id),))))[0]
    return SandboxAccepted(outcome=InboundOutcome(outcome).value, message_id=message_id)


@get("/sandbox/messages")
async def transcript(contact: FromQuery[str], transcripts: NamedDependency[SqlTranscriptQuery]) -> Transcript:
    """The sandbox contact's conversation, oldest first."""
    key = _contact(contact).key
    return Transcript(contact=contact, messages=await transcripts.transcript(key, 200))


def _contact(name: str) -> ContactId:
    if not _CONTACT.match(name):
        raise ValidationException("contact must be 1 to 64 letters, digits or . _ + -")
    return ContactId(channel=Channel.SANDBOX.value, value=name)


def _inbound(data: SandboxMessage, message_id: str) -> InboundMessage:
    return InboundMessage(
        channel=Channel.SANDBOX,
        provider="sandbox",
        provider_message_id=message_id,
        contact=_contact(data.contact),
        reply_address=data.contact,
        received_at=time.time(),
        text=data.text,
        choice_id=data.choice_id,
        profile_name=data.contact,
    )


ROUTES = [page, send, transcript]

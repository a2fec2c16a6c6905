"""Domain events: facts a conversation produced, handed to the business's other systems."""

from __future__ import annotations

import msgspec


class LeadCaptured(msgspec.Struct, frozen=True, kw_only=True, tag="lead.captured"):
    """A lead's form was completed."""

    contact_key: str
    contact_label: str
    fields: dict[str, str]
    budget_amount: int | None = None
    at: float


class QuestionReceived(msgspec.Struct, frozen=True, kw_only=True, tag="question.received"):
    """A contact asked a question a person should answer."""

    contact_key: str
    contact_label: str
    question: str
    at: float


class HandoffRequested(msgspec.Struct, frozen=True, kw_only=True, tag="handoff.requested"):
    """The bot gave a conversation to a person (after repeated invalid answers, or on request)."""

    contact_key: str
    contact_label: str
    reason: str
    last_text: str = ""
    at: float


Event = LeadCaptured | QuestionReceived | HandoffRequested

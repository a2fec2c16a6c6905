"""A conversation's state, one turn of input, and what a bot decides about it.

A bot is pure: given the stored conversation and the turn (the merged text of a burst,
with "now" as a number), it returns the next conversation, the replies and the events.
The application loads, locks, saves and sends; the bot only decides.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from domain.events import Event
from domain.leads import Lead
from domain.messages import Reply


class Turn(msgspec.Struct, frozen=True, kw_only=True):
    """What the contact said since the bot last answered (a burst arrives merged)."""

    text: str
    choice_id: str | None = None
    has_media: bool = False
    # The provider's references of what was attached (a media id or URL), in order.
    media: tuple[str, ...] = ()
    contact_label: str
    now: float


class Conversation(msgspec.Struct, frozen=True, kw_only=True):
    """One contact's conversation with one bot."""

    contact_key: str
    bot: str
    step: str = "start"
    language: str = "id"
    data: dict[str, str] = {}
    opted_out: bool = False
    lead: Lead | None = None
    started_at: float
    updated_at: float


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """A bot's answer to one turn: the conversation after it, the replies, the events."""

    conversation: Conversation
    replies: tuple[Reply, ...] = ()
    events: tuple[Event, ...] = ()


class Bot(Protocol):
    """A conversation's rules: how it starts and how it answers a turn."""

    name: str

    def start(self, contact_key: str, now: float, language: str | None = None) -> Conversation:
        """A fresh conversation for a contact who has none (or whose last one expired)."""
        ...

    def decide(self, conversation: Conversation, turn: Turn) -> Decision:
        """The next state, the replies (usually one) and the events for this turn."""
        ...

    def expire(self, conversation: Conversation, now: float) -> Conversation:
        """The conversation after SESSION_TTL_HOURS of silence: usually a fresh one."""
        ...

    def release(self, conversation: Conversation, now: float) -> Conversation:
        """An operator hands a conversation back to the bot."""
        ...

"""Operator notices: what a person must hear about, addressed to the admin chat."""

from __future__ import annotations

from collections.abc import Sequence

from application.ports.storage import NewOutbound, OutboxKind
from domain.events import Event, HandoffRequested, QuestionReceived
from domain.messages import Channel, TextReply
from domain.notices import admin_notice, undeliverable_notice


class AdminChannel:
    """Where operator notices go (a Telegram chat), or nowhere when unset."""

    def __init__(self, chat_id: str | None, provider: str = "telegram_admin") -> None:
        self.chat_id = chat_id
        self.provider = provider

    def notices_for(self, events: Sequence[Event]) -> tuple[NewOutbound, ...]:
        """One outbox job per event an operator must hear about."""
        return tuple(
            self._notice(admin_notice(event))
            for event in events
            if self.chat_id and isinstance(event, (HandoffRequested, QuestionReceived))
        )

    def undeliverable(self, contact_key: str, error: str) -> tuple[NewOutbound, ...]:
        """The notice that a reply could not be delivered and was set aside."""
        return (self._notice(undeliverable_notice(contact_key, error)),) if self.chat_id else ()

    def _notice(self, text: str) -> NewOutbound:
        return NewOutbound(
            kind=OutboxKind.ADMIN_NOTICE,
            lane="admin",
            channel=Channel.TELEGRAM,
            provider=self.provider,
            address=self.chat_id or "",
            reply=TextReply(text=text),
        )

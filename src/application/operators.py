"""What operators do through the admin API: hand a conversation back to the bot."""

from __future__ import annotations

from application.ports.coordination import Clock, ContactLock
from application.ports.storage import ConversationStore, StaleConversation, TurnOutcome
from application.bots import BotSource


class ConversationNotFound(Exception):
    """No conversation is stored for that contact."""


class ReleaseConversation:
    """An operator releases a conversation the bot had handed to a person."""

    def __init__(self, *, store: ConversationStore, lock: ContactLock, bots: BotSource, clock: Clock) -> None:
        self._store = store
        self._lock = lock
        self._bots = bots
        self._clock = clock

    async def __call__(self, contact_key: str) -> None:
        """Release it; the contact's next message is answered by the bot again."""
        async with self._lock.hold(contact_key):
            conversation, version = await self._store.get(contact_key)
            if conversation is None:
                raise ConversationNotFound(contact_key)
            now = self._clock.now()
            released = (await self._bots.current()).release(conversation, now)
            outcome = TurnOutcome(
                contact_key=contact_key, conversation=released, expected_version=version,
                consumed=(), at=now,
            )
            if not (await self._store.save([outcome]))[0]:
                raise StaleConversation(f"the conversation of {contact_key} changed meanwhile; try again")

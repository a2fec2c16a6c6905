"""Sending to a channel, and the few ways a send can fail.

SendFailed
├── RateLimited(retry_after)   the provider asked us to slow down; retry after a pause
├── TemporaryFailure           timeout, network error, 5xx: retry with backoff
└── PermanentFailure(code)     the provider refused this message for good: never retry
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from domain.messages import OutboundMessage


class SendFailed(Exception):
    """A send did not go through."""

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RateLimited(SendFailed):
    """The provider throttled us; ``retry_after`` seconds is its hint, when it gave one.

    ``per_recipient``: only messages to this one contact are throttled (Meta's pair rate
    limit), so only that contact's lane slows; otherwise the whole sending number does.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None, code: str | None = None,
                 per_recipient: bool = False) -> None:
        super().__init__(reason, code=code)
        self.retry_after = retry_after
        self.per_recipient = per_recipient


class TemporaryFailure(SendFailed):
    """A failure that may pass: worth another try later."""


class PermanentFailure(SendFailed):
    """The provider will never accept this message as it is."""


class SendReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """What the provider answered to an accepted send."""

    provider_message_id: str | None = None


class ChannelSender(Protocol):
    """Delivers one outbound message through one provider."""

    provider: str

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Send it, or raise one of this module's errors."""
        ...


class EventSink(Protocol):
    """Where domain events go for the business's other systems (an integrator's endpoint)."""

    async def deliver(self, event_id: int, kind: str, contact_key: str, payload: bytes, at: float) -> None:
        """Deliver one event, or raise one of this module's errors."""
        ...

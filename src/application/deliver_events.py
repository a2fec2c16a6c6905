"""The use case that hands recorded domain events to the integrator (EVENTS_WEBHOOK_URL).

Events were recorded in the same transaction as the turn that produced them, so none is lost;
each is delivered at least once (its id rides along, so the receiver can drop a repeat), with
the outbox's retry policy; one that keeps failing is set aside for operators.
"""

from __future__ import annotations

import asyncio
import random

from application.dispatch_outbox import RetryPolicy
from application.ports.channels import EventSink, SendFailed
from application.ports.coordination import Clock
from application.ports.storage import EventFeed, StoredEvent


class DeliverEvents:
    """Claim due events and deliver them."""

    def __init__(self, *, feed: EventFeed, sink: EventSink, clock: Clock, policy: RetryPolicy = RetryPolicy(),
                 batch_size: int = 100, rng: random.Random | None = None) -> None:
        self._feed = feed
        self._sink = sink
        self._clock = clock
        self._policy = policy
        self._batch_size = batch_size
        self._rng = rng or random.Random()

    async def __call__(self) -> int:
        """Deliver one batch; how many were attempted."""
        claimed = await self._feed.claim_events(self._clock.now(), self._batch_size)
        outcomes = await asyncio.gather(*(self._deliver(event) for event in claimed))
        await self._feed.events_delivered([e.id for e, ok in zip(claimed, outcomes) if ok], self._clock.now())
        return len(claimed)

    async def _deliver(self, event: StoredEvent) -> bool:
        try:
            await self._sink.deliver(event.id, event.kind, event.contact_key, event.payload, event.created_at)
        except SendFailed as exc:
            now = self._clock.now()
            retry_at = None if self._policy.gives_up(event.attempts, exc) else now + self._policy.delay(
                event.attempts, self._rng)
            await self._feed.event_failed(event.id, retry_at=retry_at, error=exc.reason, now=now)
            return False
        return True

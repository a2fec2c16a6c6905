"""The use case that sends what committed turns left in the outbox.

Each claimed job is attempted once per claim; the store records the attempt before the
send. Retryable failures come back with exponential backoff and jitter; a provider's
retry-after is honoured; permanent failures and exhausted retries are dead-lettered.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping

import msgspec

from application.alerts import AdminChannel
from application.pacing import SendPacer
from application.ports.channels import (
    ChannelSender,
    PermanentFailure,
    RateLimited,
    SendFailed,
)
from application.ports.coordination import Clock
from application.ports.storage import (
    DeliveryOutcome,
    DeliveryResult,
    NewOutbound,
    Outbox,
    OutboxItem,
    OutboxKind,
)
from application.ports.telemetry import Telemetry
from domain.messages import OutboundMessage, free_form_allowed


#: How many sends a batch starts before it lets the event loop run them (and everything else).
SENDS_PER_LOOP_TURN = 16


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How often and how patiently a job is retried."""

    max_attempts: int = 5
    # Throttling says nothing about the message: it may wait out many more 429s.
    max_rate_limited_attempts: int = 20
    base_delay: float = 1.0
    max_delay: float = 300.0

    def gives_up(self, attempts: int, exc: SendFailed) -> bool:
        """Whether this failure, after that many attempts, dead-letters the job."""
        if isinstance(exc, PermanentFailure):
            return True
        limit = self.max_rate_limited_attempts if isinstance(exc, RateLimited) else self.max_attempts
        return attempts >= limit

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff after the given number of attempts."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1))
        return ceiling / 2 + rng.random() * ceiling / 2


class DispatchOutbox:
    """Claim due outbox jobs and send them through their providers."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        senders: Mapping[str, ChannelSender],
        pacer: SendPacer,
        admin: AdminChannel,
        clock: Clock,
        telemetry: Telemetry,
        policy: RetryPolicy = RetryPolicy(),
        batch_size: int = 256,
        rng: random.Random | None = None,
    ) -> None:
        self._outbox = outbox
        self._senders = senders
        self._pacer = pacer
        self._admin = admin
        self._clock = clock
        self._telemetry = telemetry
        self._policy = policy
        self._batch_size = batch_size
        self._rng = rng or random.Random()

    @property
    def batch_size(self) -> int:
        """The most jobs one call claims."""
        return self._batch_size

    async def __call__(self) -> int:
        """Send one batch of due jobs; returns how many were attempted."""
        items = await self._outbox.claim(self._clock.now(), self._batch_size)
        if not items:
            return 0
        results = await asyncio.gather(*await self._start_all(items))
        now = self._clock.now()
        await self._outbox.finish(results, now)
        await self._outbox.enqueue(self._alerts(items, results), now)
        return len(items)

    async def _start_all(self, items: list[OutboxItem]) -> list[asyncio.Task[DeliveryResult]]:
        # A send's first step (building the request, writing it) runs as soon as the loop turns
        # to it: started all at once, a batch's sends would keep the loop for milliseconds.
        loop = asyncio.get_running_loop()
        started: list[asyncio.Task[DeliveryResult]] = []
        try:
            for i, item in enumerate(items, 1):
                started.append(loop.create_task(self._deliver(item)))
                if i % SENDS_PER_LOOP_TURN == 0:
                    await asyncio.sleep(0)
        except asyncio.CancelledError:  # stopping: no send may outlive its batch unawaited
            for task in started:
                task.cancel()
            raise
        return started

    def _alerts(self, items: list[OutboxItem], results: list[DeliveryResult]) -> list[NewOutbound]:
        # A reply set aside is an operator's business; a failed notice alerts nobody (no loop).
        return [
            notice
            for item, result in zip(items, results)
            if result.outcome is DeliveryOutcome.DEAD and item.kind is OutboxKind.REPLY
            for notice in self._admin.undeliverable(item.lane, result.error or "unknown error")
        ]

    async def _deliver(self, item: OutboxItem) -> DeliveryResult:
        sender = self._senders.get(item.provider)
        if sender is None:
            return self._fail(item, "dead", DeliveryResult(
                item_id=item.id, outcome=DeliveryOutcome.DEAD,
                error=f"no sender is configured for provider {item.provider!r}",
            ))
        if item.kind is OutboxKind.REPLY and not free_form_allowed(
            item.channel, item.contact_last_inbound_at, self._clock.now()
        ):
            return self._fail(item, "needs_template", DeliveryResult(
                item_id=item.id, outcome=DeliveryOutcome.DEAD,
                error="needs a template: the contact last wrote more than 24 hours ago (WhatsApp's window)",
            ))
        if item.kind is OutboxKind.REPLY and (defer := self._pacer.contact_delay(item.provider, item.lane)):
            # Faster than the provider lets one contact be written to: later, not counted as a try.
            return DeliveryResult(item_id=item.id, outcome=DeliveryOutcome.DEFER, retry_at=self._clock.now() + defer)
        await self._pacer.wait(item.provider)
        try:
            receipt = await sender.send(_message(item))
        except SendFailed as exc:
            return self._failed(item, exc)
        self._telemetry.outbound(item.channel, item.provider, "sent")
        return DeliveryResult(
            item_id=item.id, outcome=DeliveryOutcome.SENT,
            provider_message_id=receipt.provider_message_id,
        )

    def _failed(self, item: OutboxItem, exc: SendFailed) -> DeliveryResult:
        error = f"{exc.code}: {exc.reason}" if exc.code else exc.reason
        if self._policy.gives_up(item.attempts, exc):
            result = DeliveryResult(item_id=item.id, outcome=DeliveryOutcome.DEAD, error=error)
            return self._fail(item, "dead", result)
        delay = self._policy.delay(item.attempts, self._rng)
        if isinstance(exc, RateLimited):
            if exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            if not exc.per_recipient:  # the whole number is throttled; else only this lane waits
                self._pacer.slow_down(item.provider, delay)
        result = DeliveryResult(
            item_id=item.id, outcome=DeliveryOutcome.RETRY,
            retry_at=self._clock.now() + delay, error=error,
        )
        return self._fail(item, "retry", result)

    def _fail(self, item: OutboxItem, status: str, result: DeliveryResult) -> DeliveryResult:
        self._telemetry.outbound(item.channel, item.provider, status)
        return result


def _message(item: OutboxItem) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=item.id,
        channel=item.channel,
        provider=item.provider,
        contact_key=item.lane,
        address=item.address,
        reply=item.reply,
        reply_to=item.reply_to,
    )

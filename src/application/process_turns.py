"""The use case that answers: lock each contact, let the bot decide, save it all at once.

For a batch of contacts whose turn is due: take each contact's lock, load its conversation
and the messages waiting for it (a burst arrives here merged), ask the bot, and save the new
state, the consumed messages, the replies (the outbox) and the events in ONE transaction.

The cool-down: a contact's turn runs once the contact has been quiet for COOLDOWN_MS (so ten
messages typed in a second get one answer over all of them), but never later than
``BURST_LIMIT_COOLDOWNS`` cool-downs after the oldest waiting message, so that someone who
never pauses is still answered. Quiet means no arrival in the messages waiting in the
database nor among the arrivals noted by any instance's webhooks (``RecentArrivals``), which
also covers a message that arrived elsewhere and is not stored yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence

import msgspec

from application.ports.coordination import Clock, ContactLock, LockTimeout, RecentArrivals
from application.ports.storage import (
    ConversationStore,
    NewOutbound,
    OutboxKind,
    PendingTurn,
    TurnOutcome,
)
from application.alerts import AdminChannel
from application.bots import BotSource
from application.cooperation import TimeSlice
from application.ports.telemetry import Telemetry
from application.turns import TurnRules, build_turn
from domain.conversations import Bot, Conversation, Decision, Turn
from domain.flows import FlowBot, OrderPlaced
from domain.flows.events import LookupRequested
from domain.flows.reference import find, order_record
from domain.messages import MediaReply, Reply, TextReply


TURN_LOCK_WAIT = 0.0
#: How soon a contact locked elsewhere is tried again, in seconds.
BUSY_RETRY = 0.05
#: A burst holds its answer back at most this many cool-downs after its oldest message.
BURST_LIMIT_COOLDOWNS = 4


class ProcessTurns:
    """Run the due turns of a batch of contacts."""

    def __init__(
        self,
        *,
        store: ConversationStore,
        lock: ContactLock,
        bots: BotSource,
        rules: TurnRules,
        admin: AdminChannel,
        clock: Clock,
        telemetry: Telemetry,
        arrivals: RecentArrivals,
        cooldown_seconds: float,
        on_committed: Callable[[], None] = lambda: None,
        time_slice: TimeSlice | None = None,
    ) -> None:
        self._store = store
        self._lock = lock
        self._bots = bots
        self._rules = rules
        self._admin = admin
        self._clock = clock
        self._telemetry = telemetry
        self._arrivals = arrivals
        self._cooldown = cooldown_seconds
        self._on_committed = on_committed
        self._slice = time_slice or TimeSlice()

    async def __call__(self, contact_keys: Sequence[str]) -> dict[str, float]:
        """Process the contacts' turns; returns the contacts to try again, and when.

        A contact comes back when it was locked elsewhere, saved elsewhere meanwhile, or is
        still inside its cool-down.
        """
        started = time.perf_counter()
        async with _free_ones(self._lock, sorted(set(contact_keys))) as (locked, busy):
            pending, later = await self._quiet(await self._store.pending(locked))
            bot = await self._bots.current() if pending else None
            outcomes = await self._decide_all(bot, pending) if bot is not None else []
            if outcomes:
                saved = await self._store.save(outcomes)
                busy += [o.contact_key for o, ok in zip(outcomes, saved) if not ok]
                if any(isinstance(e, OrderPlaced) for o in outcomes for e in o.events):
                    self._bots.invalidate()  # the next turn sees the stock these orders hold
        if pending:
            self._on_committed()
            self._telemetry.processed(time.perf_counter() - started)
        retry_at = self._clock.now() + BUSY_RETRY
        return {**later, **{key: retry_at for key in busy}}

    async def _decide_all(self, bot: Bot, pending: list[PendingTurn]) -> list[TurnOutcome]:
        # A bot decides in plain Python: a hundred turns would keep the loop for tens of ms.
        outcomes = []
        self._slice.restart()
        for turn in pending:
            outcomes.append(await self._decide(bot, turn))
            await self._slice.checkpoint()
        return outcomes

    async def _quiet(self, pending: list[PendingTurn]) -> tuple[list[PendingTurn], dict[str, float]]:
        """The turns whose contact has been quiet for the cool-down, and when the others are due."""
        if self._cooldown <= 0 or not pending:
            return pending, {}
        noted = await self._arrivals.latest([turn.contact_key for turn in pending])
        now = self._clock.now()
        ready: list[PendingTurn] = []
        later: dict[str, float] = {}
        for turn in pending:
            arrivals = [item.arrived_at for item in turn.inbound]  # never empty: the turn has messages
            quiet_at = max(max(arrivals), noted.get(turn.contact_key, 0.0)) + self._cooldown
            due = min(quiet_at, min(arrivals) + BURST_LIMIT_COOLDOWNS * self._cooldown)
            if due > now:
                later[turn.contact_key] = due
            else:
                ready.append(turn)
        return ready, later

    async def _answer_lookups(self, bot: Bot, decision: Decision, turn: Turn) -> Decision:
        # A pack asked for one of the contact's own records (an order by its number): find it
        # and let the bot answer with it, in this same turn.
        asked = [e for e in decision.events if isinstance(e, LookupRequested)]
        if not asked or not isinstance(bot, FlowBot):
            return decision
        request = asked[0]
        placed = await self._store.orders(request.contact_key) if request.table == "orders" else []
        record = find([order_record(number, order) for number, order in placed], request.query)
        answered = bot.looked_up(decision.conversation, turn, record)
        kept = tuple(e for e in decision.events if not isinstance(e, LookupRequested))
        return msgspec.structs.replace(answered, events=kept + answered.events)

    async def _decide(self, bot: Bot, pending: PendingTurn) -> TurnOutcome:
        now = self._clock.now()
        conversation = _current(bot, pending.conversation, pending.contact_key, now, self._rules.session_ttl)
        turn, notice = build_turn(pending.inbound, conversation.language, self._rules, now)
        if turn is None:
            replies: tuple[Reply, ...] = (notice,) if notice else ()
            decided, events = conversation, ()
        else:
            decision = await self._answer_lookups(bot, bot.decide(conversation, turn), turn)
            replies = _with_notice(decision.replies, notice)
            decided, events = decision.conversation, decision.events
        return TurnOutcome(
            contact_key=pending.contact_key,
            conversation=decided,
            expected_version=pending.version,
            consumed=tuple(item.id for item in pending.inbound),
            outbound=_replies_to(pending, replies) + self._admin.notices_for(events),
            events=events,
            keep=bot.expire(decided, now) is decided,
            at=now,
        )


@contextlib.asynccontextmanager
async def _free_ones(lock: ContactLock, keys: list[str]) -> AsyncIterator[tuple[list[str], list[str]]]:
    """Hold the locks of the contacts that are free; yields (held, busy).

    Taken all at once and given back all at once (on Redis: a round trip or two for the whole
    batch, see ``adapters.redis.client``). Nobody waits for a lock: a contact another instance
    holds is that instance's turn, and it takes the contact's waiting messages with it.
    """
    holds = [lock.hold(key, wait=TURN_LOCK_WAIT) for key in keys]
    taken = await asyncio.gather(*(hold.__aenter__() for hold in holds), return_exceptions=True)
    held = [hold for hold, outcome in zip(holds, taken) if not isinstance(outcome, BaseException)]
    try:
        for outcome in taken:
            if isinstance(outcome, BaseException) and not isinstance(outcome, LockTimeout):
                raise outcome
        yield ([key for key, outcome in zip(keys, taken) if not isinstance(outcome, BaseException)],
               [key for key, outcome in zip(keys, taken) if isinstance(outcome, LockTimeout)])
    finally:
        # Released however the block ended: what it raised is the block's own (hold() never raises on exit).
        await asyncio.gather(*(hold.__aexit__(None, None, None) for hold in held))


def _current(bot: Bot, stored: Conversation | None, key: str, now: float, ttl: float) -> Conversation:
    """The conversation this turn continues: a fresh one for a newcomer or another bot's."""
    if stored is None:
        return bot.start(key, now)
    if stored.bot != bot.name:
        # Another pack answers now: start afresh, but a contact who said stop stays stopped.
        fresh = bot.start(key, now, stored.language)
        return msgspec.structs.replace(fresh, opted_out=stored.opted_out)
    if now - stored.updated_at > ttl:
        return bot.expire(stored, now)
    return stored


def _replies_to(pending: PendingTurn, replies: Sequence[Reply]) -> tuple[NewOutbound, ...]:
    # Answer on the channel and address of the contact's latest message.
    latest = pending.inbound[-1].message
    return tuple(
        NewOutbound(
            kind=OutboxKind.REPLY,
            lane=pending.contact_key,
            channel=latest.channel,
            provider=latest.provider,
            address=latest.reply_address,
            reply=reply,
            reply_to=latest.ack_token if i == 0 else None,
        )
        for i, reply in enumerate(replies)
    )


def _with_notice(replies: tuple[Reply, ...], notice: TextReply | None) -> tuple[Reply, ...]:
    # A too-long message in a burst is answered inside the one reply, never as a second one.
    if notice is None:
        return replies
    if not replies:
        return (notice,)
    first = replies[0]
    if isinstance(first, MediaReply):
        return (notice, *replies)
    return (msgspec.structs.replace(first, text=f"{notice.text}\n\n{first.text}"), *replies[1:])

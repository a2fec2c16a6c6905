"""Every shipped pack, in every language it speaks, walked through the application layer.

The same seeded walks run twice: through the engine alone (``pack_chat.Chat``, as the pack
tests drive it) and through the real container's use cases — HandleInbound recording each
message, ProcessTurns locking, deciding, answering order lookups from the stored orders and
saving, over the fake stores. The application must change nothing of what the pack says:
each turn's reply, options, events and step are the same both ways; and each pack's happy path
reaches its completion (a lead, an order, an onboarding, a report) through the application.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from dependency_injector import providers
from pack_chat import KEY, NOW, Chat, bot_for

from adapters.packs.files import builtin_pack_names
from domain.contacts import ContactId
from domain.conversations import Decision
from domain.flows import FlowBot, LookupRequested, OrderPlaced
from domain.flows.definition import Choice, FormAnswer, LookupAnswer, MediaAnswer, ProductChoice, TextAnswer
from domain.messages import Media, reply_options
from faked_gateway import Gateway
from fakes import FakeClock

VALID = {"name": "Ravi Kumar", "pincode": "400 001", "indian_mobile": "98765 43210", "quantity": "2", "number": "3",
         "yes_no": "yes", "any": "Jl. Mawar 12"}
FORM = "Sumber: IG\nBisnis: Kopi\nBudget: 10 juta\nRencana: 3 bulan lagi"
CONTACT = ContactId(channel="whatsapp", value="+" + KEY.split("+")[1])


class _OneBot:
    """The bot source the container gets here: the very FlowBot the engine-only walk uses."""

    def __init__(self, bot: FlowBot) -> None:
        self.bot = bot

    async def current(self) -> FlowBot:
        return self.bot

    def invalidate(self) -> None:
        """Stock stays as the engine-only walk sees it (the stock rules are tested elsewhere)."""


class AppChat(Chat):
    """A Chat whose every turn goes through the application layer."""

    def __init__(self, bot: FlowBot, make_inbound, language: str | None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(bot, language)
        self.clock = FakeClock(NOW)
        self.gateway = Gateway(make_inbound, {"CHATGATE_COOLDOWN_MS": "0", "CHATGATE_BOT": bot.name},
                               clock=self.clock)
        self.gateway.container.core.bots.override(providers.Object(_OneBot(bot)))
        self.gateway.db.conversations[CONTACT.key] = (self.conversation, 1)  # started as the Chat was
        self._loop = asyncio.new_event_loop()
        self._sent = 0

    def say(self, text: str = "", choice: str | None = None, media: bool = False) -> Decision:
        self.now += 1.0
        self.clock.set(self.now)
        events_before = len(self.gateway.db.events)
        message = self.gateway.message(text, contact=CONTACT, choice_id=choice,
                                       media=(Media(kind="image", reference="photo-1"),) if media else ())
        self._loop.run_until_complete(self._turn(message))
        jobs = [job for job in self.gateway.db.jobs(lane=CONTACT.key)]
        replies = tuple(job.reply for job in jobs[self._sent:])
        self._sent = len(jobs)
        events = tuple(row.event for row in self.gateway.db.events[events_before:])
        self.conversation = self.gateway.db.conversations[CONTACT.key][0]
        self.events += events
        self.orders.update({e.number: e.order for e in events if isinstance(e, OrderPlaced)})
        return self._checked(Decision(conversation=self.conversation, replies=replies, events=events))

    async def _turn(self, message) -> None:  # type: ignore[no-untyped-def]
        await self.gateway.receive(message)
        await self.gateway.run_turns()

    def close(self) -> None:
        self._loop.close()


# (An empty message is the application's to answer, politely, before any pack sees it.)
NOISE = ["hmm", "012345", "0", "999", "R", "ZZ9ZZ9", "language", "help", "menu", "مرحبا"]


def _next_message(chat: Chat, rng: random.Random, noise: float = 0.0) -> tuple[str, str | None, bool]:
    """What a cooperative contact answers at the current step (with ``noise``, sometimes a
    wrong answer or a global word, so that every refusal path is walked too)."""
    if rng.random() < noise:
        return rng.choice(NOISE), None, False
    step = chat.pack.step(chat.step)
    match step.accepts if step is not None else None:
        case Choice(options=options):
            forward = [o for o in options if o.id not in {"human", "team", "cancel", "edit", "change"}] or options
            return "", rng.choice(forward).id, False
        case ProductChoice():
            return "", rng.choice(chat.bot.catalogue.in_stock).id, False
        case TextAnswer(validator=validator):
            return VALID[validator], None, False
        case FormAnswer():
            return FORM, None, False
        case LookupAnswer(source="application"):
            return (next(iter(chat.orders)) if chat.orders else "ZZ9ZZ9"), None, False
        case LookupAnswer(table=table):
            records = chat.bot.reference.tables.get(table, ())
            return (str(records[0]["id"]) if records else "nope"), None, False
        case MediaAnswer():
            return ("", None, True) if rng.random() < 0.5 else ("skip", None, False)
    return rng.choice(["hi", "menu", "1"]), None, False


CASES = [(name, language) for name in builtin_pack_names() for language in bot_for(name).current.languages]


@pytest.mark.parametrize(("name", "language"), CASES)
def test_the_application_says_what_the_pack_says_turn_by_turn(make_inbound, name: str, language: str) -> None:
    bot = bot_for(name)
    for seed in range(3):
        alone, through = Chat(bot, language), AppChat(bot, make_inbound, language)
        rng_alone, rng_through = random.Random(seed), random.Random(seed)
        try:
            for turn in range(25):
                message = _next_message(alone, rng_alone, noise=0.25)
                assert _next_message(through, rng_through, noise=0.25) == message
                expected, got = alone.say(*message), through.say(*message)
                assert [_shown(r) for r in got.replies] == [_shown(r) for r in expected.replies], (seed, turn)
                # A lookup request is the application's to answer, not an event it keeps.
                wanted = [type(e) for e in expected.events if not isinstance(e, LookupRequested)]
                assert [type(e) for e in got.events] == wanted, (seed, turn)
                assert got.conversation.step == expected.conversation.step, (seed, turn)
        finally:
            through.close()


def _shown(reply) -> tuple:  # type: ignore[no-untyped-def]
    return type(reply).__name__, getattr(reply, "text", None), [o.id for o in reply_options(reply)]


@pytest.mark.parametrize("name", builtin_pack_names())
def test_each_packs_happy_path_completes_through_the_application(make_inbound, name: str) -> None:
    bot = bot_for(name)
    completed = set()
    for seed in range(6):
        chat = AppChat(bot, make_inbound, bot.current.default_language)
        rng = random.Random(seed)
        try:
            for _ in range(40):
                chat.say(*_next_message(chat, rng))
        finally:
            chat.close()
        completed |= {type(e).__name__ for e in chat.events}
    assert completed & {"LeadCaptured", "OrderPlaced", "FlowEvent"}, completed


def test_a_defect_report_carries_the_photo_the_operator_sent(make_inbound) -> None:
    bot = bot_for("factory_ops")
    chat = AppChat(bot, make_inbound, "en")
    rng = random.Random(7)
    try:
        for _ in range(60):
            step = chat.pack.step(chat.step)
            if step is not None and isinstance(step.accepts, MediaAnswer):
                chat.say("", None, True)
            else:
                chat.say(*_next_message(chat, rng))
            reports = [e for e in chat.events if getattr(e, "name", "") == "defect.reported"]
            if reports:
                break
    finally:
        chat.close()
    assert reports, "the walk reached a defect report"
    assert "photo-1" in reports[0].fields.values(), reports[0].fields

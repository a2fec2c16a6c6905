"""ProcessTurns and ReleaseConversation: the bot's answers, in the real container over fakes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from dependency_injector import providers

from application.cooperation import TimeSlice
from application.operators import ConversationNotFound
from application.process_turns import BURST_LIMIT_COOLDOWNS
from application.ports.storage import InboundStatus, OutboxKind, PendingTurn, TurnOutcome
from domain.contacts import ContactId
from domain.events import HandoffRequested, LeadCaptured
from domain.leads import LeadState
from domain.messages import ButtonsReply, Media
from entrypoints.container import resolve
from faked_gateway import ADMIN_CHAT, Gateway
from fakes import FakeContactLock, FakeConversationStore

FORM = ("Sumber: Instagram", "Bisnis: Kopi susu", "Budget: 50 juta", "Rencana: bulan depan")


async def test_a_first_message_gets_one_welcome_menu_and_starts_a_conversation(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    await gateway.receive(gateway.message("halo", contact=ana, reply_address="628111@c.us"))

    await gateway.settle()

    [sent] = gateway.replies_to(ana)
    assert isinstance(sent.reply, ButtonsReply) and "selamat datang" in sent.reply.text.lower()
    assert (sent.provider, sent.address, sent.contact_key) == ("meta", "628111@c.us", ana.key)
    conversation, version = gateway.db.conversations[ana.key]
    assert version == 1 and conversation.lead is not None
    assert conversation.lead.state is LeadState.CHOOSE_OPTION
    assert [row.status for row in gateway.db.inbound_for(ana.key)] == [InboundStatus.PROCESSED]
    assert gateway.db.lead_of(ana.key).state == "CHOOSE_OPTION"
    assert len(gateway.telemetry.processing) == 1


async def test_a_burst_inside_the_cooldown_is_answered_once_over_all_its_text(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    await gateway.say(ana, "halo")
    assert "Sumber" in (await gateway.say(ana, "1"))[0]  # the form request
    for line in FORM:  # the form, typed line by line, each inside the cool-down of the last
        assert await gateway.receive(gateway.message(line, contact=ana)) == ["accepted"]
        last = gateway.clock.now()
        gateway.clock.advance(0.4)

    # The first line's cool-down has passed, but Ana is still typing: no turn yet.
    gateway.clock.set(last + gateway.cooldown - 0.001)
    assert await gateway.run_turns() == [ana.key] and gateway.db.jobs(lane=ana.key)[2:] == []
    gateway.clock.set(last + gateway.cooldown)
    assert await gateway.run_turns() == []
    await gateway.dispatch()

    [answer] = gateway.replies_to(ana)[2:]
    text = answer.reply.text  # type: ignore[union-attr]
    assert all(value in text for value in ("Instagram", "Kopi susu", "50 juta", "bulan depan"))
    [captured] = gateway.db.events_for(ana.key)
    assert isinstance(captured, LeadCaptured)
    assert captured.fields == {"sumber": "Instagram", "bisnis": "Kopi susu", "budget": "50 juta",
                               "rencana": "bulan depan"}
    assert all(row.status is InboundStatus.PROCESSED for row in gateway.db.inbound_for(ana.key))
    [lead] = await (await resolve(gateway.container.storage.leads)).list(state="FORM_COMPLETED", since=None, after_id=None, limit=5)
    assert (lead.contact_key, lead.budget_amount) == (ana.key, 50_000_000)


async def test_a_message_noted_elsewhere_but_not_stored_yet_holds_the_turn_until_it_is_in(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    # Another instance received Ana's second line and noted it; its record is still on the way.
    ana = new_contact()
    await gateway.say(ana, "halo")
    await gateway.receive(gateway.message("1", contact=ana))
    first = gateway.clock.now()
    arrivals = await gateway.get("arrivals")
    await arrivals.note(ana.key, first + 1.0)

    gateway.clock.set(first + gateway.cooldown)
    assert await gateway.run_turns() == [ana.key]  # put back until the other line is quiet too
    assert len(gateway.replies_to(ana)) == 1 and gateway.db.jobs(lane=ana.key)[1:] == []
    gateway.clock.set(first + 1.0)
    await gateway.receive(gateway.message("Sumber: Instagram", contact=ana))  # the record lands
    gateway.clock.set(first + 1.0 + gateway.cooldown)
    assert await gateway.run_turns() == []
    await gateway.dispatch()

    [answer] = gateway.replies_to(ana)[1:]  # one answer over both lines
    assert "Sumber" in answer.reply.text  # type: ignore[union-attr]
    assert all(row.status is InboundStatus.PROCESSED for row in gateway.db.inbound_for(ana.key))


async def test_someone_who_never_pauses_is_still_answered_after_a_few_cooldowns(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    first = gateway.clock.now()
    limit = first + BURST_LIMIT_COOLDOWNS * gateway.cooldown
    while gateway.clock.now() < limit:
        await gateway.receive(gateway.message("halo", contact=ana))
        assert await gateway.run_turns() in ([], [ana.key]) and gateway.replies_to(ana) == []
        gateway.clock.advance(gateway.cooldown / 2)

    await gateway.run_turns()
    await gateway.dispatch()
    assert len(gateway.replies_to(ana)) == 1


async def test_a_too_long_message_gets_a_polite_reply_that_does_not_echo_it(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_MAX_MESSAGE_CHARS": "40"})
    ana = new_contact()
    secret = "rahasia " * 20

    [answer] = await gateway.say(ana, secret)

    assert "40" in answer and "rahasia" not in answer
    assert len(answer) < 200
    assert [row.status for row in gateway.db.inbound_for(ana.key)] == [InboundStatus.PROCESSED]
    assert gateway.db.inbound_for(ana.key)[0].message.text == secret  # kept, not dropped


async def test_a_too_long_message_in_a_burst_is_explained_inside_the_one_answer(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_MAX_MESSAGE_CHARS": "40"})
    ana = new_contact()
    await gateway.receive(gateway.message("halo", contact=ana), gateway.message("zebra " * 20, contact=ana))

    await gateway.settle()

    [answer] = gateway.replies_to(ana)
    assert isinstance(answer.reply, ButtonsReply)  # the welcome menu, with the notice on top
    assert "40" in answer.reply.text and "zebra" not in answer.reply.text


async def test_an_expired_session_starts_afresh(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_SESSION_TTL_HOURS": "0.5"})
    ana = new_contact()
    assert "welcome" in (await gateway.say(ana, "hello, I want a franchise"))[0].lower()
    assert "please send" in (await gateway.say(ana, "1"))[0].lower()  # the form request, in English

    gateway.clock.advance(31 * 60)
    [answer] = await gateway.say(ana, "1")

    assert "welcome" in answer.lower()  # not a reminder of the form: a new conversation
    conversation, _ = gateway.db.conversations[ana.key]
    assert conversation.started_at == gateway.clock.now()  # the time of this turn
    assert conversation.language == "en"  # the contact's language outlives the session


async def test_a_session_inside_its_ttl_carries_on(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_SESSION_TTL_HOURS": "0.5"})
    ana = new_contact()
    await gateway.say(ana, "hello, I want a franchise")
    await gateway.say(ana, "1")
    started = gateway.db.conversations[ana.key][0].started_at

    gateway.clock.advance(29 * 60)
    [answer] = await gateway.say(ana, "\n".join(FORM))

    assert "Kopi susu" in answer
    assert gateway.db.conversations[ana.key][0].started_at == started


async def test_three_invalid_answers_hand_the_contact_to_a_person_once(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    await gateway.say(ana, "halo", profile_name="Ana Wijaya")
    first, second = await gateway.say(ana, "xyz"), await gateway.say(ana, "zzz")
    assert len(first) == len(second) == 1 and gateway.admin_notices == []

    [escalation] = await gateway.say(ana, "qqq", profile_name="Ana Wijaya")

    assert "tim kami" in escalation.lower()
    [notice] = gateway.admin_notices
    assert "Ana Wijaya" in notice and ana.value in notice
    [job] = gateway.db.jobs(kind=OutboxKind.ADMIN_NOTICE)
    assert (job.address, job.provider) == (ADMIN_CHAT, "telegram_admin")
    [event] = gateway.db.events_for(ana.key)
    assert isinstance(event, HandoffRequested) and event.reason == "invalid_answers"
    assert gateway.db.lead_of(ana.key).state == "MANUAL_INTERVENTION"

    for words in ("halo?", "menu", "tolong"):  # then silence, whatever they write
        assert await gateway.say(ana, words) == []
    assert len(gateway.admin_notices) == 1
    assert all(row.status is InboundStatus.PROCESSED for row in gateway.db.inbound_for(ana.key))


async def test_without_an_admin_chat_a_handoff_sends_no_notice(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_TELEGRAM_ADMIN_CHAT_ID": ""})
    ana = new_contact()
    for words in ("halo", "xyz", "zzz", "qqq"):
        await gateway.say(ana, words)

    assert gateway.db.lead_of(ana.key).state == "MANUAL_INTERVENTION"
    assert gateway.db.jobs(kind=OutboxKind.ADMIN_NOTICE) == [] and gateway.admin_notices == []


async def test_an_operator_release_gives_the_conversation_back_to_the_bot(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    for words in ("halo", "xyz", "zzz", "qqq"):
        await gateway.say(ana, words)
    release = await gateway.get("release")

    await release(ana.key)
    await release(ana.key)  # releasing twice is harmless

    assert gateway.db.lead_of(ana.key).state == "CHOOSE_OPTION"
    [menu] = await gateway.say(ana, "ada orang?")
    assert "selamat datang" in menu.lower()
    assert len(gateway.admin_notices) == 1
    with pytest.raises(ConversationNotFound):
        await release(f"whatsapp:{new_contact().value}")


async def test_a_contact_locked_elsewhere_is_left_waiting_and_answered_later(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    lock = FakeContactLock()
    gateway.container.core.lock.override(providers.Object(lock))
    ana, budi = new_contact(), new_contact()
    lock.held_elsewhere.add(ana.key)
    await gateway.receive(gateway.message("halo", contact=ana), gateway.message("halo", contact=budi))
    gateway.clock.advance(gateway.cooldown)

    assert await gateway.run_turns() == [ana.key]

    assert [row.status for row in gateway.db.inbound_for(ana.key)] == [InboundStatus.PENDING]
    assert ana.key not in gateway.db.conversations and gateway.db.jobs(lane=ana.key) == []
    assert gateway.db.conversations[budi.key][1] == 1
    lock.held_elsewhere.clear()
    assert await (await gateway.get("process_turns"))([ana.key]) == {}
    await gateway.dispatch()
    assert len(gateway.replies_to(ana)) == 1


class _SavedElsewhereMeanwhile(FakeConversationStore):
    """Once armed, another instance saves each loaded conversation between our load and our save."""

    armed = False

    async def pending(self, contact_keys: Sequence[str]) -> list[PendingTurn]:
        turns = await super().pending(contact_keys)
        for turn in turns:
            if self.armed and turn.conversation is not None:
                moved = TurnOutcome(contact_key=turn.contact_key, conversation=turn.conversation,
                                    expected_version=turn.version, consumed=(), at=turn.conversation.updated_at)
                assert await super().save([moved]) == [True]
        return turns


async def test_a_conversation_saved_elsewhere_meanwhile_is_retried_not_overwritten(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    racing = _SavedElsewhereMeanwhile(gateway.db)
    gateway.container.storage.conversations.override(providers.Object(racing))
    ana = new_contact()
    await gateway.say(ana, "halo")
    racing.armed = True
    await gateway.receive(gateway.message("1", contact=ana))
    gateway.clock.advance(gateway.cooldown)

    assert await gateway.run_turns() == [ana.key]

    assert gateway.db.conversations[ana.key][1] == 2  # the other instance's save, not ours
    assert gateway.db.inbound_for(ana.key)[-1].status is InboundStatus.PENDING
    assert len(gateway.db.jobs(lane=ana.key)) == 1  # only the first turn's welcome
    racing.armed = False
    assert await (await gateway.get("process_turns"))([ana.key]) == {}
    await gateway.dispatch()
    assert "Sumber" in gateway.replies_to(ana)[-1].reply.text  # type: ignore[union-attr]


async def test_media_alone_is_a_turn_and_gets_an_answer(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    photo = gateway.message("", contact=ana, media=(Media(kind="image", reference="media-1"),))
    await gateway.receive(photo)

    await gateway.settle()

    [answer] = gateway.replies_to(ana)
    assert isinstance(answer.reply, ButtonsReply)  # the welcome menu


class _StepClock:
    """A perf counter that moves 1 ms each time it is read (a decision "takes" about 1 ms)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


async def _loop_turns_during_a_batch(gateway: Gateway, new_contact: Callable[..., ContactId],
                                     time_slice: TimeSlice) -> int:
    gateway.container.core.time_slice.override(providers.Object(time_slice))
    contacts = [new_contact() for _ in range(6)]
    await gateway.receive(*(gateway.message("halo", contact=c) for c in contacts))
    gateway.clock.advance(gateway.cooldown)
    process = await gateway.get("process_turns")
    turns = 0
    running = True

    async def count_loop_turns() -> None:
        nonlocal turns
        while running:
            await asyncio.sleep(0)
            turns += 1

    counter = asyncio.get_running_loop().create_task(count_loop_turns())
    await asyncio.sleep(0)
    before = turns
    assert await process([c.key for c in contacts]) == {}
    during = turns - before
    running = False
    await counter
    assert all(gateway.db.conversations[c.key][1] == 1 for c in contacts)  # every turn was decided
    return during


async def test_a_long_batch_of_turns_lets_the_event_loop_run_between_decisions(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    # Six decisions of ~1 ms with a 2 ms slice: the loop gets a turn after every second one,
    # three more turns than a batch that never lets go (webhooks wait no longer than a slice).
    sliced = await _loop_turns_during_a_batch(make_gateway(), new_contact, TimeSlice(0.002, _StepClock()))
    unsliced = await _loop_turns_during_a_batch(make_gateway(), new_contact, TimeSlice(float("inf"), _StepClock()))

    assert sliced - unsliced == 3


class _ReleasedTogether(FakeContactLock):
    """Each release waits until every lock of the batch is being released: a batch that gave its
    locks back one after the other would never get past the first (on Redis, one round trip each)."""

    def __init__(self, batch: int) -> None:
        super().__init__()
        self._batch = batch
        self._releasing = 0
        self._all_releasing = asyncio.Event()

    @contextlib.asynccontextmanager
    async def hold(self, contact_key: str, *, wait: float | None = None) -> AsyncIterator[None]:
        async with super().hold(contact_key, wait=wait):
            yield
            self._releasing += 1
            if self._releasing == self._batch:
                self._all_releasing.set()
            await self._all_releasing.wait()


async def test_a_batch_gives_all_its_contacts_locks_back_at_once(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    gateway.container.core.lock.override(providers.Object(_ReleasedTogether(batch=5)))
    contacts = [new_contact() for _ in range(5)]
    await gateway.receive(*(gateway.message("halo", contact=c) for c in contacts))
    gateway.clock.advance(gateway.cooldown)
    process = await gateway.get("process_turns")

    async with asyncio.timeout(2):
        assert await process([c.key for c in contacts]) == {}
    assert all(gateway.db.conversations[c.key][1] == 1 for c in contacts)


class _SetClock:
    """A perf counter that only moves when the test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _share_of_a_busy_loop(time_slice: TimeSlice, clock: _SetClock) -> float:
    # Forty items of 1 ms each, while every other turn of the loop takes 10 ms (a flood of
    # webhooks); the share of the time that went to the items.
    running = True

    async def flood() -> None:
        while running:
            clock.now += 0.010
            await asyncio.sleep(0)

    flooding = asyncio.get_running_loop().create_task(flood())
    await asyncio.sleep(0)
    started = clock.now
    time_slice.restart()
    for _ in range(40):
        clock.now += 0.001
        await time_slice.checkpoint()
    share = 0.040 / (clock.now - started)
    running = False
    await flooding
    return share


async def test_a_batch_kept_waiting_by_a_busy_loop_still_gets_about_half_of_it() -> None:
    # Fixed 2 ms slices would leave a batch one sixth of a loop that is busy for 10 ms at each
    # turn, and the answers would fall ever further behind the webhooks. A slice as long as
    # the last wait (up to 20 ms) shares the loop instead.
    clock = _SetClock()
    shared = await _share_of_a_busy_loop(TimeSlice(0.002, clock), clock)
    fixed = await _share_of_a_busy_loop(TimeSlice(0.002, clock, longest=0.002), clock)

    assert fixed == pytest.approx(1 / 6, abs=0.01)
    assert shared > 0.45

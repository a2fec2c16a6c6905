"""HandleInbound, the use case behind every webhook, in the real container over fakes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest
from dependency_injector import providers

from application.handle_inbound import InboundOutcome
from application.ports.storage import InboundStatus
from faked_gateway import Gateway
from domain.contacts import ChatKind, ContactId
from domain.messages import DeliveryState, DeliveryStatus

ACCEPTED, DUPLICATE, IGNORED, RATE_LIMITED = (
    InboundOutcome.ACCEPTED, InboundOutcome.DUPLICATE, InboundOutcome.IGNORED, InboundOutcome.RATE_LIMITED,
)


async def test_an_accepted_message_is_recorded_and_its_turn_is_due_after_the_cooldown(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    arrival = gateway.clock.now()

    outcomes = await gateway.receive(gateway.message("halo", contact=ana, profile_name="Ana"))

    assert outcomes == [ACCEPTED]
    [row] = gateway.db.inbound_for(ana.key)
    assert (row.message.text, row.status, row.arrived_at) == ("halo", InboundStatus.PENDING, arrival)
    assert gateway.db.contacts[ana.key].name == "Ana"
    scheduler = await gateway.get("scheduler")
    gateway.clock.advance(gateway.cooldown - 0.001)
    assert scheduler.take_due()[0] == []
    gateway.clock.set(arrival + gateway.cooldown)
    assert scheduler.take_due()[0] == [ana.key]
    assert gateway.telemetry.inbound_counts == {("whatsapp", "meta", "accepted"): 1}
    assert gateway.db.jobs() == []  # nothing is answered before the turn runs


async def test_traffic_not_from_a_user_is_ignored_and_stored_nowhere(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    echoes = [
        gateway.message("our own echo", contact=ana, from_me=True),
        gateway.message("hi all", contact=ana, chat_kind=ChatKind.GROUP),
        gateway.message("my story", contact=ana, chat_kind=ChatKind.STATUS),
        gateway.message("promo", contact=ana, chat_kind=ChatKind.BROADCAST),
    ]

    outcomes = await gateway.receive(*echoes)
    await gateway.settle()

    assert outcomes == [IGNORED] * 4
    assert gateway.db.inbound == {} and gateway.db.contacts == {}
    assert gateway.db.conversations == {} and gateway.db.jobs() == []
    assert gateway.replies_to(ana) == []
    assert gateway.telemetry.inbound_total("ignored") == 4


async def test_a_redelivered_message_changes_nothing(gateway: Gateway, new_contact: Callable[..., ContactId]) -> None:
    ana = new_contact()
    original = gateway.message("halo", contact=ana)

    assert await gateway.receive(original) == [ACCEPTED]
    assert await gateway.receive(original) == [DUPLICATE]
    await gateway.settle()
    gateway.clock.advance(600)
    assert await gateway.receive(original) == [DUPLICATE]  # again, after it was answered
    await gateway.settle()

    assert len(gateway.db.inbound_for(ana.key)) == 1
    assert len(gateway.replies_to(ana)) == 1
    assert gateway.db.conversations[ana.key][1] == 1
    assert gateway.telemetry.inbound_total("duplicate") == 2


async def test_the_same_message_twice_in_one_webhook_is_recorded_once(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    twice = gateway.message("halo", contact=ana)

    assert await gateway.receive(twice, twice) == [ACCEPTED, DUPLICATE]
    await gateway.settle()

    assert len(gateway.db.inbound_for(ana.key)) == 1
    assert len(gateway.replies_to(ana)) == 1


async def test_a_redelivery_the_process_forgot_is_recognised_by_the_database(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    before_restart = make_gateway()
    original = before_restart.message("halo", contact=ana)
    assert await before_restart.receive(original) == [ACCEPTED]
    await before_restart.settle()

    after_restart = make_gateway(db=before_restart.db, clock=before_restart.clock)
    assert await after_restart.receive(original) == [DUPLICATE]
    before_restart.clock.advance(25 * 3600)  # and long after the in-process memory forgot it
    assert await before_restart.receive(original) == [DUPLICATE]

    assert (await after_restart.get("scheduler")).take_due()[0] == []
    await after_restart.settle()
    await before_restart.settle()
    assert len(before_restart.db.inbound_for(ana.key)) == 1
    assert len(before_restart.replies_to(ana)) == 1 and after_restart.replies_to(ana) == []


async def test_messages_over_the_rate_limit_are_kept_but_not_answered(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_RATE_LIMIT_PER_MINUTE": "3"})
    ana = new_contact()
    for _ in range(3):
        assert len(await gateway.say(ana, "menu")) == 1

    outcomes = await gateway.receive(gateway.message("menu lagi", contact=ana),
                                     gateway.message("halo?", contact=ana))
    await gateway.settle()

    assert outcomes == [RATE_LIMITED, RATE_LIMITED]
    assert len(gateway.replies_to(ana)) == 3
    kept = gateway.db.inbound_for(ana.key)[3:]
    assert [(row.message.text, row.status) for row in kept] == [
        ("menu lagi", InboundStatus.RATE_LIMITED), ("halo?", InboundStatus.RATE_LIMITED)]
    assert gateway.telemetry.inbound_counts[("whatsapp", "meta", "rate_limited")] == 2

    gateway.clock.advance(120)  # a quiet minute later the contact is heard again
    assert len(await gateway.say(ana, "menu")) == 1


async def test_the_rate_limit_counts_each_contact_apart(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_RATE_LIMIT_PER_MINUTE": "1"})
    ana, budi = new_contact(), new_contact()

    outcomes = await gateway.receive(gateway.message("a", contact=ana), gateway.message("b", contact=ana),
                                     gateway.message("c", contact=budi))

    assert outcomes == [ACCEPTED, RATE_LIMITED, ACCEPTED]


async def test_a_burst_asks_for_one_turn_at_its_first_message_plus_the_cooldown(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    first = gateway.clock.now()
    for _ in range(3):
        assert await gateway.receive(gateway.message("lagi", contact=ana)) == [ACCEPTED]
        gateway.clock.advance(0.5)
    scheduler = await gateway.get("scheduler")

    gateway.clock.set(first + gateway.cooldown - 0.25)
    assert scheduler.take_due() == ([], pytest.approx(0.25))
    gateway.clock.set(first + gateway.cooldown)
    assert scheduler.take_due()[0] == [ana.key]
    assert scheduler.take_due()[0] == []  # one turn for the whole burst


class _NotingArrivals:
    """Records each note with what the message log held at that moment."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self.notes: list[tuple[str, float, int]] = []

    async def note(self, contact_key: str, at: float) -> None:
        self.notes.append((contact_key, at, len(self._gateway.db.inbound_for(contact_key))))

    async def latest(self, contact_keys: Sequence[str]) -> dict[str, float]:
        return {}


async def test_an_accepted_arrival_is_noted_before_its_message_is_recorded(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_RATE_LIMIT_PER_MINUTE": "2"})
    arrivals = _NotingArrivals(gateway)
    gateway.container.core.arrivals.override(providers.Object(arrivals))
    ana, budi = new_contact(), new_contact()
    arrival = gateway.clock.now()

    first = gateway.message("a", contact=ana)
    await gateway.receive(first, gateway.message("b", contact=ana), gateway.message("c", contact=budi))
    await gateway.receive(first)  # a re-delivery is no arrival
    await gateway.receive(gateway.message("d", contact=ana))  # nor is a rate-limited message

    # One note per contact per webhook, each taken while the log did not hold the message yet.
    assert arrivals.notes == sorted([(ana.key, arrival, 0), (budi.key, arrival, 0)])


async def test_without_a_cooldown_no_arrival_is_noted(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_COOLDOWN_MS": "0"})
    arrivals = _NotingArrivals(gateway)
    gateway.container.core.arrivals.override(providers.Object(arrivals))
    ana = new_contact()
    assert len(await gateway.say(ana, "halo")) == 1
    assert arrivals.notes == []


async def test_delivery_statuses_in_a_webhook_reach_the_outbox(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    await gateway.say(ana, "halo")
    [job] = gateway.db.jobs(lane=ana.key)
    read = DeliveryStatus(provider="meta", provider_message_id=job.provider_message_id or "",
                          state=DeliveryState.READ, at=gateway.clock.now())

    assert await gateway.receive(statuses=(read,)) == []

    assert job.delivery == "read"
    assert gateway.telemetry.inbound_counts == {("whatsapp", "meta", "accepted"): 1}


async def test_a_lid_seen_beside_a_phone_is_that_contact_when_it_comes_alone(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    lid = ContactId(channel="whatsapp", value="lid:123456789")
    await gateway.receive(gateway.message("halo", contact=ana, aliases=(lid,)))

    assert await gateway.receive(gateway.message("1", contact=lid, reply_address="123456789@lid")) == [ACCEPTED]

    assert [row.message.text for row in gateway.db.inbound_for(ana.key)] == ["halo", "1"]
    assert gateway.db.inbound_for(lid.key) == []


async def test_only_a_lid_or_bsuid_is_looked_up_as_an_alias(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    looked_up: list[str] = []
    directory = gateway.container.storage.directory()
    original = directory.resolve

    async def counting(contact: ContactId) -> ContactId:
        looked_up.append(contact.key)
        return await original(contact)

    directory.resolve = counting
    telegram = ContactId(channel="telegram", value="tg:4242")
    lid = ContactId(channel="whatsapp", value="lid:98765")
    await gateway.receive(gateway.message("halo", contact=new_contact()),
                          gateway.message("halo", contact=telegram, reply_address="4242"),
                          gateway.message("halo", contact=lid, reply_address="98765@lid"))

    assert looked_up == [lid.key]


class _SlowSeen:
    """Remembers ids only when let go: Redis's answer still on its way."""

    def __init__(self) -> None:
        self.remembered: set[tuple[str, str]] = set()
        self.let_go = asyncio.Event()

    async def known(self, provider: str, message_id: str) -> bool:
        return (provider, message_id) in self.remembered

    async def remember(self, ids: Sequence[tuple[str, str]]) -> None:
        await self.let_go.wait()
        self.remembered.update(ids)


async def test_the_provider_is_answered_before_the_id_is_remembered_and_a_redelivery_meanwhile_is_refused(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    seen = _SlowSeen()
    gateway.container.core.seen.override(providers.Object(seen))
    handle = await gateway.get("handle_inbound")
    original = gateway.message("halo", contact=new_contact())

    assert await asyncio.wait_for(gateway.receive(original), 1.0) == [ACCEPTED]
    assert await gateway.receive(original) == [DUPLICATE]  # the database knows it already
    assert seen.remembered == set()

    seen.let_go.set()
    await handle.settle()
    assert seen.remembered == {("meta", original.provider_message_id)}
    assert len(gateway.db.inbound_for(original.contact.key)) == 1

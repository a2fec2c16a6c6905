"""One contract suite per storage port, run against the fake, SQLite and PostgreSQL alike.

The ports are ``MessageLog``, ``ConversationStore``, ``Outbox``, ``LeadQuery`` and
``TranscriptQuery`` (``application.ports.storage``). Every test runs three times: on the
in-memory fakes of ``tests/unit/fakes.py`` (so they stay honest), on a migrated SQLite file of
its own, and on the PostgreSQL server at ``CHATGATE_TEST_DATABASE_URL``.

The outbox and the lead list are global queues (``claim`` takes any lane's due job), so unique
ids alone cannot keep two runs on one database apart. PostgreSQL tests therefore work in a
schema of this session's own, migrated with our Alembic migrations and emptied before each
test; the shared ``public`` tables are never touched.

A few things no port reads back (the recorded events, an outbox job's delivery state, an
inbound message's status) are read through ``Peek``, straight from each backend's storage.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import msgspec
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sql.codec import decode_event
from adapters.sql.conversations import SqlConversationStore
from adapters.sql.directory import SqlContactDirectory
from adapters.sql.database import AsyncDriverDatabase, Database, open_database, postgres_database
from adapters.sql.leads import SqlLeadQuery
from adapters.sql.message_log import SqlMessageLog
from adapters.sql.migrate import alembic_config
from adapters.sql.outbox import SqlOutbox
from adapters.sql.schema import events, inbound_messages, metadata, outbox
from adapters.sql.transcripts import SqlTranscriptQuery
from application.ports.storage import (
    ContactDirectory,
    ConversationStore,
    DeliveryOutcome,
    DeliveryResult,
    InboundStatus,
    LeadQuery,
    MessageLog,
    NewInbound,
    NewOutbound,
    Outbox,
    OutboxItem,
    OutboxKind,
    TranscriptQuery,
    TurnOutcome,
)
from domain.contacts import ContactId
from domain.conversations import Conversation
from domain.events import Event, HandoffRequested, LeadCaptured
from domain.lead_form import LeadForm
from domain.leads import Lead, LeadState
from domain.messages import (
    Button,
    ButtonsReply,
    Channel,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    TextReply,
)
from fakes import (
    FakeContactDirectory,
    FakeConversationStore,
    FakeDatabase,
    FakeLeadQuery,
    FakeMessageLog,
    FakeOutbox,
    FakeTranscriptQuery,
)

NOW = 1_770_000_000.0

# --- Backends ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """An outbox job's bookkeeping, as stored."""

    status: str
    attempts: int
    delivery: str | None
    error: str | None
    provider_message_id: str | None
    next_attempt_at: float


class Peek(Protocol):
    """What the ports do not read back, read from the backend itself."""

    async def events(self, contact_key: str) -> list[Event]: ...

    async def job(self, item_id: int) -> Job: ...

    async def inbound_statuses(self, contact_key: str) -> list[str]: ...


@dataclass
class Stores:
    """Every storage port of one backend."""

    backend: str
    log: MessageLog
    conversations: ConversationStore
    outbox: Outbox
    leads: LeadQuery
    transcripts: TranscriptQuery
    peek: Peek
    directory: ContactDirectory


class FakePeek:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def events(self, contact_key: str) -> list[Event]:
        return self.db.events_for(contact_key)

    async def job(self, item_id: int) -> Job:
        row = self.db.outbox[item_id]
        return Job(row.status, row.attempts, row.delivery, row.error, row.provider_message_id,
                   row.next_attempt_at)

    async def inbound_statuses(self, contact_key: str) -> list[str]:
        return [row.status.value for row in self.db.inbound_for(contact_key)]


class SqlPeek:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def events(self, contact_key: str) -> list[Event]:
        query = select(events.c.payload).where(events.c.contact_key == contact_key).order_by(events.c.id)
        return await self.db.read(lambda conn: [decode_event(p) for p in conn.execute(query).scalars()])

    async def job(self, item_id: int) -> Job:
        c = outbox.c
        query = select(c.status, c.attempts, c.delivery, c.error, c.provider_message_id,
                       c.next_attempt_at).where(c.id == item_id)
        return await self.db.read(lambda conn: Job(*conn.execute(query).one()))

    async def inbound_statuses(self, contact_key: str) -> list[str]:
        c = inbound_messages.c
        query = select(c.status).where(c.contact_key == contact_key).order_by(c.id)
        return await self.db.read(lambda conn: list(conn.execute(query).scalars()))


def _fake_stores() -> Stores:
    db = FakeDatabase()
    return Stores("fake", FakeMessageLog(db), FakeConversationStore(db), FakeOutbox(db),
                  FakeLeadQuery(db), FakeTranscriptQuery(db), FakePeek(db), FakeContactDirectory(db))


def _sql_stores(backend: str, db: Database) -> Stores:
    return Stores(backend, SqlMessageLog(db), SqlConversationStore(db), SqlOutbox(db),
                  SqlLeadQuery(db), SqlTranscriptQuery(db), SqlPeek(db), SqlContactDirectory(db))


def _private_engine(url: str, schema: str, **options: Any) -> AsyncEngine:
    return create_async_engine(url, connect_args=_in_schema(schema), **options)


def _private_database(url: str, schema: str, **options: Any) -> AsyncDriverDatabase:
    # adapters.sql.database.open_database's database (the engine and the native pool), in a
    # schema of our own.
    return postgres_database(url, connect_args=_in_schema(schema), **options)


def _in_schema(schema: str) -> dict[str, Any]:
    return {"server_settings": {"search_path": schema}}


async def _create_schema(url: str, schema: str) -> None:
    engine = _private_engine(url, schema, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        async with engine.begin() as conn:
            await conn.run_sync(_migrate, url)
    finally:
        await engine.dispose()


def _migrate(connection: Any, url: str) -> None:
    from alembic import command

    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def _drop_schema(url: str, schema: str) -> None:
    engine = _private_engine(url, schema, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


def _run_in_thread(coroutine_function: Callable[..., Any], *args: Any) -> None:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine_function(*args)).result()


@pytest.fixture(scope="session")
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A schema of this session's own on the shared server, with our migrations applied."""
    schema = f"contract_{uuid.uuid4().hex[:12]}"
    _run_in_thread(_create_schema, postgres_url, schema)
    yield schema
    _run_in_thread(_drop_schema, postgres_url, schema)


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    """The storage ports of one backend, on an empty store."""
    if request.param == "fake":
        yield _fake_stores()
        return
    if request.param == "sqlite":
        db: Database = open_database(request.getfixturevalue("sqlite_url"))
    else:
        url = request.getfixturevalue("postgres_url")
        db = _private_database(url, request.getfixturevalue("postgres_schema"), pool_pre_ping=True)
        async with db.engine.begin() as conn:  # our own schema: no one else's rows
            names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    try:
        yield _sql_stores(request.param, db)
    finally:
        await db.dispose()


# --- Building blocks -----------------------------------------------------------------------


def contact() -> ContactId:
    return ContactId(channel="whatsapp", value=f"+628{uuid.uuid4().int % 10**10:010d}")


def message(who: ContactId, text: str = "halo", *, provider: str = "meta", message_id: str | None = None,
            name: str | None = None) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP, provider=provider,
        provider_message_id=message_id or f"wamid.{uuid.uuid4().hex}",
        contact=who, reply_address=who.value[1:], received_at=NOW, text=text, profile_name=name,
    )


def arrived(msg: InboundMessage, at: float = NOW, status: InboundStatus = InboundStatus.PENDING) -> NewInbound:
    return NewInbound(message=msg, arrived_at=at, status=status)


def conversation(key: str, *, step: str = "start", at: float = NOW, lead: Lead | None = None) -> Conversation:
    return Conversation(contact_key=key, bot="franchise_leads", step=step, lead=lead,
                        started_at=NOW, updated_at=at)


def reply(lane: str, words: str, *, kind: OutboxKind = OutboxKind.REPLY, provider: str = "meta") -> NewOutbound:
    return NewOutbound(kind=kind, lane=lane, channel=Channel.WHATSAPP, provider=provider,
                       address=lane.rsplit("+", 1)[-1], reply=TextReply(text=words))


def outcome(key: str, *, version: int = 0, consumed: tuple[int, ...] = (), at: float = NOW,
            outbound: tuple[NewOutbound, ...] = (), events: tuple[Event, ...] = (),
            step: str = "start", lead: Lead | None = None) -> TurnOutcome:
    return TurnOutcome(contact_key=key, conversation=conversation(key, step=step, at=at, lead=lead),
                       expected_version=version, consumed=consumed, outbound=outbound, events=events, at=at)


def handoff(key: str) -> HandoffRequested:
    return HandoffRequested(contact_key=key, contact_label=f"Ana ({key})", reason="invalid_answers", at=NOW)


def lane() -> str:
    return f"whatsapp:+628{uuid.uuid4().int % 10**10:010d}"


async def enqueue(stores: Stores, lane_key: str, *texts: str, at: float = NOW,
                  kind: OutboxKind = OutboxKind.REPLY, provider: str = "meta") -> None:
    """Put jobs in a lane the only way the application does: by saving a turn."""
    jobs = tuple(reply(lane_key, words, kind=kind, provider=provider) for words in texts)
    key = f"owner:{uuid.uuid4().hex}"
    assert await stores.conversations.save([outcome(key, outbound=jobs, at=at)]) == [True]


async def waiting(stores: Stores, who: ContactId, *texts: str, at: float = NOW) -> list[int]:
    """Record messages and return the ids ``pending`` gives them."""
    assert await stores.log.record([arrived(message(who, t), at) for t in texts]) == [True] * len(texts)
    [turn] = await stores.conversations.pending([who.key])
    return [item.id for item in turn.inbound]


def words(items: list[OutboxItem]) -> list[str]:
    return [item.reply.text for item in items]  # type: ignore[union-attr]


# --- MessageLog ----------------------------------------------------------------------------


async def test_record_is_true_only_the_first_time_a_provider_message_id_is_seen(stores: Stores) -> None:
    ana = contact()
    first = message(ana, "halo", message_id=f"wamid.{uuid.uuid4().hex}")

    assert await stores.log.record([arrived(first)]) == [True]
    assert await stores.log.record([arrived(first, NOW + 60)]) == [False]
    again_with_other_text = msgspec.structs.replace(first, text="different")
    assert await stores.log.record([arrived(again_with_other_text, NOW + 3600)]) == [False]

    [turn] = await stores.conversations.pending([ana.key])
    assert [item.message.text for item in turn.inbound] == ["halo"]


async def test_the_same_id_from_another_provider_is_another_message(stores: Stores) -> None:
    ana = contact()
    shared_id = f"id-{uuid.uuid4().hex}"

    results = await stores.log.record([arrived(message(ana, "a", provider="meta", message_id=shared_id)),
                                       arrived(message(ana, "b", provider="waha", message_id=shared_id))])

    assert results == [True, True]


async def test_the_same_id_twice_in_one_batch_is_new_only_the_first_time(stores: Stores) -> None:
    ana = contact()
    twice = message(ana, "once")
    other = message(ana, "other")

    assert await stores.log.record([arrived(twice), arrived(other), arrived(twice)]) == [True, True, False]
    [turn] = await stores.conversations.pending([ana.key])
    assert [item.message.text for item in turn.inbound] == ["once", "other"]


async def test_concurrent_records_each_learn_which_of_their_messages_were_new(stores: Stores) -> None:
    ana = contact()
    shared = message(ana, "shared by every webhook")
    own = [message(contact(), f"own {i}") for i in range(40)]

    results = await asyncio.gather(*(stores.log.record([arrived(mine), arrived(shared)]) for mine in own))

    assert all(result[0] is True for result in results)
    assert sum(result[1] for result in results) == 1  # the shared id was new for exactly one caller
    for mine in own:
        [turn] = await stores.conversations.pending([mine.contact.key])
        assert [item.message.text for item in turn.inbound] == [mine.text]


async def test_contacts_waiting_lists_contacts_whose_pending_messages_arrived_before_the_time(
    stores: Stores,
) -> None:
    early, late = contact(), contact()
    await stores.log.record([arrived(message(early), NOW), arrived(message(late), NOW + 10)])

    assert await stores.log.contacts_waiting(NOW + 5, 100) == [early.key]
    assert sorted(await stores.log.contacts_waiting(NOW + 20, 100)) == sorted([early.key, late.key])
    assert await stores.log.contacts_waiting(NOW, 100) == []


async def test_contacts_waiting_leaves_out_rate_limited_and_processed_messages(stores: Stores) -> None:
    limited, answered, waiting_one = contact(), contact(), contact()
    await stores.log.record([arrived(message(limited), status=InboundStatus.RATE_LIMITED)])
    ids = await waiting(stores, answered, "answered")
    assert await stores.conversations.save([outcome(answered.key, consumed=tuple(ids))]) == [True]
    await stores.log.record([arrived(message(waiting_one), NOW)])

    assert await stores.log.contacts_waiting(NOW + 1, 100) == [waiting_one.key]


async def test_contacts_waiting_returns_at_most_the_limit(stores: Stores) -> None:
    people = [contact() for _ in range(3)]
    await stores.log.record([arrived(message(person)) for person in people])

    found = await stores.log.contacts_waiting(NOW + 1, 2)

    assert len(found) == 2 and set(found) <= {person.key for person in people}


# --- ConversationStore ---------------------------------------------------------------------


async def test_pending_gives_each_contacts_waiting_messages_in_order_with_no_conversation_yet(
    stores: Stores,
) -> None:
    ana, budi = contact(), contact()
    await stores.log.record([arrived(message(ana, "a1")), arrived(message(budi, "b1"))])
    await stores.log.record([arrived(message(ana, "a2"), NOW + 1)])

    turns = {turn.contact_key: turn for turn in await stores.conversations.pending([ana.key, budi.key])}

    assert set(turns) == {ana.key, budi.key}
    assert [item.message.text for item in turns[ana.key].inbound] == ["a1", "a2"]
    assert [item.arrived_at for item in turns[ana.key].inbound] == [NOW, NOW + 1]
    assert turns[ana.key].inbound[0].id < turns[ana.key].inbound[1].id
    assert (turns[ana.key].conversation, turns[ana.key].version) == (None, 0)
    assert turns[ana.key].inbound[0].message.contact == ana


async def test_pending_leaves_out_contacts_with_nothing_waiting(stores: Stores) -> None:
    quiet, limited, talking = contact(), contact(), contact()
    await stores.log.record([arrived(message(limited), status=InboundStatus.RATE_LIMITED),
                             arrived(message(talking))])

    turns = await stores.conversations.pending([quiet.key, limited.key, talking.key])

    assert [turn.contact_key for turn in turns] == [talking.key]
    assert await stores.conversations.pending([]) == []


async def test_get_an_unknown_contact_is_none_at_version_0(stores: Stores) -> None:
    assert await stores.conversations.get(contact().key) == (None, 0)


async def test_save_creates_the_conversation_at_version_1_and_consumes_the_messages(stores: Stores) -> None:
    ana = contact()
    ids = await waiting(stores, ana, "halo", "apa kabar")

    saved = await stores.conversations.save([outcome(ana.key, consumed=tuple(ids), step="CHOOSE_OPTION")])

    assert saved == [True]
    stored, version = await stores.conversations.get(ana.key)
    assert version == 1 and stored == conversation(ana.key, step="CHOOSE_OPTION")
    assert await stores.conversations.pending([ana.key]) == []
    assert await stores.peek.inbound_statuses(ana.key) == ["processed", "processed"]


async def test_pending_brings_the_stored_conversation_and_its_version(stores: Stores) -> None:
    ana = contact()
    ids = await waiting(stores, ana, "halo")
    await stores.conversations.save([outcome(ana.key, consumed=tuple(ids), step="CHOOSE_OPTION")])
    await stores.log.record([arrived(message(ana, "1"), NOW + 5)])

    [turn] = await stores.conversations.pending([ana.key])

    assert turn.conversation == conversation(ana.key, step="CHOOSE_OPTION")
    assert turn.version == 1
    assert [item.message.text for item in turn.inbound] == ["1"]


async def test_save_enqueues_the_replies_records_the_events_and_upserts_the_lead(stores: Stores) -> None:
    ana = contact()
    ids = await waiting(stores, ana, "xyz")
    menu = ButtonsReply(text="Pilih:", buttons=(Button(id="opt_1", title="Satu"),))
    notice = reply("admin", "Ana needs a person", kind=OutboxKind.ADMIN_NOTICE, provider="telegram_admin")
    answer = NewOutbound(kind=OutboxKind.REPLY, lane=ana.key, channel=Channel.WHATSAPP, provider="meta",
                         address=ana.value[1:], reply=menu, reply_to="wamid.x")
    lead = Lead(state=LeadState.MANUAL_INTERVENTION, form=LeadForm(sumber="Instagram"), invalid_answers=3)

    saved = await stores.conversations.save([outcome(
        ana.key, consumed=tuple(ids), outbound=(answer, notice), events=(handoff(ana.key),),
        step="MANUAL_INTERVENTION", lead=lead)])

    assert saved == [True]
    jobs = await stores.outbox.claim(NOW, 10)
    assert [(j.kind, j.lane, j.provider, j.address, j.reply, j.reply_to, j.attempts) for j in jobs] == [
        (OutboxKind.REPLY, ana.key, "meta", ana.value[1:], menu, "wamid.x", 1),
        (OutboxKind.ADMIN_NOTICE, "admin", "telegram_admin", "admin", TextReply(text="Ana needs a person"), None, 1),
    ]
    assert jobs[0].channel is Channel.WHATSAPP
    assert await stores.peek.events(ana.key) == [handoff(ana.key)]
    [record] = await stores.leads.list(state=None, since=None, after_id=None, limit=10)
    assert (record.contact_key, record.state, record.fields) == (ana.key, "MANUAL_INTERVENTION", {"sumber": "Instagram"})


async def test_a_later_save_bumps_the_version_and_updates_the_lead_keeping_its_creation_time(
    stores: Stores,
) -> None:
    ana = contact()
    ids = await waiting(stores, ana, "halo")
    await stores.conversations.save([outcome(ana.key, consumed=tuple(ids), lead=Lead(state=LeadState.CHOOSE_OPTION))])
    form = LeadForm(sumber="IG", bisnis="Kopi", budget="50 juta", rencana="Mei", budget_amount=50_000_000)
    captured = LeadCaptured(contact_key=ana.key, contact_label="Ana", fields={"sumber": "IG"}, at=NOW + 60)

    saved = await stores.conversations.save([outcome(
        ana.key, version=1, at=NOW + 60, events=(captured,),
        lead=Lead(state=LeadState.FORM_COMPLETED, form=form))])

    assert saved == [True]
    assert (await stores.conversations.get(ana.key))[1] == 2
    [record] = await stores.leads.list(state=None, since=None, after_id=None, limit=10)
    assert record.state == "FORM_COMPLETED"
    assert record.fields == {"sumber": "IG", "bisnis": "Kopi", "budget": "50 juta", "rencana": "Mei"}
    assert record.budget_amount == 50_000_000
    assert (record.created_at, record.updated_at) == (NOW, NOW + 60)
    assert await stores.peek.events(ana.key) == [captured]


async def test_a_stale_outcome_changes_nothing_while_the_others_in_the_call_are_saved(stores: Stores) -> None:
    stale, fresh, other, taken, newcomer = (contact() for _ in range(5))
    ids: dict[str, list[int]] = {}
    for who in (stale, fresh, other, taken):
        ids[who.key] = await waiting(stores, who, "first")
        assert await stores.conversations.save([outcome(who.key, consumed=tuple(ids[who.key]))]) == [True]
    # Another instance answered `stale` meanwhile: it is at version 2 now.
    assert await stores.conversations.save([outcome(stale.key, version=1, step="moved on")]) == [True]
    for who in (stale, fresh, other, taken, newcomer):
        ids[who.key] = await waiting(stores, who, "second")
    lead = Lead(state=LeadState.CHOOSE_OPTION)

    def turn(who: ContactId, version: int) -> TurnOutcome:
        return outcome(who.key, version=version, consumed=tuple(ids[who.key]), at=NOW + 9, step="answered",
                       outbound=(reply(who.key, f"answer to {who.key}"),), events=(handoff(who.key),), lead=lead)

    saved = await stores.conversations.save([
        turn(stale, 1), turn(fresh, 1), turn(taken, 0), turn(other, 1), turn(newcomer, 0),
    ])

    assert saved == [False, True, False, True, True]
    for who in (fresh, other, newcomer):
        stored, version = await stores.conversations.get(who.key)
        assert stored is not None and stored.step == "answered"
        assert version == (1 if who is newcomer else 2)
        assert await stores.conversations.pending([who.key]) == []
        assert await stores.peek.events(who.key) == [handoff(who.key)]
    for who, version in ((stale, 2), (taken, 1)):
        stored, found = await stores.conversations.get(who.key)
        assert found == version and stored is not None and stored.step != "answered"
        [left] = await stores.conversations.pending([who.key])
        assert [item.id for item in left.inbound] == ids[who.key]  # still waiting for the bot
        assert await stores.peek.events(who.key) == []
    jobs = await stores.outbox.claim(NOW + 9, 100)
    assert sorted(job.lane for job in jobs) == sorted([fresh.key, other.key, newcomer.key])
    leads = await stores.leads.list(state=None, since=None, after_id=None, limit=100)
    assert sorted(record.contact_key for record in leads) == sorted([fresh.key, other.key, newcomer.key])


async def test_the_replies_of_saved_turns_leave_each_lane_in_the_order_the_turns_made_them(stores: Stores) -> None:
    # One save of several turns, a stale one among them: the saved turns' replies go out in
    # the order each turn made them, and the stale turn's never do.
    ana, budi, stale = contact(), contact(), contact()
    assert await stores.conversations.save([outcome(stale.key)]) == [True]
    assert await stores.conversations.save([outcome(stale.key, version=1, step="moved on")]) == [True]
    shared = lane()  # a lane both turns write to (an operators' channel, say)
    turns = [
        outcome(ana.key, outbound=(reply(ana.key, "a1"), reply(shared, "from ana"), reply(ana.key, "a2"))),
        outcome(stale.key, version=1, outbound=(reply(stale.key, "never"), reply(shared, "never"))),
        outcome(budi.key, outbound=(reply(budi.key, "b1"), reply(shared, "from budi"), reply(budi.key, "b2"))),
    ]

    assert await stores.conversations.save(turns) == [True, False, True]

    sent: dict[str, list[str]] = {}
    for _ in range(4):
        jobs = await stores.outbox.claim(NOW, 100)
        for job in jobs:
            sent.setdefault(job.lane, []).append(job.reply.text)  # type: ignore[union-attr]
        await stores.outbox.finish([DeliveryResult(item_id=job.id, outcome=DeliveryOutcome.SENT,
                                                   provider_message_id=f"wamid.{job.id}") for job in jobs], NOW)
    assert sent == {ana.key: ["a1", "a2"], budi.key: ["b1", "b2"], shared: ["from ana", "from budi"]}


# --- Outbox --------------------------------------------------------------------------------


async def test_claim_gives_the_oldest_job_of_each_lane_and_counts_the_attempt(stores: Stores) -> None:
    ana, budi = lane(), lane()
    await enqueue(stores, ana, "a1", "a2")
    await enqueue(stores, budi, "b1")
    await enqueue(stores, ana, "a3")

    jobs = await stores.outbox.claim(NOW, 10)

    assert [(job.lane, job.reply.text, job.attempts) for job in jobs] == [(ana, "a1", 1), (budi, "b1", 1)]  # type: ignore[union-attr]
    assert jobs[0].id < jobs[1].id


async def test_a_lane_waits_while_its_head_is_in_flight(stores: Stores) -> None:
    ana = lane()
    await enqueue(stores, ana, "first", "second")
    [first] = await stores.outbox.claim(NOW, 10)

    assert await stores.outbox.claim(NOW + 1, 10) == []
    await stores.outbox.finish([DeliveryResult(item_id=first.id, outcome=DeliveryOutcome.SENT)], NOW + 1)
    assert words(await stores.outbox.claim(NOW + 1, 10)) == ["second"]


async def test_a_lane_waits_while_its_head_waits_for_a_retry(stores: Stores) -> None:
    ana, budi = lane(), lane()
    await enqueue(stores, ana, "first", "second")
    [first] = await stores.outbox.claim(NOW, 10)
    await stores.outbox.finish([DeliveryResult(item_id=first.id, outcome=DeliveryOutcome.RETRY,
                                               retry_at=NOW + 30, error="500: busy")], NOW)
    await enqueue(stores, budi, "other lane")

    assert words(await stores.outbox.claim(NOW + 10, 10)) == ["other lane"]
    retried = await stores.outbox.claim(NOW + 30, 10)
    assert [(job.id, job.attempts) for job in retried] == [(first.id, 2)]


async def test_a_claimed_job_says_when_its_contact_last_wrote(stores: Stores) -> None:
    # WhatsApp's 24-hour window is counted from it; a lane no contact ever wrote on has none.
    ana, nobody = contact(), lane()
    await stores.log.record([arrived(message(ana), NOW - 3600)])
    await stores.log.record([arrived(message(ana), NOW - 60)])
    await enqueue(stores, ana.key, "to ana")
    await enqueue(stores, nobody, "to nobody")

    heard = {job.lane: job.contact_last_inbound_at for job in await stores.outbox.claim(NOW, 10)}

    assert heard == {ana.key: NOW - 60, nobody: None}


async def test_claim_respects_next_attempt_at(stores: Stores) -> None:
    await enqueue(stores, lane(), "later", at=NOW + 100)

    assert await stores.outbox.claim(NOW + 99, 10) == []
    assert words(await stores.outbox.claim(NOW + 100, 10)) == ["later"]


async def test_claim_takes_the_oldest_heads_up_to_the_limit(stores: Stores) -> None:
    lanes = [lane() for _ in range(3)]
    for key in lanes:
        await enqueue(stores, key, f"to {key}")

    first = await stores.outbox.claim(NOW, 2)
    rest = await stores.outbox.claim(NOW, 2)

    assert [job.lane for job in first] == lanes[:2]
    assert [job.lane for job in rest] == lanes[2:]


async def test_finish_records_what_became_of_each_job(stores: Stores) -> None:
    for key in (lane(), lane(), lane()):
        await enqueue(stores, key, "job")
    sent, retried, dead = await stores.outbox.claim(NOW, 10)

    await stores.outbox.finish([
        DeliveryResult(item_id=sent.id, outcome=DeliveryOutcome.SENT, provider_message_id="wamid.OK"),
        DeliveryResult(item_id=retried.id, outcome=DeliveryOutcome.RETRY, retry_at=NOW + 5, error="500: oops"),
        DeliveryResult(item_id=dead.id, outcome=DeliveryOutcome.DEAD, error="400: bad number"),
    ], NOW + 1)

    assert await stores.peek.job(sent.id) == Job("sent", 1, "sent", None, "wamid.OK", NOW)
    assert await stores.peek.job(retried.id) == Job("pending", 1, None, "500: oops", None, NOW + 5)
    assert await stores.peek.job(dead.id) == Job("dead", 1, None, "400: bad number", None, NOW)
    assert await stores.outbox.pending_count() == 1


async def test_a_dead_job_frees_its_lane_and_can_be_requeued(stores: Stores) -> None:
    ana = lane()
    await enqueue(stores, ana, "doomed", "next")
    [doomed] = await stores.outbox.claim(NOW, 10)
    await stores.outbox.finish([DeliveryResult(item_id=doomed.id, outcome=DeliveryOutcome.DEAD,
                                               error="400: nope")], NOW)

    [following] = await stores.outbox.claim(NOW, 10)
    assert words([following]) == ["next"]
    await stores.outbox.finish([DeliveryResult(item_id=following.id, outcome=DeliveryOutcome.SENT)], NOW)

    assert await stores.outbox.requeue(doomed.id, NOW + 60) is True
    assert await stores.outbox.claim(NOW + 59, 10) == []
    [again] = await stores.outbox.claim(NOW + 60, 10)
    assert (again.id, again.attempts) == (doomed.id, 1)  # the count starts over


async def test_requeue_is_false_for_a_job_that_is_not_dead(stores: Stores) -> None:
    await enqueue(stores, lane(), "waiting")
    await enqueue(stores, lane(), "sent")
    waiting_job, sent_job = await stores.outbox.claim(NOW, 10)
    await stores.outbox.finish([DeliveryResult(item_id=waiting_job.id, outcome=DeliveryOutcome.RETRY,
                                               retry_at=NOW, error="x"),
                                DeliveryResult(item_id=sent_job.id, outcome=DeliveryOutcome.SENT)], NOW)

    assert await stores.outbox.requeue(waiting_job.id, NOW) is False
    assert await stores.outbox.requeue(sent_job.id, NOW) is False
    assert await stores.outbox.requeue(10**9, NOW) is False
    assert (await stores.peek.job(sent_job.id)).status == "sent"


async def test_recover_gives_stale_claims_back_to_the_queue(stores: Stores) -> None:
    crashed, busy = lane(), lane()
    await enqueue(stores, crashed, "lost")
    [lost] = await stores.outbox.claim(NOW, 10)
    await enqueue(stores, busy, "in flight")
    [in_flight] = await stores.outbox.claim(NOW + 100, 10)

    assert await stores.outbox.recover(claimed_before=NOW + 50, now=NOW + 120) == 1

    [again] = await stores.outbox.claim(NOW + 120, 10)
    assert (again.id, again.attempts) == (lost.id, 2)
    assert (await stores.peek.job(in_flight.id)).status == "sending"
    assert await stores.outbox.recover(claimed_before=NOW + 50, now=NOW + 130) == 0


async def _sent(stores: Stores, provider_message_id: str) -> int:
    await enqueue(stores, lane(), "hello")
    [job] = await stores.outbox.claim(NOW, 10)
    await stores.outbox.finish([DeliveryResult(item_id=job.id, outcome=DeliveryOutcome.SENT,
                                               provider_message_id=provider_message_id)], NOW)
    return job.id


def status(provider_message_id: str, state: DeliveryState, code: str | None = None) -> DeliveryStatus:
    return DeliveryStatus(provider="meta", provider_message_id=provider_message_id, state=state, at=NOW,
                          error_code=code)


async def test_delivery_status_only_moves_forward(stores: Stores) -> None:
    wamid = f"wamid.{uuid.uuid4().hex}"
    job_id = await _sent(stores, wamid)

    await stores.outbox.apply_statuses([status(wamid, DeliveryState.DELIVERED)], NOW + 1)
    assert (await stores.peek.job(job_id)).delivery == "delivered"
    await stores.outbox.apply_statuses([status(wamid, DeliveryState.READ)], NOW + 2)
    await stores.outbox.apply_statuses([status(wamid, DeliveryState.SENT), status(wamid, DeliveryState.DELIVERED)],
                                       NOW + 3)

    assert (await stores.peek.job(job_id)).delivery == "read"


async def test_a_failed_status_records_the_error_code(stores: Stores) -> None:
    wamid = f"wamid.{uuid.uuid4().hex}"
    job_id = await _sent(stores, wamid)

    await stores.outbox.apply_statuses([status(wamid, DeliveryState.FAILED, "131047")], NOW + 1)
    await stores.outbox.apply_statuses([status(wamid, DeliveryState.READ)], NOW + 2)

    job = await stores.peek.job(job_id)
    assert (job.status, job.delivery, job.error) == ("sent", "failed", "131047")


async def test_a_status_is_matched_by_provider_and_message_id(stores: Stores) -> None:
    wamid = f"wamid.{uuid.uuid4().hex}"
    job_id = await _sent(stores, wamid)

    await stores.outbox.apply_statuses([
        DeliveryStatus(provider="waha", provider_message_id=wamid, state=DeliveryState.READ, at=NOW),
        status(f"wamid.{uuid.uuid4().hex}", DeliveryState.READ),
    ], NOW + 1)

    assert (await stores.peek.job(job_id)).delivery == "sent"


async def test_a_status_that_beats_the_send_answer_is_applied_once_the_id_is_stored(stores: Stores) -> None:
    wamid = f"wamid.{uuid.uuid4().hex}"
    await stores.outbox.apply_statuses([status(wamid, DeliveryState.DELIVERED)], NOW)

    job_id = await _sent(stores, wamid)

    assert (await stores.peek.job(job_id)).delivery == "delivered"


async def test_a_report_naming_a_job_whose_answer_was_lost_marks_it_sent_and_it_is_never_resent(
    stores: Stores,
) -> None:
    await enqueue(stores, lane(), "hello")
    [job] = await stores.outbox.claim(NOW, 10)  # the worker dies mid-send: no finish()
    wamid = f"wamid.{uuid.uuid4().hex}"
    report = msgspec.structs.replace(status(wamid, DeliveryState.SENT), tracker=f"chatgate:{job.id}")

    await stores.outbox.apply_statuses([report], NOW + 5)

    assert await stores.outbox.recover(claimed_before=NOW + 200, now=NOW + 300) == 0
    assert await stores.outbox.claim(NOW + 300, 10) == []
    assert (await stores.peek.job(job.id)).provider_message_id == wamid


async def test_pending_count_counts_waiting_and_in_flight_jobs(stores: Stores) -> None:
    assert await stores.outbox.pending_count() == 0
    await enqueue(stores, lane(), "one", "two")
    await enqueue(stores, lane(), "three")
    assert await stores.outbox.pending_count() == 3

    one, three = await stores.outbox.claim(NOW, 10)
    assert await stores.outbox.pending_count() == 3
    await stores.outbox.finish([DeliveryResult(item_id=one.id, outcome=DeliveryOutcome.SENT),
                                DeliveryResult(item_id=three.id, outcome=DeliveryOutcome.DEAD, error="x")], NOW)

    assert await stores.outbox.pending_count() == 1


# --- LeadQuery -----------------------------------------------------------------------------


async def _lead(stores: Stores, state: LeadState, at: float, name: str | None = None) -> str:
    who = contact()
    await stores.log.record([arrived(message(who, name=name), at)])
    [turn] = await stores.conversations.pending([who.key])
    form = LeadForm(sumber="IG", budget="100 juta", budget_amount=100_000_000)
    saved = await stores.conversations.save([outcome(
        who.key, consumed=tuple(i.id for i in turn.inbound), at=at, lead=Lead(state=state, form=form))])
    assert saved == [True]
    return who.key


async def test_leads_are_listed_in_id_order_filtered_by_state_since_and_after_id(stores: Stores) -> None:
    a = await _lead(stores, LeadState.FORM_COMPLETED, NOW)
    b = await _lead(stores, LeadState.CHOOSE_OPTION, NOW + 10)
    c = await _lead(stores, LeadState.FORM_COMPLETED, NOW + 20)
    d = await _lead(stores, LeadState.FORM_COMPLETED, NOW + 30)

    async def keys(**filters: Any) -> list[str]:
        query = {"state": None, "since": None, "after_id": None, "limit": 100} | filters
        return [record.contact_key for record in await stores.leads.list(**query)]

    everyone = await stores.leads.list(state=None, since=None, after_id=None, limit=100)
    assert [record.contact_key for record in everyone] == [a, b, c, d]
    assert [r.id for r in everyone] == sorted(r.id for r in everyone)
    assert await keys(state="FORM_COMPLETED") == [a, c, d]
    assert await keys(since=NOW + 10) == [b, c, d]
    assert await keys(after_id=everyone[1].id) == [c, d]
    assert await keys(limit=2) == [a, b]
    assert await keys(state="FORM_COMPLETED", since=NOW + 5, after_id=everyone[2].id, limit=1) == [d]
    assert await keys(state="EXISTING") == []


async def test_a_lead_is_read_with_its_contact(stores: Stores) -> None:
    key = await _lead(stores, LeadState.FORM_COMPLETED, NOW, name="Ana")
    [listed] = await stores.leads.list(state=None, since=None, after_id=None, limit=10)

    record = await stores.leads.get(listed.id)

    assert record == listed
    assert record is not None
    assert (record.contact_key, record.channel, record.phone, record.name) == (key, "whatsapp", key[9:], "Ana")
    assert (record.state, record.fields, record.budget_amount) == (
        "FORM_COMPLETED", {"sumber": "IG", "budget": "100 juta"}, 100_000_000)
    assert (record.created_at, record.updated_at) == (NOW, NOW)
    assert await stores.leads.get(listed.id + 1000) is None


# --- TranscriptQuery -----------------------------------------------------------------------


async def _exchange(stores: Stores, who: ContactId, said: str, answer: str, at: float) -> None:
    await stores.log.record([arrived(message(who, said), at)])
    [turn] = await stores.conversations.pending([who.key])
    conversation_now, version = await stores.conversations.get(who.key)
    notice = reply("admin", f"notice about {said}", kind=OutboxKind.ADMIN_NOTICE, provider="telegram_admin")
    saved = await stores.conversations.save([outcome(
        who.key, version=version, consumed=tuple(i.id for i in turn.inbound), at=at + 1,
        outbound=(reply(who.key, answer), notice))])
    assert saved == [True]


async def test_a_transcript_interleaves_both_ways_oldest_first_without_admin_notices(stores: Stores) -> None:
    ana = contact()
    await _exchange(stores, ana, "halo", "Selamat datang", NOW)
    await _exchange(stores, ana, "1", "Isi formulir", NOW + 10)
    await stores.log.record([arrived(message(ana, "too fast"), NOW + 20, InboundStatus.RATE_LIMITED)])

    entries = await stores.transcripts.transcript(ana.key, 50)

    assert [(e.direction, e.text, e.at, e.status) for e in entries] == [
        ("in", "halo", NOW, "processed"),
        ("out", "Selamat datang", NOW + 1, "pending"),
        ("in", "1", NOW + 10, "processed"),
        ("out", "Isi formulir", NOW + 11, "pending"),
        ("in", "too fast", NOW + 20, "rate_limited"),
    ]
    assert entries[1].reply == TextReply(text="Selamat datang")
    assert entries[0].reply is None


async def test_a_transcript_keeps_the_latest_entries_up_to_the_limit(stores: Stores) -> None:
    ana = contact()
    for i in range(3):
        await _exchange(stores, ana, f"q{i}", f"a{i}", NOW + 10 * i)

    entries = await stores.transcripts.transcript(ana.key, 3)

    assert [e.text for e in entries] == ["a1", "q2", "a2"]
    assert await stores.transcripts.transcript(contact().key, 10) == []


async def test_messages_that_arrived_together_stay_in_their_order(stores: Stores) -> None:
    ana = contact()
    await stores.log.record([arrived(message(ana, text), NOW) for text in ("one", "two", "three")])
    [turn] = await stores.conversations.pending([ana.key])
    await stores.conversations.save([outcome(ana.key, consumed=tuple(i.id for i in turn.inbound), at=NOW + 1,
                                             outbound=(reply(ana.key, "first"), reply(ana.key, "second")))])

    entries = await stores.transcripts.transcript(ana.key, 10)

    assert [e.text for e in entries] == ["one", "two", "three", "first", "second"]


# --- ContactDirectory ----------------------------------------------------------------------


async def test_an_alias_recorded_with_a_message_resolves_to_its_contact(stores: Stores) -> None:
    ana = contact()
    bsuid = ContactId(channel="whatsapp", value=f"bsuid:ID.{uuid.uuid4().int % 10**16}")
    stranger = ContactId(channel="whatsapp", value=f"lid:{uuid.uuid4().int % 10**12}")
    assert await stores.directory.resolve(bsuid) == bsuid

    await stores.log.record([arrived(msgspec.structs.replace(message(ana), aliases=(bsuid,)))])

    assert await stores.directory.resolve(bsuid) == ana
    assert await stores.directory.resolve(stranger) == stranger
    assert await stores.directory.resolve(ana) == ana


async def test_concurrent_claims_never_take_one_job_twice_nor_two_of_one_lane(stores: Stores) -> None:
    lanes = [lane() for _ in range(30)]
    for key in lanes:
        await enqueue(stores, key, "first", "second")

    claims = await asyncio.gather(*(stores.outbox.claim(NOW, 7) for _ in range(6)))

    taken = [item for claim in claims for item in claim]
    assert len({item.id for item in taken}) == len(taken)
    assert len({item.lane for item in taken}) == len(taken)  # never two of one lane
    assert set(words(taken)) == {"first"} and taken  # only heads; a lane passed over waits its turn
    later = await stores.outbox.claim(NOW, 100)
    assert {item.lane for item in taken} | {item.lane for item in later} == set(lanes)


async def test_a_deferred_job_waits_its_time_and_its_attempt_is_not_counted(stores: Stores) -> None:
    await enqueue(stores, lane(), "hello")
    [job] = await stores.outbox.claim(NOW, 10)

    await stores.outbox.finish([DeliveryResult(item_id=job.id, outcome=DeliveryOutcome.DEFER, retry_at=NOW + 5)], NOW)

    assert await stores.outbox.claim(NOW + 4, 10) == []
    [again] = await stores.outbox.claim(NOW + 5, 10)
    assert (again.id, again.attempts) == (job.id, 1)


# --- Transactions PostgreSQL rolls back on its own -----------------------------------------


@pytest.mark.postgres
async def test_a_deadlock_victim_is_run_again_and_other_errors_are_not(postgres_url: str, postgres_schema: str) -> None:
    # The errors are PostgreSQL's own, raised by the server with their SQLSTATE.
    db = _private_database(postgres_url, postgres_schema, poolclass=NullPool)
    table = f"retry_{uuid.uuid4().hex[:8]}"
    attempts: list[int] = []

    def deadlocked_once(conn: Any) -> int:
        attempts.append(1)
        conn.execute(text(f'INSERT INTO "{table}" VALUES (1)'))
        if len(attempts) == 1:
            conn.execute(text("DO $$ BEGIN RAISE EXCEPTION 'chosen as the victim' USING ERRCODE = '40P01'; END $$"))
        return len(attempts)

    def duplicate(conn: Any) -> None:
        attempts.append(1)
        conn.execute(text("DO $$ BEGIN RAISE EXCEPTION 'not a deadlock' USING ERRCODE = '23505'; END $$"))

    try:
        await db.write(lambda conn: conn.execute(text(f'CREATE TABLE "{table}" (n integer)')))
        assert await db.write(deadlocked_once) == 2
        assert await db.read(lambda conn: conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()) == 1
        attempts.clear()
        with pytest.raises(DBAPIError):
            await db.write(duplicate)
        assert attempts == [1]
    finally:
        await db.write(lambda conn: conn.execute(text(f'DROP TABLE IF EXISTS "{table}"')))
        await db.dispose()


@pytest.mark.postgres
async def test_a_statement_chosen_as_a_deadlock_victim_in_autocommit_is_run_again(
    postgres_url: str, postgres_schema: str
) -> None:
    # A send's retries and dead letters are statements in autocommit: a deadlock there must
    # not end the dispatcher's batch either.
    db = _private_database(postgres_url, postgres_schema, poolclass=NullPool)
    table = f"retry_{uuid.uuid4().hex[:8]}"
    attempts: list[int] = []

    def victim_once(conn: Any) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            conn.execute(text("DO $$ BEGIN RAISE EXCEPTION 'chosen as the victim' USING ERRCODE = '40P01'; END $$"))
        conn.execute(text(f'INSERT INTO "{table}" VALUES (1)'))
        return len(attempts)

    try:
        await db.write(lambda conn: conn.execute(text(f'CREATE TABLE "{table}" (n integer)')))
        assert await db.each_atomic(victim_once) == 2
        assert await db.read(lambda conn: conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()) == 1
    finally:
        await db.write(lambda conn: conn.execute(text(f'DROP TABLE IF EXISTS "{table}"')))
        await db.dispose()


@pytest.mark.postgres
async def test_the_native_pool_runs_a_deadlock_victim_again_and_other_errors_once(
    postgres_url: str, postgres_schema: str
) -> None:
    # The hot units of work (a webhook's record, a turn, a send) run on asyncpg's own pool:
    # PostgreSQL's own errors, raised with their SQLSTATE, are retried there as elsewhere.
    db = _private_database(postgres_url, postgres_schema, poolclass=NullPool)
    assert db.native is not None
    table = f"retry_{uuid.uuid4().hex[:8]}"
    attempts: list[int] = []

    async def insert_then_victim_once(conn: Any) -> int:
        attempts.append(1)
        await conn.execute(f'INSERT INTO "{table}" VALUES (1)')
        if len(attempts) == 1:
            await conn.execute("DO $$ BEGIN RAISE EXCEPTION 'chosen as the victim' USING ERRCODE = '40P01'; END $$")
        return len(attempts)

    async def duplicate(conn: Any) -> None:
        attempts.append(1)
        await conn.execute("DO $$ BEGIN RAISE EXCEPTION 'not a deadlock' USING ERRCODE = '23505'; END $$")

    async def count(conn: Any) -> int:
        return int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))

    try:
        # The native pool connects as the engine does (here: into this session's schema).
        assert await db.native.atomic(lambda conn: conn.fetchval("SHOW search_path")) == postgres_schema
        await db.native.atomic(lambda conn: conn.execute(f'CREATE TABLE "{table}" (n integer)'))
        # Each statement stands on its own: the first try's insert had committed by itself.
        assert await db.native.atomic(insert_then_victim_once) == 2
        assert await db.native.atomic(count) == 2
        attempts.clear()
        with pytest.raises(asyncpg.UniqueViolationError):
            await db.native.atomic(duplicate)
        assert attempts == [1]
    finally:
        await db.native.atomic(lambda conn: conn.execute(f'DROP TABLE IF EXISTS "{table}"'))
        await db.dispose()

"""Cost of the hot units of work on PostgreSQL (a webhook's record, a turn, a send), one at a time.

The stores' hot units of work, run one after the other (no concurrency, so no queueing) on a
fresh database, measuring per unit the wall time and this process's CPU (SQLAlchemy, asyncpg,
the event loop), and PostgreSQL's own CPU over the run (its backends' ticks, from /proc):

    .venv/bin/python bench/pg_units.py --units 2000 --batch 5

The database named by ``--database`` (default ``bench_units``) is dropped and created anew.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from adapters.sql.conversations import SqlConversationStore
from adapters.sql.database import open_database
from adapters.sql.message_log import SqlMessageLog
from adapters.sql.outbox import SqlOutbox
from application.ports.storage import (
    DeliveryOutcome,
    DeliveryResult,
    InboundStatus,
    NewInbound,
    NewOutbound,
    OutboxKind,
    TurnOutcome,
)
from domain.conversations import Conversation
from domain.contacts import whatsapp_contact
from domain.messages import Channel, InboundMessage, TextReply


def _postgres_ticks() -> int:
    """CPU ticks (user + system) of every postgres process."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if name.startswith("postgres"):
            total += int(rest[11]) + int(rest[12])
    return total


def _number(contact: int) -> str:
    return f"62811{contact:07d}"


def _key(contact: int) -> str:
    return whatsapp_contact(_number(contact)).key


def _first_turn(key: str, consumed: tuple[int, ...]) -> TurnOutcome:
    now = time.time()
    conversation = Conversation(contact_key=key, bot="franchise_leads", step="menu", started_at=now, updated_at=now)
    reply = NewOutbound(kind=OutboxKind.REPLY, lane=key, channel=Channel.WHATSAPP, provider="meta",
                        address=key.rsplit("+", 1)[-1], reply=TextReply(text="Halo! Pilih menu: 1, 2 atau 3."))
    return TurnOutcome(contact_key=key, conversation=conversation, expected_version=0, consumed=consumed,
                       outbound=(reply,), at=now)


def _message(contact: int, seq: int) -> NewInbound:
    who = whatsapp_contact(_number(contact))
    message = InboundMessage(
        channel=Channel.WHATSAPP, provider="meta", provider_message_id=f"wamid.{contact}.{seq}",
        contact=who, text="halo", received_at=time.time(), profile_name="Bench",
        phone=who.phone, reply_address=_number(contact),
    )
    return NewInbound(message=message, arrived_at=time.time(), status=InboundStatus.PENDING)


async def _measure(label: str, units: int, work) -> None:  # type: ignore[no-untyped-def]
    ticks, cpu, wall = _postgres_ticks(), time.process_time(), time.perf_counter()
    for unit in range(units):
        await work(unit)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pg = (_postgres_ticks() - ticks) / os.sysconf("SC_CLK_TCK")
    print(f"{label:34s} wall {wall / units * 1e6:7.0f} µs   client CPU {cpu / units * 1e6:6.0f} µs   "
          f"PostgreSQL CPU {pg / units * 1e6:6.0f} µs  per unit")


async def main(args: argparse.Namespace) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{args.database}"
    db = open_database(url)
    log, store, outbox = SqlMessageLog(db), SqlConversationStore(db), SqlOutbox(db)
    batch = args.batch

    async def record(unit: int) -> None:
        await log.record([_message(unit * batch + i, unit) for i in range(batch)])

    async def load(unit: int) -> None:
        keys = [_key(unit * batch + i) for i in range(batch)]
        await store.pending(keys)

    async def save(unit: int) -> None:
        turns = await store.pending([_key(unit * batch + i) for i in range(batch)])
        await store.save([_first_turn(t.contact_key, tuple(m.id for m in t.inbound)) for t in turns])

    async def claim_and_finish(unit: int) -> None:
        claimed = await outbox.claim(time.time() + 1, batch)
        await outbox.finish([DeliveryResult(item_id=item.id, outcome=DeliveryOutcome.SENT,
                                            provider_message_id=f"wamid.sent.{item.id}") for item in claimed],
                            time.time())

    async def turns_and_sends(unit: int) -> None:
        await save(unit)
        await claim_and_finish(unit)

    await _measure(f"record {batch} messages", args.units, record)
    await _measure(f"load {batch} contacts' turns", args.units, load)
    await _measure(f"load, save, claim, finish {batch} turns", args.units, turns_and_sends)
    await db.dispose()


def _fresh_database(name: str) -> None:
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True)
    env = {**os.environ, "CHATGATE_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"}
    subprocess.run([str(Path(sys.executable).parent / "chatgate"), "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--database", default="bench_units")
    arguments = parser.parse_args()
    _fresh_database(arguments.database)
    asyncio.run(main(arguments))

"""PostgreSQL: a batch of turns saved in one statement.

The conversations are upserted: a new one inserted unless it exists already, an existing one
updated only where its version is still the one the turn loaded; RETURNING names the ones
saved. Everything else a turn did — its messages consumed, its replies enqueued, its events,
orders and lead recorded — is a data-modifying CTE over arrays whose rows each name their
turn's contact, and keeps only the rows of turns saved.

One statement is whole by itself, so it runs in autocommit: one round trip where the
transaction took seven (BEGIN, five statements, COMMIT). On this machine a round trip alone
costs PostgreSQL about 135 µs of CPU (bench/README.md, seventh session).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import Insert
from sqlalchemy.sql.schema import Table
from sqlalchemy.types import TypeEngine

from adapters.sql.engine import unnest_arrays
from adapters.sql.outbox import OUTBOX_COLUMNS
from adapters.sql.schema import conversations, events, inbound_messages, leads, orders, outbox

#: The columns each batch inserts (the rows' keys), in the order their arrays are bound.
CONVERSATION_COLUMNS = ("contact_key", "bot", "state", "version", "updated_at", "keep")
EVENT_COLUMNS = ("kind", "contact_key", "payload", "created_at")
LEAD_COLUMNS = ("contact_key", "conversation_started_at", "bot", "state", "fields", "budget_amount", "created_at",
                "updated_at")
ORDER_COLUMNS = ("number", "contact_key", "state", "payload", "created_at", "updated_at")
#: Each effect's prefix: its arrays are bound as ``<prefix><column>``, plus ``<prefix>owner``
#: (the contact whose turn it belongs to).
PREFIXES = {"consume": "m_", "outbox": "o_", "events": "e_", "leads": "l_", "orders": "r_"}


def upsert_lead(statement: Any) -> Any:
    """A lead INSERT (either dialect's) that updates the conversation's lead if it exists."""
    return statement.on_conflict_do_update(
        index_elements=[leads.c.contact_key, leads.c.conversation_started_at],
        set_={key: statement.excluded[key] for key in ("bot", "state", "fields", "budget_amount", "updated_at")},
    )


def parameters(saved: Sequence[dict[str, Any]],
               effects: dict[str, tuple[list[str], list[dict[str, Any]]]]) -> dict[str, list[Any]]:
    """The statement's arrays: the conversations as each turn left them (at the version it
    loaded, plus one), and each effect's owners and rows (consume: rows of ``{"id": …}``)."""
    bound: dict[str, list[Any]] = {f"n_{name}": [row[name] for row in saved] for name in CONVERSATION_COLUMNS}
    for effect, prefix in PREFIXES.items():
        owners, rows = effects.get(effect, ([], []))
        bound[f"{prefix}owner"] = owners
        for name in _EFFECT_COLUMNS[effect]:
            bound[prefix + name] = [row[name] for row in rows]
    return bound


@functools.cache
def statement() -> Select[tuple[str]]:
    """The whole save; its rows are the contacts whose turns were saved."""
    given = unnest_arrays("n_", _typed(conversations, CONVERSATION_COLUMNS))
    # An upsert finds each conversation through the primary key whatever the planner believes
    # (an UPDATE … FROM joined them by scanning the table whole, planned while it was empty).
    # A new conversation (version 1) must not exist yet; an existing one must still be at the
    # version the turn loaded, and is never created here if it is gone (expired meanwhile).
    stored = conversations.alias("stored")
    # A scalar subquery with a LIMIT: one probe per row (PostgreSQL may hash an EXISTS, scanning
    # the whole table for it).
    still_there = select(stored.c.version).where(
        stored.c.contact_key == given.c.contact_key).limit(1).scalar_subquery().is_not(None)
    insert = postgresql.insert(conversations).from_select(
        list(CONVERSATION_COLUMNS), select(*given.c).where((given.c.version == 1) | still_there))
    kept = insert.on_conflict_do_update(
        index_elements=[conversations.c.contact_key],
        set_={name: insert.excluded[name] for name in CONVERSATION_COLUMNS if name != "contact_key"},
        where=(insert.excluded.version > 1) & (conversations.c.version == insert.excluded.version - 1),
    ).returning(conversations.c.contact_key).cte("kept")
    # A filter on each row, not a join: the rows keep their order, which outbox ids (the order
    # replies leave in) and event ids follow.
    saved = literal_column(f"ARRAY(SELECT {kept.name}.contact_key FROM {kept.name})")

    def of_saved(owner: ColumnElement[Any]) -> ColumnElement[bool]:
        return owner == func.any(saved)

    consumed_ids = unnest_arrays("m_", [("owner", _KEY), ("id", inbound_messages.c.id.type)])
    consumed = (
        update(inbound_messages).where(inbound_messages.c.id == consumed_ids.c.id, of_saved(consumed_ids.c.owner))
        .values(status="processed").cte("consumed")
    )
    enqueued = _insert_kept(outbox, "o_", OUTBOX_COLUMNS, of_saved).cte("enqueued")
    recorded = _insert_kept(events, "e_", EVENT_COLUMNS, of_saved).cte("events_recorded")
    placed = _insert_kept(orders, "r_", ORDER_COLUMNS, of_saved,
                          lambda s: s.on_conflict_do_nothing(index_elements=["number"])).cte("orders_placed")

    leads_kept = _insert_kept(leads, "l_", LEAD_COLUMNS, of_saved, upsert_lead).cte("leads_kept")
    # Data-modifying CTEs run whether or not the main query reads them; empty arrays do nothing.
    # Each CTE named before the ones that read it, as PostgreSQL wants.
    return select(kept.c.contact_key).add_cte(kept, consumed, enqueued, recorded, placed, leads_kept)


_KEY = conversations.c.contact_key.type
def _typed(table: Table, names: Sequence[str]) -> list[tuple[str, TypeEngine[Any]]]:
    return [(name, table.c[name].type) for name in names]


_EFFECT_COLUMNS = {"consume": ("id",), "outbox": OUTBOX_COLUMNS, "events": EVENT_COLUMNS, "leads": LEAD_COLUMNS,
                   "orders": ORDER_COLUMNS}


def _insert_kept(table: Table, prefix: str, names: Sequence[str], of_saved, finish=lambda s: s) -> Insert:  # type: ignore[no-untyped-def]
    """INSERT of the rows whose owner's turn was saved, in the order given."""
    rows = unnest_arrays(prefix, [*_typed(table, names), ("owner", _KEY)], ordinality=True)
    source = select(*(rows.c[name] for name in names)).where(of_saved(rows.c.owner)).order_by(rows.c.n)
    return finish(postgresql.insert(table).from_select(list(names), source))

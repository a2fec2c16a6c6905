"""Dialect-specific statements the stores share.

On PostgreSQL a batch of rows is inserted as ``INSERT … SELECT FROM unnest(arrays)``, one array
per column, instead of one VALUES tuple per row, so that the SQL text never depends on how
many rows there are. asyncpg prepares a statement once per SQL text: a multi-row VALUES costs
a prepare (an extra round trip, a parse and a plan) on almost every unit of work; constant SQL
is prepared once per connection, and its plan (a function scan feeding the insert) has no
choice in it that statistics could get wrong. SQLite, in-process, keeps the plain form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, CursorResult, bindparam, column, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Insert
from sqlalchemy.sql.schema import Table
from sqlalchemy.types import ARRAY, TypeEngine


def upsert(dialect: str, table: Table) -> Insert:
    """An INSERT with the dialect's ON CONFLICT clauses available."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@dataclass(frozen=True)
class BatchInsert:
    """An INSERT of many rows, run in one execution (see the module docstring)."""

    statement: Insert
    #: The columns sent as one array each (PostgreSQL); None: an executemany of the rows.
    arrays: tuple[str, ...] | None
    #: Prefixed to each array's bind name, so that several batches can share one statement.
    prefix: str = ""

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, object]]) -> CursorResult[object]:
        """Insert the rows (each has every column of the insert)."""
        if self.arrays is None:
            return conn.execute(self.statement, list(rows))
        return conn.execute(self.statement, self.parameters(rows))

    def parameters(self, rows: Sequence[Mapping[str, object]]) -> dict[str, list[object]]:
        """The arrays' bound values for the rows (PostgreSQL)."""
        assert self.arrays is not None
        return {self.prefix + name: [row[name] for row in rows] for name in self.arrays}


def batch_insert(
    dialect: str, table: Table, names: Sequence[str], finish: Callable[[Insert], Insert] = lambda s: s,
    *, prefix: str = "",
) -> BatchInsert:
    """An INSERT of ``names`` into ``table``; ``finish`` adds ON CONFLICT / RETURNING clauses.

    On PostgreSQL the rows come from ``unnest`` over one array per column, in the order given
    (so identity columns are assigned in that order, as a multi-row VALUES would).
    """
    statement = upsert(dialect, table)
    if dialect != "postgresql":
        return BatchInsert(finish(statement), None)
    rows = unnest_arrays(prefix, [(name, table.c[name].type) for name in names])
    source = select(*rows.c)
    return BatchInsert(finish(statement.from_select(list(names), source)), tuple(names), prefix)


def unnest_arrays(prefix: str, columns: Sequence[tuple[str, TypeEngine[Any]]], *, ordinality: bool = False):  # type: ignore[no-untyped-def]
    """PostgreSQL: ``unnest`` over one bound array per column (bound as ``<prefix><name>``), as
    a derived table with those columns (and ``n``, each row's position, with ``ordinality``)."""
    unnest = func.unnest(*(bindparam(prefix + name, type_=ARRAY(kind)) for name, kind in columns))
    derived = [column(name, kind) for name, kind in columns]
    if ordinality:
        return unnest.table_valued(*derived, with_ordinality="n").render_derived()
    return unnest.table_valued(*derived).render_derived()

"""Dialect-specific statements the stores share."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Insert
from sqlalchemy.sql.schema import Table


def upsert(dialect: str, table: Table) -> Insert:
    """An INSERT with the dialect's ON CONFLICT clauses available."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)

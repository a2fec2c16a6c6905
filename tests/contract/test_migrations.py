"""The Alembic migrations build exactly the schema the code uses, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.migrate import alembic_config, upgrade
from adapters.sql.schema import metadata


def _differences(sync_url: str) -> list:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()


def test_sqlite_migrations_match_the_tables_and_go_down_and_up_again(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    upgrade(url)
    assert _differences(f"sqlite:///{tmp_path}/m.db") == []
    command.downgrade(alembic_config(url), "base")
    upgrade(url)
    assert _differences(f"sqlite:///{tmp_path}/m.db") == []


def test_postgresql_migrations_match_the_tables(postgres_url: str) -> None:
    schema = f"migrations_{uuid.uuid4().hex[:10]}"

    async def migrate_and_compare() -> list:
        engine = create_async_engine(postgres_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            async with engine.begin() as conn:
                await conn.execute(text(f'SET search_path TO "{schema}"'))
                await conn.run_sync(lambda sync: command.upgrade(_config_on(sync), "head"))
                return await conn.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
                )
        finally:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()

    assert asyncio.run(migrate_and_compare()) == []


def _config_on(connection):  # type: ignore[no-untyped-def]
    config = alembic_config("postgresql+asyncpg://unused")
    config.attributes["connection"] = connection
    return config

"""Running units of work against the database, each a plain function of a Connection.

The stores write every read and every transaction as a synchronous function of a SQLAlchemy
``Connection``; a ``Database`` runs it:

- ``ThreadedSqlite`` (embedded): a synchronous engine on the standard library's sqlite3, in
  one dedicated thread, one hop per unit of work. Measured on this machine: a transaction of six
  statements costs about 190 µs of CPU this way against about 1,080 µs through aiosqlite, which
  hops threads for every statement and cursor call (bench/README.md). One thread also
  serialises writers, as SQLite wants.
- ``AsyncDriverDatabase`` (PostgreSQL through asyncpg): the async engine, the function run with
  ``run_sync`` in SQLAlchemy's greenlet, each statement awaited on the event loop. The units of
  work every message goes through run on asyncpg itself instead (``native``,
  ``adapters.sql.native``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sql.native import NativePool, again_if_chosen

T = TypeVar("T")
Work = Callable[[Connection], T]


@runtime_checkable
class Database(Protocol):
    """Runs units of work: ``write`` in a transaction, ``read`` without one."""

    dialect: str
    #: PostgreSQL's own driver for the hot units of work; None where there is none (SQLite).
    native: NativePool | None

    async def write(self, work: Work[T]) -> T:
        """Run ``work`` in a transaction, committed when it returns."""
        ...

    async def read(self, work: Work[T]) -> T:
        """Run ``work`` on a connection for reading."""
        ...

    async def each_atomic(self, work: Work[T]) -> T:
        """Run ``work`` whose statements are each whole on their own: where the database allows,
        each commits by itself, without the round trips of a transaction around them."""
        ...

    async def dispose(self) -> None:
        """Close every connection."""
        ...


class ThreadedSqlite:
    """SQLite through the standard library, in one thread of its own."""

    dialect = "sqlite"
    native = None

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(_sync_sqlite_url(url), pool_size=1, max_overflow=0)
        event.listen(self.engine, "connect", _tune_sqlite)
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="chatgate-sqlite")

    async def write(self, work: Work[T]) -> T:
        """Run ``work`` in a transaction, committed when it returns."""
        return await self._run(lambda: _in_transaction(self.engine, work))

    async def read(self, work: Work[T]) -> T:
        """Run ``work`` on a connection for reading."""
        return await self._run(lambda: _on_connection(self.engine, work))

    async def each_atomic(self, work: Work[T]) -> T:
        """One transaction: in one local thread it costs no round trip."""
        return await self.write(work)

    async def dispose(self) -> None:
        """Close the connection and the thread."""
        await self._run(self.engine.dispose)
        self._thread.shutdown(wait=True)

    async def _run(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)


class AsyncDriverDatabase:
    """A database with an asyncio driver (PostgreSQL through asyncpg)."""

    def __init__(self, engine: AsyncEngine, *, connect_args: Mapping[str, Any] | None = None,
                 native_pool_size: int = 10) -> None:
        """``connect_args``: what the engine was created with, for the native pool too."""
        self.engine = engine
        self.dialect = engine.dialect.name
        self.native = NativePool(engine.url, connect_args or {}, native_pool_size)
        # Reads and single-statement writes in autocommit: no BEGIN and no COMMIT/ROLLBACK,
        # two round trips fewer per unit of work. Each statement still sees what was committed
        # when it started, as it would inside a READ COMMITTED transaction.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def write(self, work: Work[T]) -> T:
        """Run ``work`` in a transaction, committed when it returns; a transaction PostgreSQL
        chose as a deadlock's victim (or failed to serialise) is run again, a few times."""
        return await again_if_chosen(lambda: self._in_transaction(work))

    async def read(self, work: Work[T]) -> T:
        """Run ``work`` on a connection for reading, each statement on its own."""
        async with self._autocommit.connect() as conn:
            return await conn.run_sync(work)

    async def each_atomic(self, work: Work[T]) -> T:
        """Run ``work`` in autocommit: each statement commits by itself (and runs again when
        PostgreSQL chose it as a deadlock's victim: it was rolled back whole)."""
        return await again_if_chosen(lambda: self.read(work))

    async def _in_transaction(self, work: Work[T]) -> T:
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.native.close()
        await self.engine.dispose()


def open_database(url: str) -> Database:
    """The database behind an SQLAlchemy URL (``sqlite+aiosqlite://…`` is read as SQLite)."""
    if url.startswith("sqlite"):
        return ThreadedSqlite(url)
    return postgres_database(url)


def postgres_database(url: str, *, connect_args: Mapping[str, Any] | None = None,
                      **pool: Any) -> AsyncDriverDatabase:
    """PostgreSQL at the URL: SQLAlchemy's engine and asyncpg's own pool, both connecting with
    ``connect_args`` (asyncpg's, e.g. ``server_settings``). At most 20 connections per process,
    as before the native pool: 10 for the hot units of work, 5 + 5 overflow for the rest."""
    # No pre-ping: it costs a round trip per unit of work; a dead connection is invalidated
    # on its first error instead, and old ones are recycled.
    sizes = {} if "poolclass" in pool else {"pool_size": 5, "max_overflow": 5}
    options = {**sizes, "pool_recycle": 1800, **pool}
    engine = create_async_engine(url, connect_args=dict(connect_args or {}), **options)
    return AsyncDriverDatabase(engine, connect_args=connect_args)


def _sync_sqlite_url(url: str) -> str:
    # CONTRACT.md's default names aiosqlite; the same file is opened with the sqlite3 driver.
    return make_url(url).set(drivername="sqlite").render_as_string(hide_password=False)


def _tune_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers run beside the writer; NORMAL sync is durable across process crashes.
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _in_transaction(engine: Engine, work: Work[T]) -> T:
    with engine.begin() as conn:
        return work(conn)


def _on_connection(engine: Engine, work: Work[T]) -> T:
    with engine.connect() as conn:
        return work(conn)

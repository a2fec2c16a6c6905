"""PostgreSQL's hot statements, run on asyncpg itself past SQLAlchemy's execution layer.

The statements stay SQLAlchemy Core (one definition for both databases); on PostgreSQL the
units of work every message goes through (its record, its turn, its send) compile them once
for asyncpg and run them on a connection of asyncpg's own pool. Measured on this machine
(bench/README.md, seventh session): one SELECT through ``Connection.execute`` in
``run_sync`` cost about 400 µs of client CPU, about 140 µs on asyncpg directly; SQLAlchemy's
pool checkout alone was about 100 µs of the difference.

Only execution is bypassed: SQL text, bind order, literal values and bind processors all
come from SQLAlchemy's compiler, so what runs is exactly what SQLAlchemy would have sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.sql import ClauseElement

T = TypeVar("T")
Record = asyncpg.Record
NativeConnection = asyncpg.Connection
_DIALECT = PGDialect_asyncpg()
# The sqlstates PostgreSQL rolls a whole statement or transaction back with, that may simply
# run again: deadlock_detected and serialization_failure.
_RETRYABLE = frozenset({"40P01", "40001"})
_ATTEMPTS = 3


class NativeStatement:
    """One statement compiled for asyncpg: its SQL and its arguments from named parameters."""

    def __init__(self, statement: ClauseElement) -> None:
        self._compiled = statement.compile(dialect=_DIALECT)
        # One SQL text, prepared once per connection: lists go as arrays, never as IN (…) lists
        # bound with each execution (their SQL would change with their length).
        if any(bind.expanding for bind in self._compiled.binds.values()):
            raise ValueError(f"an IN list bound per execution has no place on the native path: {self._compiled}")
        self.sql = self._compiled.string
        processors = self._compiled._bind_processors  # noqa: SLF001 - the values SQLAlchemy would send
        self._slots = [(name, processors.get(name)) for name in self._compiled.positiontup or ()]

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for named parameters (literals filled in, values processed)."""
        values = self._compiled.construct_params(parameters)
        return [process(values[name]) if process else values[name] for name, process in self._slots]

    async def fetch(self, conn: NativeConnection, parameters: Mapping[str, Any] | None = None) -> list[Record]:
        """Run it and return its rows."""
        return await conn.fetch(self.sql, *self.arguments(parameters or {}))


@functools.cache
def for_asyncpg(statement: ClauseElement) -> NativeStatement:
    """The statement compiled for asyncpg, once (statements on the hot path are built once)."""
    return NativeStatement(statement)


class NativePool:
    """asyncpg's own pool, opened on first use with the engine's URL and connection settings."""

    def __init__(self, url: URL, connect_args: Mapping[str, Any], max_size: int) -> None:
        arguments, options = _DIALECT.create_connect_args(url)
        assert not arguments
        for adapter_only in ("prepared_statement_cache_size", "prepared_statement_name_func"):
            options.pop(adapter_only, None)  # SQLAlchemy's adapter takes these, asyncpg does not
        self._options = {**options, **connect_args}
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[NativeConnection]:
        """A connection in autocommit: each statement commits by itself."""
        pool = self._pool or await self._open()
        async with pool.acquire() as conn:
            yield conn

    async def atomic(self, work: Callable[[NativeConnection], Awaitable[T]]) -> T:
        """Run ``work``, each of its statements whole by itself; run again, a few times, when
        PostgreSQL chose one as a deadlock's victim (it was rolled back whole)."""
        return await again_if_chosen(lambda: self._on_connection(work))

    async def close(self) -> None:
        """Close every connection."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _on_connection(self, work: Callable[[NativeConnection], Awaitable[T]]) -> T:
        async with self.connection() as conn:
            return await work(conn)

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                # No reset query on release (asyncpg's default costs a round trip each time):
                # these units of work leave no session state behind them.
                self._pool = await asyncpg.create_pool(
                    min_size=0, max_size=self._max_size, reset=_leave_as_is, **self._options)
            return self._pool


async def _leave_as_is(_conn: NativeConnection) -> None:
    return None


async def again_if_chosen(run: Callable[[], Awaitable[T]]) -> T:
    """``run()``, and again (a few times, after a short random pause) when PostgreSQL chose it
    as a deadlock's victim or failed to serialise it: it was rolled back whole, so running it
    again is safe. asyncpg's errors carry the sqlstate; SQLAlchemy's wrap them (``orig``)."""
    attempt = 1
    while True:
        try:
            return await run()
        except Exception as exc:
            sqlstate = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
            if attempt == _ATTEMPTS or sqlstate not in _RETRYABLE:
                raise
        await asyncio.sleep(random.uniform(0.001, 0.01 * attempt))
        attempt += 1

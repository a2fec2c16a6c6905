"""CPU per SQLite transaction: aiosqlite's async engine against one sqlite3 thread per unit of work.

The stores run each unit of work as a function of a Connection (adapters/sql/database.py).
This compares the two ways of running one on SQLite, with the pragmas Chatgate uses:

    .venv/bin/python bench/sqlite_units.py --transactions 3000
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import tempfile
import time
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.database import _tune_sqlite


def _statements(conn: Connection, count: int) -> None:
    for _ in range(count // 2):
        conn.execute(text("INSERT INTO t (b) VALUES ('x')"))
        conn.execute(text("SELECT count(*) FROM t WHERE a < 10")).all()


async def _through_aiosqlite(path: Path, transactions: int, statements: int) -> float:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", pool_size=1, max_overflow=0)
    event.listen(engine.sync_engine, "connect", _tune_sqlite)
    started = time.process_time()
    for _ in range(transactions):
        async with engine.begin() as conn:
            for _ in range(statements // 2):
                await conn.execute(text("INSERT INTO t (b) VALUES ('x')"))
                await conn.execute(text("SELECT count(*) FROM t WHERE a < 10"))
    await engine.dispose()
    return (time.process_time() - started) / transactions * 1e6


async def _in_one_thread(path: Path, transactions: int, statements: int) -> float:
    engine = create_engine(f"sqlite:///{path}", pool_size=1, max_overflow=0)
    event.listen(engine, "connect", _tune_sqlite)
    thread = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    loop = asyncio.get_running_loop()

    def unit() -> None:
        with engine.begin() as conn:
            _statements(conn, statements)

    started = time.process_time()
    for _ in range(transactions):
        await loop.run_in_executor(thread, unit)
    thread.shutdown()
    engine.dispose()
    return (time.process_time() - started) / transactions * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "units.db"
        setup = create_engine(f"sqlite:///{path}")
        with setup.begin() as conn:
            conn.execute(text("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)"))
        setup.dispose()
        for statements in (2, 6):
            slow = asyncio.run(_through_aiosqlite(path, args.transactions, statements))
            fast = asyncio.run(_in_one_thread(path, args.transactions, statements))
            print(f"{statements} statements: aiosqlite {slow:6.0f} µs CPU, one sqlite3 thread {fast:6.0f} µs CPU")


if __name__ == "__main__":
    main()

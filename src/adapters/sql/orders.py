"""SqlOrderBook: orders placed through a shop pack, for operators to read and move along."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from adapters.sql.codec import decode_order, encode
from adapters.sql.database import Database
from adapters.sql.schema import orders
from application.ports.storage import OrderRecord
from domain.orders import Order, OrderState


class SqlOrderBook:
    """The ``OrderBook`` port on SQLAlchemy."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self, *, state: str | None, limit: int) -> list[OrderRecord]:
        """Orders, newest first, filtered by state."""
        query = select(orders).order_by(orders.c.id.desc()).limit(limit)
        if state is not None:
            query = query.where(orders.c.state == state)
        return await self._db.read(lambda conn: [_record(row) for row in conn.execute(query)])

    async def get(self, number: str) -> OrderRecord | None:
        """One order by its number."""
        query = select(orders).where(orders.c.number == number)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return _record(row) if row else None

    async def held_stock(self) -> tuple[int, dict[str, int]]:
        """How many orders there are, and the quantity of each product the uncancelled ones hold."""
        query = select(orders.c.state, orders.c.payload)
        return await self._db.read(lambda conn: _held(conn.execute(query).all()))

    async def replace(self, number: str, before: Order, after: Order, now: float) -> bool:
        """Store the order's next state; False when it changed meanwhile."""
        return await self._db.write(lambda conn: _replace(conn, number, before, after, now))


def _replace(conn: Connection, number: str, before: Order, after: Order, now: float) -> bool:
    statement = (
        update(orders)
        .where(orders.c.number == number, orders.c.state == before.state.value)
        .values(state=after.state.value, payload=encode(after), updated_at=now)
    )
    return conn.execute(statement).rowcount == 1


def _record(row) -> OrderRecord:  # type: ignore[no-untyped-def]
    return OrderRecord(number=row.number, contact_key=row.contact_key, order=decode_order(row.payload),
                       created_at=row.created_at, updated_at=row.updated_at)


def _held(rows) -> tuple[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    held: dict[str, int] = {}
    for row in rows:
        if row.state == OrderState.CANCELLED.value:
            continue
        for item in decode_order(row.payload).items:
            held[item.product_id] = held.get(item.product_id, 0) + item.quantity
    return len(rows), held

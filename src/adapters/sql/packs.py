"""SqlPackStore: the flow packs operators store, every version kept (conversations stay pinned)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Integer, func, select, update

from adapters.sql.database import Database
from adapters.sql.schema import flow_packs
from application.ports.storage import StoredPack


class SqlPackStore:
    """The ``PackStore`` port on SQLAlchemy."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, name: str, definition_for: Callable[[int], bytes], floor: int, now: float) -> int:
        """Store the next version (above ``floor`` and every stored one); its number."""
        return await self._db.write(lambda conn: _add(conn, name, definition_for, floor, now))

    async def versions(self, name: str) -> list[StoredPack]:
        """Every active version of a pack, oldest first."""
        query = (
            select(flow_packs.c.name, flow_packs.c.version, flow_packs.c.definition, flow_packs.c.active,
                   flow_packs.c.created_at)
            .where(flow_packs.c.name == name, flow_packs.c.active.is_(True))
            .order_by(flow_packs.c.version)
        )
        return await self._db.read(lambda conn: [StoredPack(**row._asdict()) for row in conn.execute(query)])

    async def names(self) -> list[str]:
        """The packs with an active version."""
        query = select(flow_packs.c.name).where(flow_packs.c.active.is_(True)).group_by(flow_packs.c.name)
        return await self._db.read(lambda conn: sorted(conn.execute(query).scalars()))

    async def deactivate(self, name: str) -> bool:
        """Stop a pack answering new conversations; False when it has no active version."""
        statement = update(flow_packs).where(flow_packs.c.name == name, flow_packs.c.active.is_(True))
        return await self._db.write(lambda conn: conn.execute(statement.values(active=False)).rowcount > 0)

    async def stamp(self) -> tuple[int, int]:
        """Changes whenever a pack is stored or deactivated."""
        query = select(func.count(), func.coalesce(func.sum(flow_packs.c.active.cast(Integer)), 0))
        return await self._db.read(lambda conn: tuple(conn.execute(query.select_from(flow_packs)).one()))


def _add(conn: Connection, name: str, definition_for: Callable[[int], bytes], floor: int, now: float) -> int:
    highest = conn.execute(select(func.max(flow_packs.c.version)).where(flow_packs.c.name == name)).scalar()
    version = max(floor, highest or 0) + 1
    conn.execute(flow_packs.insert().values(
        name=name, version=version, definition=definition_for(version), active=True, created_at=now,
    ))
    return version

"""Operators defining bots as data: store, list, read, replace and deactivate flow packs.

Every stored version is kept: a conversation already inside a pack that changes finishes on
the version it started on; new conversations get the newest (application/bots.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import msgspec

from application.bots import stored_definition
from application.ports.coordination import Clock
from application.ports.storage import PackStore
from domain.flows import InvalidPack, Pack, Problem, decode_pack, validate_pack


class InvalidDefinition(Exception):
    """The definition cannot be used; ``problems`` name the flow, step and field of each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


class PackExists(Exception):
    """POST names a pack that is stored already: PUT replaces it."""


class PackNotFound(Exception):
    """No pack of that name is stored or shipped."""


class ShippedPack(Exception):
    """A pack Chatgate ships cannot be deleted (store a version to override it)."""


class PackSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A pack as the admin API lists it."""

    name: str
    version: int
    source: str
    flows: list[str]
    triggers: list[str]
    languages: list[str]


class ManageFlows:
    """The admin API's flow use cases."""

    def __init__(self, *, packs: PackStore, shipped: Callable[[str], Pack | None],
                 shipped_names: Callable[[], list[str]], clock: Clock,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self._packs = packs
        self._on_change = on_change
        self._shipped = shipped
        self._shipped_names = shipped_names
        self._clock = clock

    async def create(self, raw: bytes, format: Literal["json", "yaml"]) -> Pack:
        """Store a new pack; PackExists when one of that name is stored."""
        pack = _checked(raw, format)
        if await self._packs.versions(pack.name):
            raise PackExists(f"a pack named {pack.name!r} exists; PUT /api/v1/flows/{pack.name} replaces it")
        return await self._store(pack)

    async def replace(self, name: str, raw: bytes, format: Literal["json", "yaml"]) -> Pack:
        """Store the next version of a pack (its name is the path's)."""
        pack = msgspec.structs.replace(_checked(raw, format), name=name)
        return await self._store(pack)

    async def get(self, name: str) -> Pack:
        """The version new conversations get."""
        stored = await self._packs.versions(name)
        if stored:
            return decode_pack(stored[-1].definition)
        shipped = self._shipped(name)
        if shipped is None:
            raise PackNotFound(f"no pack is named {name!r}")
        return shipped

    async def list(self) -> list[PackSummary]:
        """Every pack there is, stored or shipped, at its newest version."""
        names = sorted(set(await self._packs.names()) | set(self._shipped_names()))
        stored = set(await self._packs.names())
        return [summarise(await self.get(name), "stored" if name in stored else "shipped") for name in names]

    async def deactivate(self, name: str) -> None:
        """New conversations no longer get the stored pack (a shipped one of the name answers again)."""
        if not await self._packs.deactivate(name):
            if self._shipped(name) is not None:
                raise ShippedPack(f"{name!r} ships with Chatgate and cannot be deleted")
            raise PackNotFound(f"no stored pack is named {name!r}")
        self._on_change()

    async def _store(self, pack: Pack) -> Pack:
        shipped = self._shipped(pack.name)
        floor = shipped.version if shipped is not None else 0
        version = await self._packs.add(pack.name, lambda v: stored_definition(pack, v), floor, self._clock.now())
        self._on_change()
        return msgspec.structs.replace(pack, version=version)


def _checked(raw: bytes, format: Literal["json", "yaml"]) -> Pack:
    try:
        pack = decode_pack(raw, format)
    except InvalidPack as exc:
        raise InvalidDefinition(exc.problems) from exc
    problems = validate_pack(pack)
    if problems:
        raise InvalidDefinition(problems)
    return pack


def summarise(pack: Pack, source: str) -> PackSummary:
    """The listing of one pack."""
    return PackSummary(
        name=pack.name,
        version=pack.version,
        source=source,
        flows=sorted(pack.flows),
        triggers=sorted({word for flow in pack.flows.values() for word in flow.triggers}),
        languages=list(pack.languages),
    )

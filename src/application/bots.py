"""Which bot answers: the configured pack, built-in or stored by operators, kept current.

A pack stored through the admin API takes effect for new conversations without a restart:
the source looks at the store's stamp at most once a second and rebuilds the bot when it
moved. Every active version stays in the bot, so a conversation finishes on the version it
started on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from application.ports.coordination import Clock
from application.ports.storage import OrderBook, PackStore
from domain.conversations import Bot
from domain.flows import Catalogue, FlowBot, Pack, decode_pack
from domain.flows.catalogue import less_ordered
from domain.flows.reference import Reference

log = logging.getLogger("chatgate.bots")


class UnknownPack(Exception):
    """No built-in pack and no stored pack has the configured name."""


class BotSource:
    """The bot for the configured pack name, rebuilt when operators change the pack."""

    def __init__(
        self,
        *,
        name: str,
        packs: PackStore,
        builtin: Callable[[str], Pack | None],
        data: Callable[[Pack], tuple[Catalogue | None, Reference | None]],
        orders: OrderBook,
        clock: Clock,
        refresh_every: float = 1.0,
    ) -> None:
        self.name = name
        self._packs = packs
        self._builtin = builtin(name)
        self._data = data
        self._orders = orders
        self._clock = clock
        self._refresh_every = refresh_every
        self._bot: Bot | None = None
        self._stamp: tuple[int, ...] | None = None
        self._checked_at = float("-inf")
        self._stocked = False

    @property
    def builtin_version(self) -> int:
        """The version the shipped pack of this name has (0 when none ships)."""
        return self._builtin.version if self._builtin is not None else 0

    def invalidate(self) -> None:
        """A pack changed here: look again at the next turn (other instances within a second)."""
        self._checked_at = float("-inf")

    async def current(self) -> Bot:
        """The bot, as of at most ``refresh_every`` seconds ago."""
        now = self._clock.now()
        if self._bot is not None and now - self._checked_at < self._refresh_every:
            return self._bot
        self._checked_at = now
        # Only a pack with a catalogue reads the stock that orders hold: others skip the scan.
        placed, held = await self._orders.held_stock() if self._stocked or self._bot is None else (0, {})
        stamp = (*await self._packs.stamp(), placed, *sorted(held.items()))
        if self._bot is None or stamp != self._stamp:
            self._bot = await self._build(held)
            self._stamp = stamp
        return self._bot

    async def _build(self, held: dict[str, int]) -> Bot:
        stored = [decode_pack(row.definition) for row in await self._packs.versions(self.name)]
        versions = ([self._builtin] if self._builtin is not None else []) + stored
        if not versions:
            raise UnknownPack(f"no pack is named {self.name!r}")
        if self._bot is not None:
            log.info("pack %s: now answering with version %d", self.name, max(p.version for p in versions))
        newest = max(versions, key=lambda pack: pack.version)
        catalogue, reference = self._data(newest)  # the products and records the pack reads
        # Stock is what the catalogue has less what open orders hold (a cancelled one frees it).
        stocked = less_ordered(catalogue, held) if catalogue is not None else None
        self._stocked = catalogue is not None
        return FlowBot(versions, stocked, reference)


def stored_definition(pack: Pack, version: int) -> bytes:
    """The pack as it is kept: its JSON with the version the store gave it."""
    return msgspec.json.encode(msgspec.structs.replace(pack, version=version))

"""The bots Chatgate can run, by name.

``demo`` is the franchise lead bot until a demo pack of its own exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.bots.franchise_leads import FranchiseLeadsBot
from domain.conversations import Bot
from domain.errors import DomainError

__all__ = ["BOTS", "FranchiseLeadsBot", "UnknownBot", "bot_named"]

_franchise_leads = FranchiseLeadsBot()

BOTS: Mapping[str, Bot] = MappingProxyType(
    {
        _franchise_leads.name: _franchise_leads,
        "demo": _franchise_leads,
    }
)
"""Every bot by the name a setting or a stored conversation uses for it."""


class UnknownBot(DomainError):
    """No bot has the name asked for."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"no bot is named {name!r}; the known bots are: {', '.join(known)}")
        self.name = name
        self.known = known


def bot_named(name: str) -> Bot:
    """The bot called ``name``, or UnknownBot naming the ones there are."""
    try:
        return BOTS[name]
    except KeyError:
        raise UnknownBot(name, tuple(sorted(BOTS))) from None

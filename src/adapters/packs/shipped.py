"""The packs Chatgate ships, by name, for ``BOT`` and ``chatgate flows list``."""

from __future__ import annotations

from adapters.packs.files import builtin_pack, builtin_pack_names
from domain.flows import Pack


def shipped_pack(name: str) -> Pack | None:
    """The built-in pack of that name, or None when none ships (it may be a stored one)."""
    return builtin_pack(name) if name in builtin_pack_names() else None


def shipped_pack_names() -> list[str]:
    """The names of the built-in packs."""
    return builtin_pack_names()

"""The packs Chatgate ships, by name, for ``BOT`` and ``chatgate flows list``."""

from __future__ import annotations

import json
from importlib import resources

import msgspec

from adapters.packs.files import builtin_pack
from domain.flows import Pack

# Until the demo pack ships, the demo answers with the franchise lead bot (CONTRACT.md: BOT=demo).
_STAND_INS = {"demo": "franchise_leads"}


def shipped_pack(name: str) -> Pack | None:
    """The built-in pack of that name, or None when none ships (it may be a stored one)."""
    names = _pack_files()
    for candidate in (name, _STAND_INS.get(name)):
        if candidate in names:
            pack = builtin_pack(candidate)
            return pack if candidate == name else msgspec.structs.replace(pack, name=name)
    return None


def shipped_pack_names() -> list[str]:
    """The names of the built-in packs."""
    found = _pack_files()
    return sorted(found | {name for name, stand_in in _STAND_INS.items() if stand_in in found})


def _pack_files() -> set[str]:
    # The folder holds reference data too (catalogues): a pack is the JSON that has flows.
    folder = resources.files("domain.packs")
    return {
        item.name.removesuffix(".json")
        for item in folder.iterdir()
        if item.name.endswith(".json") and "flows" in json.loads(item.read_bytes())
    }

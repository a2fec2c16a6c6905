"""Reading a flow pack from a file: JSON or YAML (by the name's ending), decoded and checked.

PackFileError
├── the file cannot be read (missing, a directory, not permitted)
└── its pack is malformed or invalid: ``problems`` lists each, naming flow, step and field
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from domain.flows import InvalidPack, Pack, Problem, decode_pack, validate_pack

_FORMATS: dict[str, Literal["json", "yaml"]] = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


class PackFileError(Exception):
    """A pack file that cannot be used, with one sentence naming the file and what is wrong."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        listed = "; ".join(str(problem) for problem in problems)
        super().__init__(f"{path}: {listed}")
        self.path = path
        self.problems = problems


def load_pack(path: str | Path) -> Pack:
    """The pack in a ``.json``, ``.yaml`` or ``.yml`` file; PackFileError when it is unusable."""
    path = Path(path)
    format = _FORMATS.get(path.suffix.lower())
    if format is None:
        raise PackFileError(str(path), [Problem(message="a pack file ends in .json, .yaml or .yml")])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PackFileError(str(path), [Problem(message=f"cannot be read ({exc.strerror or exc})")]) from exc
    return _checked(str(path), raw, format)


def builtin_pack(name: str) -> Pack:
    """A pack Chatgate ships (``franchise_leads``), read from the installed package."""
    resource = resources.files("domain.packs").joinpath(f"{name}.json")
    if not resource.is_file():
        known = sorted(item.name.removesuffix(".json") for item in resources.files("domain.packs").iterdir()
                       if item.name.endswith(".json"))
        raise PackFileError(f"{name}.json", [Problem(message=f"no built-in pack; the built-in packs are: {', '.join(known)}")])
    return _checked(f"domain/packs/{name}.json", resource.read_bytes(), "json")


def _checked(where: str, raw: bytes, format: Literal["json", "yaml"]) -> Pack:
    """The decoded pack when it has no problem."""
    try:
        pack = decode_pack(raw, format)
    except InvalidPack as exc:
        raise PackFileError(where, exc.problems) from exc
    problems = validate_pack(pack)
    if problems:
        raise PackFileError(where, problems)
    return pack

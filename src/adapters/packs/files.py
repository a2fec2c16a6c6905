"""Reading flow packs and their data from files: JSON or YAML (by the name's ending), checked.

A pack that ``includes`` others is merged with them here (``domain.flows.compose``): each is
looked for beside the file first (``shop_orders.json``, ``.yaml``, ``.yml``), then among the
built-in packs. A catalogue (``shop_catalogue.json``) and reference data
(``factory_reference.json``) are the operator's to replace; ``builtin_data`` reads the ones a
built-in pack names.

PackFileError
├── the file cannot be read (missing, a directory, not permitted)
└── its pack or data is malformed or invalid: ``problems`` lists each, naming flow, step and field
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

from domain.flows import Catalogue, InvalidPack, Pack, Problem, Reference, compose, decode_pack, validate_pack
from domain.flows.catalogue import catalogue_problems
from domain.flows.decoding import problem_of
from domain.flows.reference import reference_problems

_FORMATS: dict[str, Literal["json", "yaml"]] = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
_BUILTIN = "domain.packs"
_Data = TypeVar("_Data", Catalogue, Reference)


class PackFileError(Exception):
    """A pack or data file that cannot be used, with one sentence naming the file and what is wrong."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        listed = "; ".join(str(problem) for problem in problems)
        super().__init__(f"{path}: {listed}")
        self.path = path
        self.problems = problems


# --- packs -------------------------------------------------------------------------------


def load_pack(path: str | Path) -> Pack:
    """The pack in a ``.json``, ``.yaml`` or ``.yml`` file; PackFileError when it is unusable."""
    return _checked(str(path), _pack_file(Path(path), ()))


def builtin_pack(name: str) -> Pack:
    """A pack Chatgate ships (``demo``, ``shop_orders``…), read from the installed package."""
    return _checked(f"domain/packs/{name}.json", _builtin_pack(name, ()))


def _pack_file(path: Path, seen: tuple[str, ...]) -> Pack:
    raw, format = _read(path)
    pack = _decoded(str(path), raw, format)
    return _with_includes(str(path), pack, seen, lambda name, chain: _sibling(path, name, chain))


def _builtin_pack(name: str, seen: tuple[str, ...]) -> Pack:
    resource = resources.files(_BUILTIN).joinpath(f"{name}.json")
    if not resource.is_file():
        known = ", ".join(builtin_pack_names())
        raise PackFileError(f"{name}.json", [Problem(message=f"no built-in pack; the built-in packs are: {known}")])
    pack = _decoded(f"domain/packs/{name}.json", resource.read_bytes(), "json")
    return _with_includes(f"domain/packs/{name}.json", pack, seen, _builtin_pack)


def _sibling(path: Path, name: str, seen: tuple[str, ...]) -> Pack:
    """An included pack: the file of that name beside ``path``, else the built-in one."""
    for suffix in _FORMATS:
        candidate = path.with_name(f"{name}{suffix}")
        if candidate.is_file():
            return _pack_file(candidate, seen)
    return _builtin_pack(name, seen)


def _with_includes(where: str, pack: Pack, seen: tuple[str, ...], find: Any) -> Pack:
    """The pack merged with the packs it includes (each found by ``find``), once each."""
    if not pack.includes:
        return pack
    if pack.name in seen:
        raise PackFileError(where, [Problem(field="includes", message=f"{' → '.join((*seen, pack.name))} is a loop")])
    guests = [find(name, (*seen, pack.name)) for name in pack.includes]
    try:
        return compose(pack, guests)
    except InvalidPack as exc:
        raise PackFileError(where, exc.problems) from exc


def builtin_pack_names() -> list[str]:
    """The names of the built-in packs (the data files beside them are not packs: no ``flows``)."""
    return sorted(item.name.removesuffix(".json") for item in _builtin_files() if _is_pack(item))


def _builtin_files() -> list[Traversable]:
    return [item for item in resources.files(_BUILTIN).iterdir() if item.name.endswith(".json")]


def _is_pack(item: Traversable) -> bool:
    tree = msgspec.json.decode(item.read_bytes())
    return isinstance(tree, dict) and "flows" in tree


def _decoded(where: str, raw: bytes, format: Literal["json", "yaml"]) -> Pack:
    try:
        return decode_pack(raw, format)
    except InvalidPack as exc:
        raise PackFileError(where, exc.problems) from exc


def _checked(where: str, pack: Pack) -> Pack:
    """The pack when it has no problem."""
    problems = validate_pack(pack)
    if problems:
        raise PackFileError(where, problems)
    return pack


# --- catalogues and reference data ---------------------------------------------------------


def load_catalogue(path: str | Path) -> Catalogue:
    """A shop's catalogue (products with id, name, price, stock) from a JSON or YAML file."""
    raw, format = _read(Path(path))
    catalogue = _data(str(path), raw, format, Catalogue)
    return _usable(str(path), catalogue, catalogue_problems(catalogue))


def load_reference(path: str | Path) -> Reference:
    """Reference data (tables of records by id) from a JSON or YAML file."""
    raw, format = _read(Path(path))
    reference = _data(str(path), raw, format, Reference)
    return _usable(str(path), reference, reference_problems(reference))


def builtin_catalogue(name: str) -> Catalogue:
    """A catalogue Chatgate ships (``shop_catalogue``)."""
    catalogue = _data(f"domain/packs/{name}.json", _builtin_bytes(name), "json", Catalogue)
    return _usable(f"domain/packs/{name}.json", catalogue, catalogue_problems(catalogue))


def builtin_reference(name: str) -> Reference:
    """Reference data Chatgate ships (``factory_reference``)."""
    reference = _data(f"domain/packs/{name}.json", _builtin_bytes(name), "json", Reference)
    return _usable(f"domain/packs/{name}.json", reference, reference_problems(reference))


def builtin_data(pack: Pack) -> tuple[Catalogue | None, Reference | None]:
    """The built-in catalogue and reference data a pack names (None for what it names not)."""
    catalogue = builtin_catalogue(pack.catalogue) if pack.catalogue else None
    reference = builtin_reference(pack.reference) if pack.reference else None
    return catalogue, reference


def _builtin_bytes(name: str) -> bytes:
    resource = resources.files(_BUILTIN).joinpath(f"{name}.json")
    if not resource.is_file():
        raise PackFileError(f"{name}.json", [Problem(message="no such built-in data file")])
    return resource.read_bytes()


def _data(where: str, raw: bytes, format: Literal["json", "yaml"], kind: type[_Data]) -> _Data:
    try:
        if format == "yaml":
            return msgspec.yaml.decode(raw, type=kind)
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise PackFileError(where, [problem_of(exc)]) from exc
    except msgspec.DecodeError as exc:
        raise PackFileError(where, [Problem(message=f"not valid {format.upper()}: {exc}")]) from exc


def _usable(where: str, data: _Data, problems: list[Problem]) -> _Data:
    if problems:
        raise PackFileError(where, problems)
    return data


def _read(path: Path) -> tuple[bytes, Literal["json", "yaml"]]:
    """The bytes of a pack or data file and its format; PackFileError when it cannot be read."""
    format = _FORMATS.get(path.suffix.lower())
    if format is None:
        raise PackFileError(str(path), [Problem(message="a pack or data file ends in .json, .yaml or .yml")])
    try:
        return path.read_bytes(), format
    except OSError as exc:
        raise PackFileError(str(path), [Problem(message=f"cannot be read ({exc.strerror or exc})")]) from exc

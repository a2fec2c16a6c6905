"""Decoding a pack from JSON or YAML: a malformed one is an InvalidPack naming the place at fault."""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

from domain.flows.definition import Flow, InvalidPack, Pack, Problem, Step

_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def decode_pack(raw: bytes, format: Literal["json", "yaml"] = "json") -> Pack:
    """The pack in ``raw``; InvalidPack with one Problem (naming the place) when it is malformed."""
    try:
        return _decode(raw, format, Pack)
    except msgspec.ValidationError as exc:
        raise InvalidPack([_locate(raw, format, exc)]) from exc
    except msgspec.DecodeError as exc:
        raise InvalidPack([Problem(message=f"not valid {format.upper()}: {exc}")]) from exc


def _decode(raw: bytes, format: str, kind: Any) -> Any:
    """msgspec's JSON or YAML decoder (YAML needs PyYAML)."""
    if format == "yaml":
        return msgspec.yaml.decode(raw, type=kind)
    return msgspec.json.decode(raw, type=kind)


def _locate(raw: bytes, format: str, exc: msgspec.ValidationError) -> Problem:
    """The Problem for a validation error; msgspec writes dict keys as ``[...]``, so the flow
    and step at fault are found by converting each alone."""
    tree = _decode(raw, format, Any)
    for flow_name, flow in _entries(tree, "flows"):
        for step_name, step in _entries(flow, "steps"):
            if (problem := _converted(step, Step, flow_name, step_name)) is not None:
                return problem
        if isinstance(flow, dict) and (problem := _converted(flow | {"steps": {}}, Flow, flow_name)) is not None:
            return problem
    return problem_of(exc)


def _entries(tree: Any, key: str) -> list[tuple[str, Any]]:
    """The named entries under ``key`` of a decoded mapping (none when it is not one)."""
    found = tree.get(key) if isinstance(tree, dict) else None
    return [(str(name), value) for name, value in found.items()] if isinstance(found, dict) else []


def _converted(value: Any, kind: type, flow: str, step: str = "") -> Problem | None:
    """The Problem converting one flow or step meets, or None."""
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        return problem_of(exc, flow, step)
    return None


def problem_of(exc: msgspec.ValidationError, flow: str = "", step: str = "") -> Problem:
    """A Problem from msgspec's message, its ``- at `$.path``` turned into the field."""
    message = str(exc)
    match = _PATH.search(message)
    if match is None:
        return Problem(flow=flow, step=step, message=message)
    field = match["path"].lstrip(".") or "(the whole document)"
    return Problem(flow=flow, step=step, field=field, message=message[: match.start()])

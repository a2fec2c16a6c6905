"""Which flow a message opens by its trigger words."""

from __future__ import annotations

from domain.flows.definition import Pack
from domain.flows.words import phrase


def triggered(pack: Pack, text: str) -> str | None:
    """The flow whose trigger is the whole message, else the first whose trigger it contains."""
    said = phrase(text)
    if not said:
        return None
    for name, flow in pack.flows.items():
        if any(phrase(trigger) == said for trigger in flow.triggers):
            return name
    padded = f" {said} "
    for name, flow in pack.flows.items():
        if any(phrase(trigger) and f" {phrase(trigger)} " in padded for trigger in flow.triggers):
            return name
    return None

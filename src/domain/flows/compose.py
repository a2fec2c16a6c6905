"""One pack made of several: a host (the demo's menu) and the packs it ``includes``.

The host's flows, texts and values come first; each included pack adds its own. Flows keep
their names, so a host's option leads into one with ``"next": "shop.menu"``, and the included
triggers keep working. Names must not clash: a flow two packs define, or a text key or value
two included packs give different texts for, is a Problem; a key the host defines itself is
the host's (its ``help``, ``opted_out`` and ``escalation`` speak for the whole). The result
speaks the host's languages, runs with the catalogue and reference data its packs name, and
includes nothing more: it is stored and run like any other pack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from msgspec.structs import replace

from domain.flows.definition import Flow, InvalidPack, Pack, Problem


def compose(host: Pack, guests: Sequence[Pack]) -> Pack:
    """The host with the guests' flows, texts and values merged in; InvalidPack on a clash."""
    problems: list[Problem] = []
    flows: dict[str, Flow] = dict(host.flows)
    for guest in guests:
        for name, flow in guest.flows.items():
            if name in flows:
                problems.append(Problem(flow=name, message=f"{guest.name} defines a flow the pack already has"))
            flows[name] = flow
    texts = {
        language: _merged(host.texts.get(language, {}), [g.texts.get(language, {}) for g in guests],
                          f"texts.{language}", problems)
        for language in host.languages
    }
    values = _merged(host.values, [guest.values for guest in guests], "values", problems)
    catalogue = _one(host.catalogue, [guest.catalogue for guest in guests], "catalogue", problems)
    reference = _one(host.reference, [guest.reference for guest in guests], "reference", problems)
    if problems:
        raise InvalidPack(problems)
    texts = {language: found for language, found in texts.items() if found}
    return replace(host, flows=flows, texts=texts, values=values, includes=(), catalogue=catalogue,
                   reference=reference)


def _merged(
    own: Mapping[str, str], others: Sequence[Mapping[str, str]], field: str, problems: list[Problem]
) -> dict[str, str]:
    """The others' entries, then the host's over them; two others disagreeing is a Problem."""
    merged: dict[str, str] = {}
    for entries in others:
        for key, text in entries.items():
            if key not in own and merged.setdefault(key, text) != text:
                problems.append(Problem(field=f"{field}.{key}", message="two included packs give it different texts"))
    return merged | dict(own)


def _one(own: str | None, others: Sequence[str | None], field: str, problems: list[Problem]) -> str | None:
    """The data file the host names, else the one its included packs agree on."""
    named = {name for name in others if name}
    if own:
        return own
    if len(named) > 1:
        problems.append(Problem(field=field, message=f"included packs name different files: {', '.join(sorted(named))}"))
    return named.pop() if len(named) == 1 else None

"""A pack's texts: looked up by key in the contact's language, filled in, never crashing.

Lookup falls back from the contact's language to English, then to the pack's default
language, then to the key itself. ``{placeholders}`` are filled from what ``values.py``
gathers; a placeholder with no value is left empty, and a dotted one (``{order.status}``) is
one name, never an attribute. Arabic is written right to left: every line of an Arabic reply
starts with a right-to-left mark, so a line that opens with a number or a Latin name still
reads from the right, its digits and ids left as they are.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from typing import Any

from domain.flows.definition import Pack
from domain.flows.explanations import EXPLANATIONS
from domain.validation import Rejected, explain

FALLBACK_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})
RLM = "\u200f"


def lookup(pack: Pack, language: str, key: str) -> str:
    """The template of ``key`` in ``language``, else English, else the default language, else the key."""
    for candidate in (language, FALLBACK_LANGUAGE, pack.default_language):
        template = pack.texts.get(candidate, {}).get(key)
        if template:
            return template
    return key


def render(template: str, values: Mapping[str, str]) -> str:
    """The template filled in; an unknown placeholder is empty, a malformed template is kept."""
    try:
        return _Formatter().vformat(template, (), values)
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


class _Formatter(string.Formatter):
    """``str.format`` where a missing value is an empty string."""

    def get_value(self, key: int | str, args: object, kwargs: Mapping[str, str]) -> str:  # type: ignore[override]
        return kwargs.get(str(key), "")

    def get_field(self, field_name: str, args: Any, kwargs: Mapping[str, str]) -> tuple[str, str]:  # type: ignore[override]
        return kwargs.get(field_name, ""), field_name


def placeholders(template: str) -> Iterator[str]:
    """The names a template uses; raises ValueError when it is malformed (``{`` unclosed)."""
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            yield name


def explanation(pack: Pack, language: str, rejection: Rejected) -> str:
    """Why an answer was refused: the pack's own text for the code, else the engine's sentence in
    that language, else the pack's English text, else the domain's sentence."""
    own = pack.texts.get(language, {}).get(rejection.code)
    engine = EXPLANATIONS.get(language, {})
    english = pack.texts.get(FALLBACK_LANGUAGE, {}).get(rejection.code)
    template = own or engine.get(rejection.code) or english or engine.get("unknown")
    return render(template, rejection.params) if template else explain(rejection, language)


def directed(text: str, language: str) -> str:
    """The text as its language is read: each line of a right-to-left one opens with a mark
    (U+200F), so a line opening with a number or a Latin name still reads from the right."""
    if language not in RIGHT_TO_LEFT or not text:
        return text
    return "\n".join(RLM + line.lstrip(RLM) if line.strip(RLM) else "" for line in text.split("\n"))


def missing_translations(pack: Pack) -> dict[str, list[str]]:
    """For each language of the pack, the keys it lacks that another language has (sorted)."""
    every = set().union(*(texts.keys() for texts in pack.texts.values())) if pack.texts else set()
    missing = {language: sorted(every - pack.texts.get(language, {}).keys()) for language in pack.languages}
    return {language: keys for language, keys in missing.items() if keys}

"""A pack's texts: looked up by key in the contact's language, filled in, never crashing.

Lookup falls back from the contact's language to English, then to the pack's default
language, then to the key itself. ``{placeholders}`` are filled from the pack's ``values``,
the answers collected so far, and what the lead form and the catalogue say about them; a
placeholder with no value is left empty.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping

from domain.conversations import Conversation
from domain.flows.catalogue import Catalogue, money
from domain.flows.definition import Pack
from domain.lead_form import FIELDS, LeadForm
from domain.validation import Rejected, explain

FALLBACK_LANGUAGE = "en"


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


def placeholders(template: str) -> Iterator[str]:
    """The names a template uses; raises ValueError when it is malformed (``{`` unclosed)."""
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            yield name


def explanation(pack: Pack, language: str, rejection: Rejected) -> str:
    """Why an answer was refused: the pack's own text for the code, else the domain's sentence."""
    for candidate in (language, FALLBACK_LANGUAGE):
        template = pack.texts.get(candidate, {}).get(rejection.code)
        if template:
            return render(template, rejection.params)
    return explain(rejection, language)


def missing_translations(pack: Pack) -> dict[str, list[str]]:
    """For each language of the pack, the keys it lacks that another language has (sorted)."""
    every = set().union(*(texts.keys() for texts in pack.texts.values())) if pack.texts else set()
    missing = {language: sorted(every - pack.texts.get(language, {}).keys()) for language in pack.languages}
    return {language: keys for language, keys in missing.items() if keys}


# --- values ------------------------------------------------------------------------------


def values(pack: Pack, conversation: Conversation, catalogue: Catalogue) -> dict[str, str]:
    """Everything a text may use: the pack's values, the answers, the form and the order."""
    answers = {key: value for key, value in conversation.data.items() if not key.startswith("_")}
    found = pack.values | answers
    if conversation.lead is not None:
        found |= form_values(pack, conversation.language, conversation.lead.form)
    return found | order_values(answers, catalogue)


def form_values(pack: Pack, language: str, form: LeadForm) -> dict[str, str]:
    """``form_summary`` (one ``Label: value`` line per field given) and ``form_missing``."""
    lines = []
    for field in FIELDS:
        value = getattr(form, field)
        if value and field == "budget" and form.budget_amount is not None:
            value = f"{value} ({money(form.budget_amount, 'IDR')})"
        if value:
            lines.append(f"{_label(pack, language, field)}: {value}")
    missing = ", ".join(_label(pack, language, field) for field in form.missing)
    return {"form_summary": "\n".join(lines), "form_missing": missing}


def _label(pack: Pack, language: str, field: str) -> str:
    """A form field's label: the pack's ``field.<name>`` text, else the name capitalised."""
    key = f"field.{field}"
    label = lookup(pack, language, key)
    return field.capitalize() if label == key else label


def order_values(answers: Mapping[str, str], catalogue: Catalogue) -> dict[str, str]:
    """``product_name``, ``price`` and ``total`` from the answers ``product`` and ``quantity``."""
    product = catalogue.product(answers.get("product"))
    if product is None:
        return {}
    found = {"product_name": product.name, "price": money(product.price, catalogue.currency)}
    quantity = answers.get("quantity", "")
    if quantity.isdecimal():
        found["total"] = money(product.price * int(quantity), catalogue.currency)
    return found

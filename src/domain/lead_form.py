"""The franchise lead form, written by a user as free text.

A user answers the form request with lines like ``Budget: 100 juta``. ``parse_lead_form``
reads what it can and never raises: a field it cannot find stays None, so the bot can name
what is missing. ``parse_budget`` turns the budget the user wrote into Rupiah.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

import msgspec

FIELDS = ("sumber", "bisnis", "budget", "rencana")


class LeadForm(msgspec.Struct, frozen=True, kw_only=True):
    """What a lead told us; a field the user has not given yet is None."""

    sumber: str | None = None
    bisnis: str | None = None
    budget: str | None = None
    rencana: str | None = None
    budget_amount: int | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        """The fields still to fill, in form order."""
        return tuple(name for name in FIELDS if not getattr(self, name))

    @property
    def is_complete(self) -> bool:
        """True when every field has a value."""
        return not self.missing


# Labels are compared after _normalise_label: case-folded, single-spaced, without bold
# markers, emoji, punctuation ("Budget?") or a parenthesised hint ("Budget (Rp)").
_LABELS: dict[str, tuple[str, ...]] = {
    "sumber": (
        "sumber", "sumber info", "sumber informasi", "info dari", "tahu dari",
        "tahu dari mana", "source", "heard from", "where did you hear",
        "where did you hear about us", "how did you hear about us",
    ),
    "bisnis": (
        "bisnis", "usaha", "jenis usaha", "jenis bisnis", "bisnis yang diminati",
        "usaha yang diminati", "franchise yang diminati", "business", "franchise", "brand",
    ),
    "budget": (
        "budget", "modal", "modal usaha", "dana", "anggaran", "investasi",
        "budget investasi", "investment", "capital",
    ),
    "rencana": (
        "rencana", "rencana mulai", "rencana mulai usaha", "kapan mulai", "plan",
        "timeline", "when", "when to start",
    ),
}
_FIELD_BY_LABEL = {label: field for field, labels in _LABELS.items() for label in labels}

_BULLET = re.compile(r"^\s*(?:[-•·▪●◦]\s*|\*\s+|\d{1,2}[.)]\s*)")
_CONTINUATION_BULLET = re.compile(r"^\s*(?:[-•·▪●◦*])\s+")
_SEPARATOR = re.compile(r"[:=\-–—：]")
_HINT = re.compile(r"\([^()]*\)")


def parse_lead_form(text: str) -> LeadForm:
    """The form a user wrote; a later non-empty value for a field wins over an earlier one."""
    values: dict[str, str] = {}
    for field, value in _entries(text):
        if value:
            values[field] = value
    budget = values.get("budget")
    return LeadForm(**values, budget_amount=parse_budget(budget) if budget else None)


def merge_forms(old: LeadForm, new: LeadForm) -> LeadForm:
    """The stored form updated with a newly parsed one: the new non-empty values win."""
    values = {name: getattr(new, name) or getattr(old, name) or None for name in FIELDS}
    amount = new.budget_amount if new.budget else old.budget_amount
    return LeadForm(**values, budget_amount=amount)


def _entries(text: str) -> Iterator[tuple[str, str]]:
    """Each labelled field in order, with its value joined across continuation lines.

    A value continues on unlabelled lines until the next label, or until a blank line once
    it has begun (so a "terima kasih" after the form does not join the last field).
    Unlabelled text before the first label is ignored.
    """
    field: str | None = None
    parts: list[str] = []
    for line in text.splitlines():
        labelled = _labelled(line)
        if labelled is not None:
            if field is not None:
                yield field, " ".join(parts)
            field, first = labelled
            parts = [first] if first else []
        elif field is None:
            continue
        elif piece := _continuation(line):
            parts.append(piece)
        elif parts:
            yield field, " ".join(parts)
            field, parts = None, []
    if field is not None:
        yield field, " ".join(parts)


def _labelled(line: str) -> tuple[str, str] | None:
    """The field and value of a ``Label: value`` line, or None when the line has no label."""
    body = _BULLET.sub("", line, count=1)
    separator = _SEPARATOR.search(body)
    if separator is None:
        return None
    label = body[: separator.start()]
    field = _FIELD_BY_LABEL.get(_normalise_label(label))
    if field is None:
        return None
    return field, _clean_value(body[separator.end() :], bold_open=label.count("*") % 2 == 1)


def _normalise_label(label: str) -> str:
    """A label as looked up: no hint, bold marker, emoji or punctuation; case-folded."""
    label = "".join(ch for ch in _HINT.sub(" ", label) if unicodedata.category(ch) != "Cf")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in label).casefold().split())


def _clean_value(value: str, *, bold_open: bool) -> str:
    """A value trimmed, without the bold marker closing ``*Label: value*`` or ``*Label:* value``."""
    value = value.strip()
    if bold_open and value.startswith("*"):
        value = value[1:]
    elif bold_open and value.endswith("*"):
        value = value[:-1]
    elif len(value) > 1 and value.startswith("*") and value.endswith("*"):
        value = value[1:-1]
    return value.strip()


def _continuation(line: str) -> str:
    """An unlabelled line continuing a value, trimmed and without a leading bullet."""
    return _CONTINUATION_BULLET.sub("", line, count=1).strip()


# --- budgets -------------------------------------------------------------------------------

_NUMBER = r"[0-9]+(?:[.,][0-9]+)*"
_MULTIPLIERS: dict[str, int] = {
    "ribu": 10**3, "rb": 10**3, "k": 10**3, "thousand": 10**3,
    "juta": 10**6, "jt": 10**6, "million": 10**6, "mio": 10**6,
    "miliar": 10**9, "milyar": 10**9, "billion": 10**9, "m": 10**9,
    "triliun": 10**12, "trilyun": 10**12, "trillion": 10**12,
}
# Longest first, so "miliar" is not read as "m"; "an" allows "jutaan", "100jtan".
_UNIT = "(" + "|".join(sorted(_MULTIPLIERS, key=len, reverse=True)) + r")(?:an)?(?![a-z])"
_AMOUNT = re.compile(rf"({_NUMBER})(?:\s*{_UNIT})?")
_RANGE_TAIL = re.compile(rf"\s*(?:-|–|—|~|s/d|sd|sampai|hingga|to)\s*{_NUMBER}\s*{_UNIT}")
_FOREIGN = re.compile(r"[$€£¥]|\b(?:usd|eur|sgd|myr|aud|dollars?|dolar)\b")
_MAX_DIGITS = 30


def parse_budget(text: str) -> int | None:
    """The budget in Rupiah, or None when the text names no Rupiah amount; never raises.

    "100 juta", "100jt", "Rp 100.000.000", "Rp100,000,000" and "100000000" are all
    100_000_000; "1,5 M" and "1.5 miliar" are 1_500_000_000 (M is miliar, as Indonesians
    write it). A range ("100-200 juta") gives its lower bound, in the unit written after the
    upper one: the least the lead said they can invest. An amount in another currency
    ("$10,000", "10.000 USD") is None: converting it would need a rate, which the domain does
    not have. Words alone ("belum tahu", "seratus juta") are None. A bare number is taken as
    Rupiah as written.
    """
    lowered = text.casefold()
    match = None if _FOREIGN.search(lowered) else _AMOUNT.search(lowered)
    if match is None:
        return None
    number = _number(match.group(1))
    if number is None:
        return None
    unit = match.group(2) or _range_unit(lowered, match.end())
    amount = number * _MULTIPLIERS.get(unit or "", 1)
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def _range_unit(text: str, position: int) -> str | None:
    """The unit after a range's upper bound, when a range starts at position."""
    tail = _RANGE_TAIL.match(text, position)
    return tail.group(1) if tail else None


def _number(token: str) -> Decimal | None:
    """A number written with Indonesian or English separators, or None when absurdly long.

    With both "." and "," the last one is the decimal mark ("100.000.000,00",
    "100,000.50"). With one kind only, it groups thousands when it repeats or is followed by
    exactly three digits ("100.000", "1,000,000"), and is the decimal mark otherwise
    ("1,5", "2.25").
    """
    if sum(ch.isdigit() for ch in token) > _MAX_DIGITS:
        return None
    marks = [ch for ch in token if ch in ".,"]
    if not marks:
        return Decimal(token)
    decimal_mark = marks[-1] if len(set(marks)) == 2 else _single_mark_decimal(token, marks)
    if decimal_mark is None:
        return Decimal(token.replace(marks[0], ""))
    whole, _, fraction = token.rpartition(decimal_mark)
    return Decimal(re.sub(r"[.,]", "", whole) + "." + fraction)


def _single_mark_decimal(token: str, marks: list[str]) -> str | None:
    """The decimal mark of a number using one kind of mark, or None when it groups thousands."""
    if len(marks) > 1 or len(token.rpartition(marks[0])[2]) == 3:
        return None
    return marks[0]

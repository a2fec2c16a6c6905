"""Reference data a flow looks things up in: tables of records the operator keeps in a file.

A table is a list of records; a record maps field names to a text, a number or a list of texts
(an SOP's steps, a BOM's components), and has an ``id``. A ``lookup`` answer finds the record a
contact names: by its id however it is typed (``ord-1001``, ``ORD 1001``, ``#ord1001``), by the
digits of its id alone when only one id has them (``1001``), or by its ``name``, whole or the
words of it that only one name holds (``pump housing``). What is typed may carry other words
(``order ORD-1001 please``): each word is tried as an id too.

The record is stored in the conversation as ``<store_as>.<field>`` texts (a list as numbered
lines) so any later text or event can use it. The application's own tables (the shop's orders)
are found by the application; ``order_record`` is the record it answers with for an order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import msgspec

from domain.flows.catalogue import money
from domain.flows.definition import Problem
from domain.flows.words import fold, phrase
from domain.orders import Order

Value = str | int | float | list[str]
_MIN_NAME = 4
Record = dict[str, Value]


class Reference(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The operator's tables by name (``orders``, ``machines``, ``sops``…), each a list of records."""

    tables: dict[str, tuple[Record, ...]] = {}

    def find(self, table: str, query: str) -> Record | None:
        """The record of ``table`` that ``query`` names, or None."""
        return find(self.tables.get(table, ()), query)


def lookup_key(text: str) -> str:
    """An id as compared: letters and digits only, upper case, digits of any script as 0-9."""
    return "".join(char for char in fold(text) if char.isalnum()).upper()


def candidate_keys(query: str) -> tuple[str, ...]:
    """The ids a message may name, as compared: the whole of it, then each of its words."""
    keys = (lookup_key(part) for part in (query, *query.split()))
    return tuple(dict.fromkeys(key for key in keys if key))


def find(records: Iterable[Record], query: str) -> Record | None:
    """The one record the query names: its id, its id's digits, or its name; else None."""
    records = tuple(records)
    for key in candidate_keys(query):
        exact = [r for r in records if lookup_key(str(r.get("id", ""))) == key]
        if exact:
            return exact[0]
        if key.isdecimal():
            by_digits = [r for r in records if _digits(str(r.get("id", ""))) == key]
            if len(by_digits) == 1:
                return by_digits[0]
    return _named(records, phrase(query))


def _named(records: tuple[Record, ...], said: str) -> Record | None:
    """The one record whose whole name is what was said, else the one whose name holds it."""
    if len(said) < _MIN_NAME:
        return None
    names = [(f" {phrase(str(r.get('name', '')))} ", r) for r in records]
    for matches in ([r for name, r in names if name == f" {said} "], [r for name, r in names if f" {said} " in name]):
        if len(matches) == 1:
            return matches[0]
    return None


def _digits(text: str) -> str:
    return "".join(char for char in lookup_key(text) if char.isdecimal())


def stored(store_as: str, record: Mapping[str, Value]) -> dict[str, str]:
    """The conversation entries a found record becomes: its id, and each field as text."""
    entries = {f"{store_as}.{field}": _text(value) for field, value in record.items()}
    return {store_as: str(record.get("id", ""))} | entries


def _text(value: Value) -> str:
    """A field as text: a list as numbered lines."""
    if isinstance(value, list):
        return "\n".join(f"{i}. {item}" for i, item in enumerate(value, 1))
    return str(value)


def remaining(deadline: str, now: float) -> tuple[int, int, bool] | None:
    """Hours and minutes between ``now`` and an ISO 8601 deadline, and whether it has passed.
    A deadline without a time zone is read as UTC; None when it cannot be read."""
    try:
        moment = datetime.fromisoformat(deadline.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(moment.timestamp() - now)
    minutes = abs(seconds) // 60
    return minutes // 60, minutes % 60, seconds < 0


def reference_problems(reference: Reference) -> list[Problem]:
    """What makes reference data unusable: a record without an id, an id used twice."""
    problems = []
    for table, records in reference.tables.items():
        seen: set[str] = set()
        for i, record in enumerate(records):
            key = lookup_key(str(record.get("id", "")))
            if not key:
                problems.append(Problem(field=f"tables.{table}[{i}].id", message="every record needs an id"))
            elif key in seen:
                problems.append(Problem(field=f"tables.{table}[{i}].id", message=f"{record['id']!r} is used twice"))
            seen.add(key)
    return problems


# --- the application's orders ------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ORDER_NUMBER_LENGTH = 6


def order_number(contact_key: str, at: float) -> str:
    """A short number for an order, the same every time for one contact and moment (``7K3Q9D``).

    Derived, not drawn (the domain has no randomness): 30 bits, so a store keeps it unique.
    """
    value = int.from_bytes(hashlib.sha256(f"{contact_key}|{at!r}".encode()).digest()[:8], "big")
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(ORDER_NUMBER_LENGTH))


def order_record(number: str, order: Order) -> Record:
    """The record an order lookup answers with: what a contact may see of their own order."""
    return {
        "id": number,
        "number": number,
        "state": order.state.value,
        "product": ", ".join(item.name for item in order.items),
        "quantity": str(sum(item.quantity for item in order.items)),
        "total": money(order.total, order.currency),
        "name": order.name,
    }

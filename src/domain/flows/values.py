"""What a text's ``{placeholders}`` may use, for one conversation at one moment.

- the pack's ``values`` (``{shop}``, ``{login_url}``) and every answer (``{name}``, ``{pincode}``);
- a chosen option's title in the contact's language: ``{<store_as>.title}`` (``{sector.title}``);
- a found record's fields, ``{<store_as>.<field>}``, a labelled field said in the contact's
  language, and a countdown's ``{<store_as>.remaining}`` (from the conversation's ``updated_at``,
  the turn's "now");
- the lead form: ``{form_summary}``, ``{form_missing}``;
- the order: ``{product_name}``, ``{price}``, ``{stock}``, ``{total}``; and ``{catalogue}``, one
  line per product, in stock first and numbered as they are offered (the texts
  ``catalogue.line`` and ``catalogue.sold_out`` write the lines, with ``{number}``, ``{name}``,
  ``{price}``, ``{stock}``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from domain.conversations import Conversation
from domain.flows.catalogue import Catalogue, Product, money
from domain.flows.definition import Choice, LookupAnswer, Pack
from domain.flows.reference import remaining
from domain.flows.texts import lookup, render
from domain.lead_form import FIELDS, LeadForm

_LINE = "{number}. {name} — {price} ({stock})"
_SOLD_OUT = "{name} — {price} (0)"


def values(pack: Pack, conversation: Conversation, catalogue: Catalogue) -> dict[str, str]:
    """Everything a text may use: the pack's values, the answers, the form and the order."""
    answers = {key: value for key, value in conversation.data.items() if not key.startswith("_")}
    language = conversation.language
    found = pack.values | answers
    if conversation.lead is not None:
        found |= form_values(pack, language, conversation.lead.form)
    found |= answer_values(pack, conversation)
    return found | order_values(answers, catalogue) | catalogue_values(pack, language, catalogue)


def answer_values(pack: Pack, conversation: Conversation) -> dict[str, str]:
    """Titles of chosen options, labelled record fields and countdowns, in the contact's language."""
    data, language = conversation.data, conversation.language
    found: dict[str, str] = {}
    for accepts in _answer_kinds(pack):
        chosen = data.get(accepts.store_as or "")
        if chosen is None:
            continue
        if isinstance(accepts, Choice):
            titles = {option.id: option.title for option in accepts.options}
            if chosen in titles:
                found[f"{accepts.store_as}.title"] = lookup(pack, language, titles[chosen])
            continue
        for field, labels in accepts.labels.items():
            value = data.get(f"{accepts.store_as}.{field}", "")
            if value in labels:
                found[f"{accepts.store_as}.{field}"] = lookup(pack, language, labels[value])
        if accepts.countdown is not None:
            found[f"{accepts.store_as}.remaining"] = _countdown(pack, conversation, accepts)
    return found


def _answer_kinds(pack: Pack) -> Iterator[Choice | LookupAnswer]:
    """Every choice that stores its answer and every lookup, in the pack's order."""
    for flow in pack.flows.values():
        for step in flow.steps.values():
            if isinstance(step.accepts, Choice | LookupAnswer) and step.accepts.store_as:
                yield step.accepts


def _countdown(pack: Pack, conversation: Conversation, accepts: LookupAnswer) -> str:
    """The time left before a record's deadline, or how long ago it passed."""
    countdown = accepts.countdown
    assert countdown is not None
    deadline = conversation.data.get(f"{accepts.store_as}.{countdown.field}", "")
    left = remaining(deadline, conversation.updated_at) if deadline else None
    if left is None:
        return lookup(pack, conversation.language, countdown.none) if countdown.none else ""
    hours, minutes, passed = left
    key = countdown.overdue if passed else countdown.left
    return render(lookup(pack, conversation.language, key), {"hours": str(hours), "minutes": f"{minutes:02d}"})


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
    """``product_name``, ``price``, ``stock`` and ``total`` from the answers ``product`` and ``quantity``."""
    product = catalogue.product(answers.get("product"))
    if product is None:
        return {}
    found = {
        "product_name": product.name,
        "price": money(product.price, catalogue.currency),
        "stock": str(product.stock),
    }
    quantity = answers.get("quantity", "")
    if quantity.isdecimal():
        found["total"] = money(product.price * int(quantity), catalogue.currency)
    return found


def catalogue_values(pack: Pack, language: str, catalogue: Catalogue) -> dict[str, str]:
    """``catalogue``: the products in stock, numbered as offered, then those sold out."""
    if not catalogue.products:
        return {}
    line = _template(pack, language, "catalogue.line", _LINE)
    sold_out = _template(pack, language, "catalogue.sold_out", _SOLD_OUT)
    in_stock = catalogue.in_stock
    rows = [render(line, _product(catalogue, i, p)) for i, p in enumerate(in_stock, 1)]
    rows += [render(sold_out, _product(catalogue, 0, p)) for p in catalogue.products if p not in in_stock]
    return {"catalogue": "\n".join(rows)}


def _template(pack: Pack, language: str, key: str, default: str) -> str:
    found = lookup(pack, language, key)
    return default if found == key else found


def _product(catalogue: Catalogue, number: int, product: Product) -> dict[str, str]:
    price = money(product.price, catalogue.currency)
    return {"number": str(number), "name": product.name, "price": price, "stock": str(product.stock)}

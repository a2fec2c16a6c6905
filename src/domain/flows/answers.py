"""Reading an answer: which option a message picks, and whether a typed value is usable.

An option is picked by its button id; by its title in any of the pack's languages or one of
its words, as the whole message; else by the words of the message: a number (its position),
a word of its title or its own words (a typo forgiven from four letters on). A word two options
share names neither, and a message naming two options picks none.

A lookup is answered by the record a message names (``reference.find``); a media answer by a
message carrying media, or, when it may be skipped, by its skip option or a skip word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import msgspec

from domain.conversations import Turn
from domain.flows.catalogue import Catalogue
from domain.flows.definition import Choice, LookupAnswer, MediaAnswer, ProductChoice, TextAnswer
from domain.flows.prompts import SKIP, OptionView
from domain.flows.reference import Reference, Value, candidate_keys, stored
from domain.flows.words import YES_NO, close_enough, fold, phrase, words
from domain.validation import (
    Accepted,
    Rejected,
    Verdict,
    sanitise,
    validate_indian_mobile,
    validate_name,
    validate_pincode,
    validate_quantity,
)

NO_STOCK_LIMIT = 1_000_000
_NUMBER = re.compile(r"[+-]?\d{1,3}(?:[ ,.]\d{3})+|[+-]?\d+")


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """A usable answer: what to store, the step it leads to, the text to say there."""

    stored: dict[str, str]
    next: str
    next_text: str | None = None
    return_to: str | None = None
    """The step to come back to once the next one is answered."""
    replaces: str | None = None
    """The answer whose ``<name>.<field>`` entries this one replaces (a record found before)."""


def read(
    accepts: Choice | ProductChoice | TextAnswer | LookupAnswer | MediaAnswer,
    offered: tuple[OptionView, ...],
    turn: Turn,
    answers: Mapping[str, str],
    catalogue: Catalogue,
    reference: Reference | None = None,
) -> Answer | Rejected:
    """The answer a turn gives to a step, or why it gives none (``choice.invalid``…)."""
    if isinstance(accepts, LookupAnswer):
        return found(accepts, (reference or Reference()).find(accepts.table, turn.text), turn.text)
    if isinstance(accepts, MediaAnswer):
        return _media(accepts, offered, turn)
    if isinstance(accepts, TextAnswer):
        verdict = check(accepts, turn.text, answers.get(accepts.stock_from or ""), catalogue)
        if isinstance(verdict, Rejected):
            return verdict
        stored = {accepts.store_as: str(verdict.value)} if accepts.store_as else {}
        return Answer(stored=stored, next=accepts.next, next_text=accepts.next_text)
    picked = pick(offered, turn.text, turn.choice_id)
    if picked is None:
        return Rejected(code="choice.invalid")
    if isinstance(accepts, ProductChoice):
        return Answer(stored={accepts.store_as: picked}, next=accepts.next, next_text=accepts.next_text)
    option = next(option for option in accepts.options if option.id == picked)
    stored = {accepts.store_as: picked} if accepts.store_as else {}
    return Answer(stored=stored, next=option.next, next_text=option.next_text, return_to=option.return_to)


def found(accepts: LookupAnswer, record: Mapping[str, Value] | None, query: str) -> Answer | Rejected:
    """The answer a found record gives to a lookup, or its polite "not found"."""
    if record is None:
        typed = sanitise(query)
        return Rejected(code=accepts.not_found if candidate_keys(typed) else "text.empty", params={"query": typed})
    entries = stored(accepts.store_as, record)
    return Answer(stored=entries, next=accepts.next, next_text=accepts.next_text, replaces=accepts.store_as)


def _media(accepts: MediaAnswer, offered: tuple[OptionView, ...], turn: Turn) -> Answer | Rejected:
    """The attachment's reference (``attached`` when the channel gave none); empty for a skip;
    else ``media.missing``."""
    if turn.has_media:
        value = " ".join(turn.media) or "attached"
    elif accepts.skip is not None and pick(offered, turn.text, turn.choice_id) == SKIP:
        value = ""
    else:
        return Rejected(code="media.missing")
    return Answer(stored={accepts.store_as: value}, next=accepts.next, next_text=accepts.next_text)


def pick(offered: tuple[OptionView, ...], text: str, choice_id: str | None) -> str | None:
    """The id of the option a message picks, or None."""
    ids = {option.id for option in offered}
    if choice_id in ids:
        return choice_id
    said = phrase(text)
    if not said:
        return None
    whole = {o.id for o in offered for name in (*o.titles, *o.words) if phrase(name) == said}
    if len(whole) == 1:
        return whole.pop()
    named = {found for word in words(text) if (found := _named_by(offered, word)) is not None}
    return named.pop() if len(named) == 1 else None


def _named_by(offered: tuple[OptionView, ...], word: str) -> str | None:
    """The one option a single word names: its number, or one of its words (typos forgiven)."""
    if word.isdecimal():
        position = int(word)
        return offered[position - 1].id if 1 <= position <= len(offered) else None
    exact = {o.id for o in offered if word in _vocabulary(o)}
    if exact:
        return exact.pop() if len(exact) == 1 else None
    close = {o.id for o in offered if any(close_enough(word, known) for known in _vocabulary(o))}
    return close.pop() if len(close) == 1 else None


def _vocabulary(option: OptionView) -> frozenset[str]:
    """The single words that name an option: its own words, and title words of 4+ letters."""
    own = {w for word in option.words for w in words(word)}
    titled = {w for title in option.titles for w in words(title) if len(w) >= 4}
    return frozenset(own | titled)


def check(answer: TextAnswer, text: str, stock_of: str | None, catalogue: Catalogue) -> Verdict:
    """The clean value of a typed answer, or why it cannot be used."""
    match answer.validator:
        case "name":
            return validate_name(text)
        case "indian_mobile":
            return validate_indian_mobile(text)
        case "pincode":
            return validate_pincode(text)
        case "quantity":
            return validate_quantity(text, _stock(answer, stock_of, catalogue))
        case "number":
            return validate_number(text)
        case "yes_no":
            return validate_yes_no(text)
    clean = sanitise(text)
    if not clean and answer.required:
        return Rejected(code="text.empty")
    return Accepted(value=clean)


def _stock(answer: TextAnswer, product_id: str | None, catalogue: Catalogue) -> int:
    """The stock a quantity may not exceed: the chosen product's, or no real limit."""
    if answer.stock_from is None:
        return NO_STOCK_LIMIT
    product = catalogue.product(product_id)
    return product.stock if product else 0


def validate_number(text: str) -> Verdict:
    """A whole number, digits of any script, thousands grouped or not (``1.500``, ``1 500``)."""
    match = _NUMBER.fullmatch(fold(text))
    if match is None:
        return Rejected(code="number.invalid")
    return Accepted(value=int(re.sub(r"[ ,.]", "", match[0])))


def validate_yes_no(text: str) -> Verdict:
    """``yes`` or ``no``, in any language the engine speaks (``ya``, ``sí``, ``नहीं``…)."""
    said = set(_meanings(words(text)))
    if len(said) != 1:
        return Rejected(code="yes_no.invalid")
    return Accepted(value=said.pop())


def _meanings(said: Iterable[str]) -> Iterable[str]:
    """``yes``/``no`` for each word that means one of them."""
    return (YES_NO[word] for word in said if word in YES_NO)

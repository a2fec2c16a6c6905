"""The lead state machine.

A franchise lead moves through an explicit table of allowed transitions; every change of
state goes through ``transition``, which raises ``InvalidTransition`` for any other move.
The functions here return a new ``Lead``; nothing is mutated, nothing is stored.

DomainError
└── InvalidTransition     the table does not allow moving a lead from one state to another
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from domain.errors import DomainError
from domain.lead_form import FIELDS, LeadForm, merge_forms


class LeadState(enum.StrEnum):
    """Where a lead stands."""

    NEW = "NEW"
    CHOOSE_OPTION = "CHOOSE_OPTION"
    FORM_SENT = "FORM_SENT"
    FORM_IN_PROGRESS = "FORM_IN_PROGRESS"
    FORM_COMPLETED = "FORM_COMPLETED"
    PARTNERSHIP = "PARTNERSHIP"
    MANUAL_INTERVENTION = "MANUAL_INTERVENTION"
    EXISTING = "EXISTING"


class Lead(msgspec.Struct, frozen=True, kw_only=True):
    """A franchise lead: its state, its form so far, its run of invalid answers."""

    state: LeadState = LeadState.NEW
    form: LeadForm = LeadForm()
    invalid_answers: int = 0


class InvalidTransition(DomainError):
    """The transition table does not allow moving a lead from ``source`` to ``target``."""

    def __init__(self, source: LeadState, target: LeadState) -> None:
        super().__init__(source, target)
        self.source = source
        self.target = target

    def __str__(self) -> str:
        return f"a lead cannot move from {self.source.value} to {self.target.value}"


_S = LeadState

ALLOWED_TRANSITIONS: Mapping[LeadState, frozenset[LeadState]] = MappingProxyType({
    # Welcome and menu sent; or an operator imported a known contact; or handed to a person.
    # Not NEW itself: a lead that has said nothing has nothing to restart.
    _S.NEW: frozenset({_S.CHOOSE_OPTION, _S.EXISTING, _S.MANUAL_INTERVENTION}),
    # 1 -> form, 2 -> partnership, 3 or an invalid choice -> the menu again; restart -> NEW.
    _S.CHOOSE_OPTION: frozenset({
        _S.FORM_SENT, _S.PARTNERSHIP, _S.CHOOSE_OPTION, _S.MANUAL_INTERVENTION, _S.NEW,
    }),
    # Not FORM_SENT itself: a reply that is no form counts as an invalid answer and the
    # state stays put (no transition), it is never "sent again".
    _S.FORM_SENT: frozenset({
        _S.FORM_IN_PROGRESS, _S.FORM_COMPLETED, _S.CHOOSE_OPTION, _S.MANUAL_INTERVENTION,
        _S.NEW,
    }),
    # Another partial answer stays in progress.
    _S.FORM_IN_PROGRESS: frozenset({
        _S.FORM_IN_PROGRESS, _S.FORM_COMPLETED, _S.CHOOSE_OPTION, _S.MANUAL_INTERVENTION,
        _S.NEW,
    }),
    # A completed form is not reopened by chat (neither FORM_IN_PROGRESS nor FORM_COMPLETED
    # again): a correction goes to a person, or the lead starts over from the menu.
    _S.FORM_COMPLETED: frozenset({_S.CHOOSE_OPTION, _S.MANUAL_INTERVENTION, _S.NEW}),
    # Partnership talks are with a person; the bot only offers the menu again.
    # Not FORM_SENT directly: the lead goes back through the menu (CHOOSE_OPTION) first.
    _S.PARTNERSHIP: frozenset({_S.CHOOSE_OPTION, _S.MANUAL_INTERVENTION, _S.NEW}),
    # Only an operator releases it, to the menu. Not NEW: a user's "restart" must not take
    # a conversation away from the person handling it.
    _S.MANUAL_INTERVENTION: frozenset({_S.CHOOSE_OPTION}),
    # A pre-registered contact belongs to sales: escalated, or released by an operator.
    # Not NEW, for the same reason as MANUAL_INTERVENTION.
    _S.EXISTING: frozenset({_S.MANUAL_INTERVENTION, _S.CHOOSE_OPTION}),
})

MAX_INVALID_ANSWERS = 3

_HELD_BY_A_PERSON = frozenset({LeadState.MANUAL_INTERVENTION, LeadState.EXISTING})


def can_transition(source: LeadState, target: LeadState) -> bool:
    """True when the table allows moving a lead from source to target."""
    return target in ALLOWED_TRANSITIONS.get(source, frozenset())


def transition(lead: Lead, target: LeadState) -> Lead:
    """The lead in the target state; raises InvalidTransition unless the table allows it."""
    if not can_transition(lead.state, target):
        raise InvalidTransition(lead.state, target)
    return msgspec.structs.replace(lead, state=target)


def auto_reply_allowed(state: LeadState) -> bool:
    """False while a person holds the lead (MANUAL_INTERVENTION, EXISTING): the bot keeps quiet."""
    return state not in _HELD_BY_A_PERSON


def record_invalid_answer(lead: Lead) -> Lead:
    """One more invalid answer in a row; the third moves the lead to MANUAL_INTERVENTION.

    A lead a person holds is returned unchanged: the bot is not talking to it, so it does
    not judge its answers.
    """
    if not auto_reply_allowed(lead.state):
        return lead
    counted = msgspec.structs.replace(lead, invalid_answers=lead.invalid_answers + 1)
    if counted.invalid_answers >= MAX_INVALID_ANSWERS:
        return transition(counted, LeadState.MANUAL_INTERVENTION)
    return counted


def record_valid_answer(lead: Lead) -> Lead:
    """A valid answer ends the run of invalid ones."""
    return msgspec.structs.replace(lead, invalid_answers=0)


def escalated_now(before: Lead, after: Lead) -> bool:
    """True exactly when this step moved the lead into MANUAL_INTERVENTION (say so once)."""
    manual = LeadState.MANUAL_INTERVENTION
    return before.state != manual and after.state == manual


def release(lead: Lead) -> Lead:
    """An operator hands the lead back to the bot: to the menu, with no invalid answers.

    Releasing a lead the bot already holds changes nothing, so a repeated release is harmless.
    """
    if auto_reply_allowed(lead.state):
        return lead
    released = transition(lead, LeadState.CHOOSE_OPTION)
    return msgspec.structs.replace(released, invalid_answers=0)


def with_form(lead: Lead, form: LeadForm) -> Lead:
    """The lead with a newly parsed form merged in, FORM_COMPLETED when nothing is missing.

    Otherwise FORM_IN_PROGRESS. A form with no value at all changes nothing (the bot counts
    it as an invalid answer). Raises InvalidTransition where a form is not expected, such as
    on a completed lead. The invalid-answer counter is the bot's to reset.
    """
    if not any(getattr(form, name) for name in FIELDS):
        return lead
    merged = merge_forms(lead.form, form)
    target = LeadState.FORM_COMPLETED if merged.is_complete else LeadState.FORM_IN_PROGRESS
    return msgspec.structs.replace(transition(lead, target), form=merged)

"""The lead state machine: the whole transition table, the invalid-answer counter, release."""

from __future__ import annotations

import itertools
import pickle

import pytest

from domain.errors import DomainError
from domain.lead_form import LeadForm
from domain.leads import (
    ALLOWED_TRANSITIONS,
    MAX_INVALID_ANSWERS,
    InvalidTransition,
    Lead,
    LeadState,
    auto_reply_allowed,
    can_transition,
    escalated_now,
    record_invalid_answer,
    record_valid_answer,
    release,
    transition,
    with_form,
)

S = LeadState

# Written out again on purpose: the test states the table, it does not read it back.
EXPECTED_ALLOWED = {
    (S.NEW, S.CHOOSE_OPTION),
    (S.NEW, S.EXISTING),
    (S.NEW, S.MANUAL_INTERVENTION),
    (S.CHOOSE_OPTION, S.FORM_SENT),
    (S.CHOOSE_OPTION, S.PARTNERSHIP),
    (S.CHOOSE_OPTION, S.CHOOSE_OPTION),
    (S.CHOOSE_OPTION, S.MANUAL_INTERVENTION),
    (S.CHOOSE_OPTION, S.NEW),
    (S.FORM_SENT, S.FORM_IN_PROGRESS),
    (S.FORM_SENT, S.FORM_COMPLETED),
    (S.FORM_SENT, S.CHOOSE_OPTION),
    (S.FORM_SENT, S.MANUAL_INTERVENTION),
    (S.FORM_SENT, S.NEW),
    (S.FORM_IN_PROGRESS, S.FORM_IN_PROGRESS),
    (S.FORM_IN_PROGRESS, S.FORM_COMPLETED),
    (S.FORM_IN_PROGRESS, S.CHOOSE_OPTION),
    (S.FORM_IN_PROGRESS, S.MANUAL_INTERVENTION),
    (S.FORM_IN_PROGRESS, S.NEW),
    (S.FORM_COMPLETED, S.CHOOSE_OPTION),
    (S.FORM_COMPLETED, S.MANUAL_INTERVENTION),
    (S.FORM_COMPLETED, S.NEW),
    (S.PARTNERSHIP, S.CHOOSE_OPTION),
    (S.PARTNERSHIP, S.MANUAL_INTERVENTION),
    (S.PARTNERSHIP, S.NEW),
    (S.MANUAL_INTERVENTION, S.CHOOSE_OPTION),
    (S.EXISTING, S.MANUAL_INTERVENTION),
    (S.EXISTING, S.CHOOSE_OPTION),
}
ALL_PAIRS = list(itertools.product(LeadState, repeat=2))
FORBIDDEN = [pair for pair in ALL_PAIRS if pair not in EXPECTED_ALLOWED]

COMPLETE = LeadForm(sumber="Instagram", bisnis="Kopi", budget="100 juta", rencana="Maret",
                    budget_amount=100_000_000)


def _ids(pair: tuple[LeadState, LeadState]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_table_has_a_row_for_every_state() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(LeadState)


def test_table_is_exactly_the_expected_one() -> None:
    actual = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert actual == EXPECTED_ALLOWED


def test_table_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        ALLOWED_TRANSITIONS[S.NEW] = frozenset()  # type: ignore[index]


@pytest.mark.parametrize("pair", sorted(EXPECTED_ALLOWED), ids=_ids)
def test_allowed_transition_moves_the_lead(pair: tuple[LeadState, LeadState]) -> None:
    source, target = pair
    lead = Lead(state=source, form=COMPLETE, invalid_answers=2)
    moved = transition(lead, target)
    assert can_transition(source, target)
    assert moved == Lead(state=target, form=COMPLETE, invalid_answers=2)


@pytest.mark.parametrize("pair", FORBIDDEN, ids=_ids)
def test_forbidden_transition_raises_invalid_transition(pair: tuple[LeadState, LeadState]) -> None:
    source, target = pair
    assert not can_transition(source, target)
    with pytest.raises(InvalidTransition) as raised:
        transition(Lead(state=source), target)
    assert (raised.value.source, raised.value.target) == (source, target)


def test_every_pair_of_states_is_covered() -> None:
    assert len(EXPECTED_ALLOWED) + len(FORBIDDEN) == len(LeadState) ** 2 == 64


def test_only_choose_option_and_form_in_progress_may_stay_put() -> None:
    staying = {a for a in LeadState if can_transition(a, a)}
    assert staying == {S.CHOOSE_OPTION, S.FORM_IN_PROGRESS}


def test_completed_form_is_not_reopened_by_chat() -> None:
    with pytest.raises(InvalidTransition):
        transition(Lead(state=S.FORM_COMPLETED), S.FORM_IN_PROGRESS)


def test_invalid_transition_message_names_both_states() -> None:
    error = InvalidTransition(S.FORM_COMPLETED, S.FORM_IN_PROGRESS)
    assert "FORM_COMPLETED" in str(error)
    assert "FORM_IN_PROGRESS" in str(error)


def test_invalid_transition_is_a_domain_error_and_survives_pickling() -> None:
    error = InvalidTransition(S.NEW, S.FORM_COMPLETED)
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(error, DomainError)
    assert (copy.source, copy.target, str(copy)) == (error.source, error.target, str(error))


def test_transition_leaves_the_original_lead_untouched() -> None:
    lead = Lead()
    transition(lead, S.CHOOSE_OPTION)
    assert lead.state is S.NEW


# --- the invalid-answer counter -----------------------------------------------------------


def test_invalid_answer_increments_the_counter() -> None:
    lead = record_invalid_answer(Lead(state=S.CHOOSE_OPTION))
    assert (lead.state, lead.invalid_answers) == (S.CHOOSE_OPTION, 1)


def test_two_invalid_answers_then_a_valid_one_reset_the_counter() -> None:
    lead = record_invalid_answer(record_invalid_answer(Lead(state=S.FORM_SENT)))
    lead = record_valid_answer(lead)
    assert (lead.state, lead.invalid_answers) == (S.FORM_SENT, 0)
    lead = record_invalid_answer(record_invalid_answer(lead))
    assert lead.state is S.FORM_SENT


def test_third_invalid_answer_moves_lead_to_manual_intervention() -> None:
    lead = Lead(state=S.CHOOSE_OPTION)
    for _ in range(MAX_INVALID_ANSWERS):
        lead = record_invalid_answer(lead)
    assert MAX_INVALID_ANSWERS == 3
    assert (lead.state, lead.invalid_answers) == (S.MANUAL_INTERVENTION, 3)


@pytest.mark.parametrize(
    "state",
    [S.NEW, S.CHOOSE_OPTION, S.FORM_SENT, S.FORM_IN_PROGRESS, S.FORM_COMPLETED, S.PARTNERSHIP],
)
def test_third_invalid_answer_escalates_from_every_state_the_bot_talks_in(
    state: LeadState,
) -> None:
    lead = record_invalid_answer(Lead(state=state, invalid_answers=2))
    assert lead.state is S.MANUAL_INTERVENTION


def test_escalated_now_is_true_exactly_once() -> None:
    steps = [Lead(state=S.FORM_IN_PROGRESS)]
    for _ in range(5):
        steps.append(record_invalid_answer(steps[-1]))
    flags = [escalated_now(before, after) for before, after in itertools.pairwise(steps)]
    assert flags == [False, False, True, False, False]


def test_escalated_now_is_false_when_the_lead_was_already_with_a_person() -> None:
    held = Lead(state=S.MANUAL_INTERVENTION)
    assert not escalated_now(held, held)


def test_escalated_now_is_false_when_the_lead_leaves_manual_intervention() -> None:
    held = Lead(state=S.MANUAL_INTERVENTION, invalid_answers=3)
    assert not escalated_now(held, release(held))


@pytest.mark.parametrize("state", [S.MANUAL_INTERVENTION, S.EXISTING])
def test_invalid_answer_to_a_lead_held_by_a_person_changes_nothing(state: LeadState) -> None:
    lead = Lead(state=state, invalid_answers=2)
    assert record_invalid_answer(lead) == lead


# --- auto replies and release -------------------------------------------------------------


@pytest.mark.parametrize("state", list(LeadState), ids=str)
def test_auto_reply_is_allowed_unless_a_person_holds_the_lead(state: LeadState) -> None:
    expected = state not in {S.MANUAL_INTERVENTION, S.EXISTING}
    assert auto_reply_allowed(state) is expected


@pytest.mark.parametrize("state", [S.MANUAL_INTERVENTION, S.EXISTING])
def test_release_hands_the_lead_back_to_the_menu_with_a_clean_counter(state: LeadState) -> None:
    lead = Lead(state=state, form=COMPLETE, invalid_answers=3)
    assert release(lead) == Lead(state=S.CHOOSE_OPTION, form=COMPLETE, invalid_answers=0)


@pytest.mark.parametrize(
    "state",
    [S.NEW, S.CHOOSE_OPTION, S.FORM_SENT, S.FORM_IN_PROGRESS, S.FORM_COMPLETED, S.PARTNERSHIP],
)
def test_release_of_a_lead_the_bot_holds_changes_nothing(state: LeadState) -> None:
    lead = Lead(state=state, invalid_answers=1)
    assert release(lead) == lead


def test_released_lead_is_answered_again() -> None:
    lead = release(Lead(state=S.MANUAL_INTERVENTION, invalid_answers=3))
    assert auto_reply_allowed(lead.state)
    assert record_invalid_answer(lead).invalid_answers == 1


# --- forms --------------------------------------------------------------------------------


def test_partial_form_moves_a_sent_form_to_in_progress() -> None:
    lead = with_form(Lead(state=S.FORM_SENT), LeadForm(sumber="Instagram", bisnis="Kopi"))
    assert lead.state is S.FORM_IN_PROGRESS
    assert lead.form.missing == ("budget", "rencana")


def test_complete_form_moves_a_sent_form_to_completed() -> None:
    lead = with_form(Lead(state=S.FORM_SENT), COMPLETE)
    assert (lead.state, lead.form) == (S.FORM_COMPLETED, COMPLETE)


def test_second_partial_form_completes_the_first() -> None:
    first = with_form(Lead(state=S.FORM_SENT), LeadForm(sumber="Instagram", bisnis="Kopi"))
    second = with_form(first, LeadForm(budget="100 juta", rencana="Maret",
                                       budget_amount=100_000_000))
    assert (second.state, second.form) == (S.FORM_COMPLETED, COMPLETE)


def test_newer_form_value_replaces_the_stored_one() -> None:
    lead = Lead(state=S.FORM_IN_PROGRESS, form=LeadForm(budget="50 juta", budget_amount=50_000_000))
    lead = with_form(lead, LeadForm(budget="1 M", budget_amount=1_000_000_000))
    assert (lead.form.budget, lead.form.budget_amount) == ("1 M", 1_000_000_000)
    assert lead.state is S.FORM_IN_PROGRESS


def test_empty_form_changes_nothing() -> None:
    lead = Lead(state=S.FORM_SENT, invalid_answers=1)
    assert with_form(lead, LeadForm()) == lead


def test_form_on_a_completed_lead_raises_invalid_transition() -> None:
    with pytest.raises(InvalidTransition):
        with_form(Lead(state=S.FORM_COMPLETED, form=COMPLETE), LeadForm(budget="2 M"))


def test_form_where_none_was_asked_for_raises_invalid_transition() -> None:
    with pytest.raises(InvalidTransition):
        with_form(Lead(state=S.CHOOSE_OPTION), COMPLETE)


def test_with_form_leaves_the_counter_to_the_bot() -> None:
    lead = with_form(Lead(state=S.FORM_SENT, invalid_answers=2), LeadForm(sumber="TikTok"))
    assert lead.invalid_answers == 2

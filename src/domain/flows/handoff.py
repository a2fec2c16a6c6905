"""Who holds a conversation, the bot or a person, and the run of invalid answers.

A conversation with a lead keeps both in the lead (``domain.leads``: the third invalid answer
moves it to MANUAL_INTERVENTION); one without a lead (an order, an onboarding) keeps them in
its data, under keys the engine reserves.
"""

from __future__ import annotations

from msgspec.structs import replace

from domain import leads
from domain.conversations import Conversation
from domain.leads import MAX_INVALID_ANSWERS, Lead, LeadState

HELD = "_held"
INVALID = "_invalid"


def without(data: dict[str, str], *keys: str) -> dict[str, str]:
    """The data without those keys."""
    return {key: value for key, value in data.items() if key not in keys}


def is_held(conversation: Conversation) -> bool:
    """True while a person holds the conversation: the bot keeps quiet."""
    lead = conversation.lead
    if lead is not None and not leads.auto_reply_allowed(lead.state):
        return True
    return HELD in conversation.data


def count_invalid(conversation: Conversation) -> tuple[Conversation, bool]:
    """One more invalid answer; True when this one hands the conversation to a person."""
    lead = conversation.lead
    if lead is not None:
        after = leads.record_invalid_answer(lead)
        return replace(conversation, lead=after), leads.escalated_now(lead, after)
    said = conversation.data.get(INVALID, "0")
    count = (int(said) if said.isdecimal() else 0) + 1
    if count >= MAX_INVALID_ANSWERS:
        data = without(conversation.data, INVALID) | {HELD: "invalid_answers"}
        return replace(conversation, data=data), True
    return replace(conversation, data=conversation.data | {INVALID: str(count)}), False


def count_valid(conversation: Conversation) -> Conversation:
    """A valid answer ends the run of invalid ones."""
    lead = conversation.lead
    if lead is not None:
        conversation = replace(conversation, lead=leads.record_valid_answer(lead))
    if INVALID in conversation.data:
        conversation = replace(conversation, data=without(conversation.data, INVALID))
    return conversation


def hold(conversation: Conversation, reason: str) -> Conversation:
    """Hand the conversation to a person because the flow says so (a requested handoff)."""
    lead = conversation.lead
    if lead is not None:
        if leads.auto_reply_allowed(lead.state):
            lead = leads.transition(lead, LeadState.MANUAL_INTERVENTION)
        return replace(conversation, lead=lead)
    return replace(conversation, data=conversation.data | {HELD: reason})


def release(conversation: Conversation) -> Conversation:
    """Hand the conversation back to the bot, with no invalid answers."""
    lead = leads.release(conversation.lead) if conversation.lead is not None else None
    return replace(conversation, lead=lead, data=without(conversation.data, HELD, INVALID))


def move_lead(conversation: Conversation, target: LeadState) -> Conversation:
    """The conversation with its lead (a new one if it has none) moved to ``target``."""
    lead = conversation.lead or Lead()
    if lead.state is not target:
        lead = leads.transition(lead, target)
    return replace(conversation, lead=lead)

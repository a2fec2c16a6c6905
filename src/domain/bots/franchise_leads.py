"""The franchise lead bot: a menu, a free-text form, a partnership note and a question box.

The lead's state lives in ``conversation.lead`` (``domain.leads``); ``conversation.step``
mirrors it. Every turn gets at most one reply. While a lead waits for a person
(MANUAL_INTERVENTION) or is a known customer (EXISTING) the bot stays silent, as it does for a
contact who opted out until they write ``start``.
"""

from __future__ import annotations

import re

from msgspec.structs import replace

from domain import leads
from domain.bots import franchise_texts as texts
from domain.conversations import Conversation, Decision, Turn
from domain.events import Event, HandoffRequested, LeadCaptured, QuestionReceived
from domain.lead_form import FIELDS, LeadForm, parse_lead_form
from domain.leads import Lead, LeadState
from domain.messages import Button, ButtonsReply, Reply, TextReply

AWAITING_QUESTION = "awaiting_question"
MENU_DUE = "menu_due"
"""Set when an operator released the conversation: the next message gets the menu."""

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_GLOBAL_WORDS = frozenset().union(
    texts.MENU_WORDS, texts.HELP_WORDS, texts.RESTART_WORDS, texts.STOP_WORDS, texts.LANGUAGE_WORDS
)


class FranchiseLeadsBot:
    """Welcome menu → form, partnership or question; three invalid answers → a person."""

    name = "franchise_leads"

    def __init__(self, business_name: str = "StartFranchise") -> None:
        self.business_name = business_name

    def start(self, contact_key: str, now: float, language: str | None = None) -> Conversation:
        """A NEW lead, Indonesian unless told otherwise."""
        return Conversation(
            contact_key=contact_key,
            bot=self.name,
            step=LeadState.NEW.value,
            language=language or texts.DEFAULT_LANGUAGE,
            lead=Lead(),
            started_at=now,
            updated_at=now,
        )

    def decide(self, conversation: Conversation, turn: Turn) -> Decision:
        """The next state, at most one reply, and the events for this turn."""
        conversation = replace(conversation, updated_at=turn.now)
        lead = conversation.lead or Lead()
        if not leads.auto_reply_allowed(lead.state):
            return Decision(conversation=conversation)
        word = _global_word(turn)
        if conversation.opted_out:
            if word not in texts.START_WORDS:
                return Decision(conversation=conversation)
            return self._welcome(replace(conversation, opted_out=False), lead)
        if word is not None:
            return self._on_global_word(conversation, lead, word)
        if MENU_DUE in conversation.data:
            return self._welcome(conversation, lead)
        if lead.state is LeadState.NEW:
            return self._welcome(_with_detected_language(conversation, turn), lead)
        if lead.state is LeadState.CHOOSE_OPTION:
            return self._on_choice(conversation, lead, turn)
        if lead.state in (LeadState.FORM_SENT, LeadState.FORM_IN_PROGRESS):
            return self._on_form(conversation, lead, turn)
        return self._reply(conversation, lead, self._text(conversation, "already_received"))

    def expire(self, conversation: Conversation, now: float) -> Conversation:
        """After the idle time a conversation starts afresh, unless a person holds it or the
        contact opted out: neither ends because time passed."""
        lead = conversation.lead or Lead()
        if conversation.opted_out or not leads.auto_reply_allowed(lead.state):
            return conversation
        return self.start(conversation.contact_key, now, conversation.language)

    def release(self, conversation: Conversation, now: float) -> Conversation:
        """Hand the lead back to the bot; the contact's next message gets the menu."""
        lead = leads.release(conversation.lead or Lead())
        data = _without(conversation.data, AWAITING_QUESTION) | {MENU_DUE: "1"}
        return _synced(replace(conversation, data=data, updated_at=now), lead)

    # --- global words ----------------------------------------------------------------------

    def _on_global_word(self, conversation: Conversation, lead: Lead, word: str) -> Decision:
        if word in texts.LANGUAGE_WORDS:
            return self._welcome(replace(conversation, language=texts.LANGUAGE_WORDS[word]), lead)
        if word in texts.MENU_WORDS:
            return self._welcome(conversation, lead)
        if word in texts.HELP_WORDS:
            return self._reply(conversation, lead, self._text(conversation, "help"))
        if word in texts.RESTART_WORDS:
            restarted = _moved(Lead(state=lead.state), LeadState.NEW)  # form and count cleared
            return self._welcome(replace(conversation, data={}), restarted)
        reply = self._text(conversation, "opted_out")  # a stop word: the only ones left
        return self._reply(replace(conversation, opted_out=True), lead, reply)

    def _welcome(self, conversation: Conversation, lead: Lead) -> Decision:
        lead = leads.record_valid_answer(_moved(lead, LeadState.CHOOSE_OPTION))
        data = _without(conversation.data, AWAITING_QUESTION, MENU_DUE)
        reply = self._menu(conversation, "welcome")
        return self._reply(replace(conversation, data=data), lead, reply)

    # --- the menu --------------------------------------------------------------------------

    def _on_choice(self, conversation: Conversation, lead: Lead, turn: Turn) -> Decision:
        if AWAITING_QUESTION in conversation.data:
            return self._on_question(conversation, lead, turn)
        option = _chosen_option(turn)
        if option is None:
            reply = self._menu(conversation, "invalid_option")
            return self._invalid(conversation, lead, turn, reply)
        lead = leads.record_valid_answer(lead)
        if option == "opt_franchise":
            reply = self._text(conversation, "form_request", example=texts.FORM_EXAMPLE)
            return self._reply(conversation, leads.transition(lead, LeadState.FORM_SENT), reply)
        if option == "opt_partnership":
            reply = self._text(conversation, "partnership")
            return self._reply(conversation, leads.transition(lead, LeadState.PARTNERSHIP), reply)
        asking = replace(conversation, data=conversation.data | {AWAITING_QUESTION: "1"})
        return self._reply(asking, lead, self._text(conversation, "ask_question"))

    def _on_question(self, conversation: Conversation, lead: Lead, turn: Turn) -> Decision:
        question = turn.text.strip()
        if not question:
            reply = self._text(conversation, "ask_question")
            return self._invalid(conversation, lead, turn, reply)
        event = QuestionReceived(
            contact_key=conversation.contact_key,
            contact_label=turn.contact_label,
            question=question,
            at=turn.now,
        )
        answered = replace(conversation, data=_without(conversation.data, AWAITING_QUESTION))
        reply = self._menu(conversation, "question_received")
        return self._reply(answered, leads.record_valid_answer(lead), reply, event)

    # --- the form --------------------------------------------------------------------------

    def _on_form(self, conversation: Conversation, lead: Lead, turn: Turn) -> Decision:
        answer = parse_lead_form(turn.text)
        if not any(getattr(answer, field) for field in FIELDS):
            reply = self._text(conversation, "form_reminder", example=texts.FORM_EXAMPLE)
            return self._invalid(conversation, lead, turn, reply)
        lead = leads.with_form(leads.record_valid_answer(lead), answer)
        form = lead.form
        if not form.is_complete:
            missing = ", ".join(texts.FIELD_LABELS[field] for field in form.missing)
            received = _summary(form)
            reply = self._text(conversation, "form_partial", received=received, missing=missing)
            return self._reply(conversation, lead, reply)
        event = LeadCaptured(
            contact_key=conversation.contact_key,
            contact_label=turn.contact_label,
            fields={field: getattr(form, field) or "" for field in FIELDS},
            budget_amount=form.budget_amount,
            at=turn.now,
        )
        reply = self._text(conversation, "form_received", summary=_summary(form))
        return self._reply(conversation, lead, reply, event)

    # --- invalid answers -------------------------------------------------------------------

    def _invalid(
        self, conversation: Conversation, lead: Lead, turn: Turn, reply: Reply
    ) -> Decision:
        after = leads.record_invalid_answer(lead)
        if not leads.escalated_now(lead, after):
            return self._reply(conversation, after, reply)
        event = HandoffRequested(
            contact_key=conversation.contact_key,
            contact_label=turn.contact_label,
            reason="invalid_answers",
            last_text=turn.text,
            at=turn.now,
        )
        handed = replace(conversation, data=_without(conversation.data, AWAITING_QUESTION))
        return self._reply(handed, after, self._text(conversation, "escalation"), event)

    # --- replies ---------------------------------------------------------------------------

    def _reply(
        self, conversation: Conversation, lead: Lead, reply: Reply, *events: Event
    ) -> Decision:
        return Decision(conversation=_synced(conversation, lead), replies=(reply,), events=events)

    def _text(self, conversation: Conversation, key: str, **values: str) -> TextReply:
        return TextReply(text=self._say(conversation, key, **values))

    def _menu(self, conversation: Conversation, key: str) -> ButtonsReply:
        buttons = tuple(
            Button(id=option, title=self._say(conversation, title))
            for option, title in texts.OPTION_TITLES.items()
        )
        return ButtonsReply(
            text=self._say(conversation, key),
            buttons=buttons,
            footer=self._say(conversation, "menu_footer"),
        )

    def _say(self, conversation: Conversation, key: str, **values: str) -> str:
        return texts.text(conversation.language, key, business=self.business_name, **values)


# --- pure helpers ----------------------------------------------------------------------------


def _synced(conversation: Conversation, lead: Lead) -> Conversation:
    return replace(conversation, lead=lead, step=lead.state.value)


def _without(data: dict[str, str], *keys: str) -> dict[str, str]:
    return {key: value for key, value in data.items() if key not in keys}


def _moved(lead: Lead, target: LeadState) -> Lead:
    if lead.state is target:
        return lead
    return leads.transition(lead, target)


def _summary(form: LeadForm) -> str:
    lines = []
    for field in FIELDS:
        value = getattr(form, field)
        if not value:
            continue
        if field == "budget" and form.budget_amount is not None:
            value = f"{value} ({texts.rupiah(form.budget_amount)})"
        lines.append(f"{texts.FIELD_LABELS[field]}: {value}")
    return "\n".join(lines)


def _global_word(turn: Turn) -> str | None:
    """The global word this turn is, if it is one (a Telegram ``/command@bot arg`` counts)."""
    if turn.choice_id in texts.OPTION_IDS:
        return None
    said = " ".join(turn.text.lower().split()).rstrip(".!?")
    if said.startswith("/"):
        said = said.split(" ", 1)[0].split("@", 1)[0]
    return said if said in _GLOBAL_WORDS else None


def _chosen_option(turn: Turn) -> str | None:
    """The option a turn picks: a button id, or exactly one option named by number or word."""
    if turn.choice_id in texts.OPTION_IDS:
        return turn.choice_id
    named = {texts.OPTION_WORDS[word] for word in _words(turn.text) if word in texts.OPTION_WORDS}
    return named.pop() if len(named) == 1 else None


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _with_detected_language(conversation: Conversation, turn: Turn) -> Conversation:
    """On a contact's first message, switch to English if the message clearly is English."""
    if looks_english(turn.text):
        return replace(conversation, language="en")
    return conversation


def looks_english(text: str) -> bool:
    """True for an English greeting or request, or when most words are everyday English."""
    words = _words(text)
    if not words:
        return False
    opening = " ".join(words[:2])
    if any(opening == o or opening.startswith(o + " ") for o in texts.ENGLISH_OPENINGS):
        return True
    english = sum(word in texts.COMMON_ENGLISH_WORDS for word in words)
    return english * 2 > len(words)

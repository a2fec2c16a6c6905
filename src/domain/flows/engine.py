"""``FlowBot``: the ``Bot`` protocol over a pack of flows defined as data.

``conversation.step`` is ``"<flow>.<step>"`` (``"start"`` before the first answer), the
answers live in ``conversation.data`` under their ``store_as`` names, and the engine keeps its
own entries there under keys starting with ``_`` (``steps.py`` names the rest):

- ``_pack``: the pack version the conversation's flow began on. ``FlowBot`` is built with every
  version still in use; a conversation keeps its version until it leaves the flow (``menu``,
  ``restart``, a finished flow, expiry), then takes the newest. One whose version is gone
  continues on the newest if its step exists there, else starts afresh.
- ``_detect``: the language is still to be read from the first message.
- ``_menu_due``: an operator released it; the next message gets the menu.
- ``_asked``: the language picker was shown; the next message may answer it.
- ``_held``, ``_invalid``: a person holds it, the run of invalid answers (without a lead).

Every turn gets at most one reply. The global words (``words.py``) are heard in every flow and
language before the step reads the message; a person's conversation (three invalid answers, a
``handoff``, a lead held) gets silence; an opted-out one hears only ``start``.

A lookup in one of the application's own tables (the shop's orders) is the one two-part turn:
``decide`` emits ``LookupRequested`` and says nothing; the application finds the record and
calls ``looked_up`` with it (or None) for the turn's one reply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from msgspec.structs import replace

from domain import leads
from domain.conversations import Conversation, Decision, Turn
from domain.errors import DomainError
from domain.flows import handoff
from domain.flows.catalogue import Catalogue
from domain.flows.definition import CreateLead, FormAnswer, Pack, Step
from domain.flows.languages import language_picked, language_picker
from domain.flows.prompts import options
from domain.flows.reference import Reference, Value
from domain.flows.steps import ASKED, DETECT, MENU_DUE, PACK, Steps
from domain.flows.triggers import triggered
from domain.flows.words import HELP, LANGUAGE, MENU, RESTART, START, global_word
from domain.leads import Lead, LeadState

FIRST = "start"


class NoPack(DomainError):
    """A FlowBot needs at least one pack, and every version must be of the same pack."""


class FlowBot:
    """A bot that runs a pack's flows; every version a conversation may still be on is given,
    with the catalogue and the reference data its flows read."""

    def __init__(
        self, packs: Iterable[Pack], catalogue: Catalogue | None = None, reference: Reference | None = None
    ) -> None:
        versions = {pack.version: pack for pack in packs}
        if not versions or len({pack.name for pack in versions.values()}) != 1:
            raise NoPack("a FlowBot runs one or more versions of one pack")
        self.versions: Mapping[int, Pack] = MappingProxyType(versions)
        self.current = versions[max(versions)]
        self.name = self.current.name
        self.catalogue = catalogue or Catalogue()
        self.reference = reference or Reference()
        self._steps = Steps(self.current, self.catalogue, self.reference)

    def pack_for(self, conversation: Conversation) -> Pack:
        """The version a conversation is pinned to, or the newest."""
        pinned = conversation.data.get(PACK, "")
        return self.versions.get(int(pinned), self.current) if pinned.isdecimal() else self.current

    def start(self, contact_key: str, now: float, language: str | None = None) -> Conversation:
        """A conversation that has not begun; without a language, the first message sets it."""
        return Conversation(
            contact_key=contact_key,
            bot=self.name,
            step=FIRST,
            language=language or self.current.default_language,
            data={} if language else {DETECT: "1"},
            lead=Lead() if _uses_leads(self.current) else None,
            started_at=now,
            updated_at=now,
        )

    def decide(self, conversation: Conversation, turn: Turn) -> Decision:
        """The next state, at most one reply, and the events for this turn."""
        conversation = replace(conversation, updated_at=turn.now)
        if handoff.is_held(conversation):
            return Decision(conversation=conversation)
        pack = self.pack_for(conversation)
        here = _here(pack, conversation)
        word = None if self._pressed_option(pack, conversation, here, turn) else global_word(turn.text)
        if conversation.opted_out:
            if word is None or word[0] != START:
                return Decision(conversation=conversation)
            return self._steps.afresh(replace(conversation, opted_out=False), turn)
        if word is not None:
            return self._on_word(pack, conversation, turn, *word)
        if ASKED in conversation.data or (turn.choice_id or "").startswith("language:"):
            conversation = replace(conversation, data=handoff.without(conversation.data, ASKED))
            code = language_picked(pack, turn)
            if code is not None:
                return self._switch(pack, conversation, turn, code)
        if here is None or here.accepts is None or MENU_DUE in conversation.data:
            return self._steps.afresh(conversation, turn, triggered(self.current, turn.text))
        return self._steps.answer(pack, conversation, here, turn)

    def looked_up(self, conversation: Conversation, turn: Turn, record: Mapping[str, Value] | None) -> Decision:
        """The turn's reply once the application found the record LookupRequested asked for
        (``reference.order_record`` for an order), or None when it has none by that id."""
        conversation = replace(conversation, updated_at=turn.now)
        if handoff.is_held(conversation) or conversation.opted_out:
            return Decision(conversation=conversation)
        return self._steps.looked_up(self.pack_for(conversation), conversation, turn, record)

    def expire(self, conversation: Conversation, now: float) -> Conversation:
        """After the idle time a conversation starts afresh, unless opted out or held by a person."""
        if conversation.opted_out or handoff.is_held(conversation):
            return conversation
        return self.start(conversation.contact_key, now, conversation.language)

    def release(self, conversation: Conversation, now: float) -> Conversation:
        """Hand the conversation back to the bot; the contact's next message gets the menu."""
        released = handoff.release(conversation)
        return replace(released, data=released.data | {MENU_DUE: "1"}, updated_at=now)

    # --- global words ----------------------------------------------------------------------

    def _on_word(
        self, pack: Pack, conversation: Conversation, turn: Turn, kind: str, code: str | None
    ) -> Decision:
        if kind == LANGUAGE:
            if code in pack.languages:
                return self._switch(pack, conversation, turn, code)
            reply = language_picker(pack, conversation.language)
            data = conversation.data | {ASKED: "language"}
            return Decision(conversation=replace(conversation, data=data), replies=(reply,))
        if kind in (MENU, START):
            return self._steps.afresh(conversation, turn)
        if kind == HELP:
            return self._steps.say(pack, conversation, pack.help)
        if kind == RESTART:
            lead = conversation.lead
            if lead is not None and lead.state is not LeadState.NEW:
                lead = leads.transition(Lead(state=lead.state), LeadState.NEW)  # form and count cleared
            return self._steps.afresh(replace(conversation, data={}, lead=lead), turn)
        return self._steps.say(pack, replace(conversation, opted_out=True), pack.opted_out)  # STOP, the last

    def _switch(self, pack: Pack, conversation: Conversation, turn: Turn, code: str) -> Decision:
        """The contact's language changed: the current question again, in the new language."""
        conversation = replace(conversation, language=code, data=handoff.without(conversation.data, DETECT))
        here = _here(pack, conversation)
        if here is None or here.accepts is None or MENU_DUE in conversation.data:
            return self._steps.afresh(conversation, turn)
        reply = self._steps.speaker(pack, conversation).prompt(here)
        return Decision(conversation=conversation, replies=(reply,))

    def _pressed_option(self, pack: Pack, conversation: Conversation, here: Step | None, turn: Turn) -> bool:
        """True when the turn is a button press of this step (never a global word)."""
        if turn.choice_id is None or here is None:
            return False
        if turn.choice_id.startswith("language:"):
            return True
        offered = options(pack, here, conversation.language, self.catalogue)
        return any(option.id == turn.choice_id for option in offered)


def _here(pack: Pack, conversation: Conversation) -> Step | None:
    """The step the conversation is at, or None before the first answer or when it is gone."""
    return None if conversation.step == FIRST else pack.step(conversation.step)


def _uses_leads(pack: Pack) -> bool:
    """True when the pack drives a lead: a lead state, the lead form, or CreateLead."""
    return any(
        step.lead_state is not None
        or isinstance(step.accepts, FormAnswer)
        or any(isinstance(action, CreateLead) for action in step.on_complete)
        for flow in pack.flows.values()
        for step in flow.steps.values()
    )

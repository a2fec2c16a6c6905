"""``FlowBot``: the ``Bot`` protocol over a pack of flows defined as data.

``conversation.step`` is ``"<flow>.<step>"`` (``"start"`` before the first answer), the
answers live in ``conversation.data`` under their ``store_as`` names, and the engine keeps its
own entries there under keys starting with ``_``:

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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from msgspec.structs import replace

from domain import leads
from domain.conversations import Conversation, Decision, Turn
from domain.errors import DomainError
from domain.events import HandoffRequested
from domain.flows import effects, handoff
from domain.flows.answers import read
from domain.flows.catalogue import Catalogue
from domain.flows.definition import CreateLead, FormAnswer, Pack, Step, resolve
from domain.flows.detection import detect_language
from domain.flows.effects import ActionRefused, AnyEvent
from domain.flows.languages import language_picked, language_picker
from domain.flows.prompts import Speaker, options
from domain.flows.texts import explanation
from domain.flows.triggers import triggered
from domain.flows.words import HELP, LANGUAGE, MENU, RESTART, START, global_word
from domain.lead_form import FIELDS, parse_lead_form
from domain.leads import Lead, LeadState
from domain.messages import TextReply
from domain.validation import Rejected

FIRST = "start"
PACK, DETECT, MENU_DUE, ASKED = "_pack", "_detect", "_menu_due", "_asked"


class NoPack(DomainError):
    """A FlowBot needs at least one pack, and every version must be of the same pack."""


class FlowBot:
    """A bot that runs a pack's flows; every version a conversation may still be on is given."""

    def __init__(self, packs: Iterable[Pack], catalogue: Catalogue | None = None) -> None:
        versions = {pack.version: pack for pack in packs}
        if not versions or len({pack.name for pack in versions.values()}) != 1:
            raise NoPack("a FlowBot runs one or more versions of one pack")
        self.versions: Mapping[int, Pack] = MappingProxyType(versions)
        self.current = versions[max(versions)]
        self.name = self.current.name
        self.catalogue = catalogue or Catalogue()

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
            return self._afresh(replace(conversation, opted_out=False), turn)
        if word is not None:
            return self._on_word(pack, conversation, turn, *word)
        if ASKED in conversation.data or (turn.choice_id or "").startswith("language:"):
            conversation = replace(conversation, data=handoff.without(conversation.data, ASKED))
            code = language_picked(pack, turn)
            if code is not None:
                return self._switch(pack, conversation, turn, code)
        if here is None or here.accepts is None or MENU_DUE in conversation.data:
            return self._afresh(conversation, turn, triggered(self.current, turn.text))
        return self._answer(pack, conversation, here, turn)

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
            return Decision(conversation=_with(conversation, {ASKED: "language"}), replies=(reply,))
        if kind in (MENU, START):
            return self._afresh(conversation, turn)
        if kind == HELP:
            return self._say(pack, conversation, pack.help)
        if kind == RESTART:
            lead = conversation.lead
            if lead is not None and lead.state is not LeadState.NEW:
                lead = leads.transition(Lead(state=lead.state), LeadState.NEW)  # form and count cleared
            return self._afresh(replace(conversation, data={}, lead=lead), turn)
        return self._say(pack, replace(conversation, opted_out=True), pack.opted_out)  # STOP, the last

    def _switch(self, pack: Pack, conversation: Conversation, turn: Turn, code: str) -> Decision:
        """The contact's language changed: the current question again, in the new language."""
        conversation = replace(conversation, language=code, data=handoff.without(conversation.data, DETECT))
        here = _here(pack, conversation)
        if here is None or here.accepts is None or MENU_DUE in conversation.data:
            return self._afresh(conversation, turn)
        return Decision(conversation=conversation, replies=(self._speaker(pack, conversation).prompt(here),))

    def _pressed_option(self, pack: Pack, conversation: Conversation, here: Step | None, turn: Turn) -> bool:
        """True when the turn is a button press of this step (never a global word)."""
        if turn.choice_id is None or here is None:
            return False
        if turn.choice_id.startswith("language:"):
            return True
        offered = options(pack, here, conversation.language, self.catalogue)
        return any(option.id == turn.choice_id for option in offered)

    # --- entering steps --------------------------------------------------------------------

    def _afresh(self, conversation: Conversation, turn: Turn, flow: str | None = None) -> Decision:
        """Begin a flow on the newest pack: the one named (a trigger's), else the menu."""
        pack = self.current
        if DETECT in conversation.data:
            detected = detect_language(turn.text)
            if detected in pack.languages:
                conversation = replace(conversation, language=detected)
        name = flow if flow in pack.flows else pack.menu
        fresh = replace(conversation, data={PACK: str(pack.version)})
        return self._enter(pack, handoff.count_valid(fresh), turn, f"{name}.{pack.flows[name].start}")

    def _enter(
        self,
        pack: Pack,
        conversation: Conversation,
        turn: Turn,
        ref: str,
        text_key: str | None = None,
        events: tuple[AnyEvent, ...] = (),
        prefix: str | None = None,
    ) -> Decision:
        """Move to a step: its lead state, its actions if it ends the flow, its prompt."""
        step = pack.step(ref)
        if step is None:
            raise DomainError(f"pack {pack.name} v{pack.version} has no step {ref!r}")
        conversation = replace(conversation, step=ref)
        if step.lead_state is not None:
            conversation = handoff.move_lead(conversation, step.lead_state)
        if step.accepts is None and prefix is None:
            try:
                conversation, done = effects.run(step.on_complete, conversation, turn, self.catalogue)
            except ActionRefused as refused:
                return self._refused(pack, conversation, turn, refused)
            events += done
        reply = self._speaker(pack, conversation).prompt(step, text_key, prefix)
        return Decision(conversation=conversation, replies=(reply,), events=events)  # type: ignore[arg-type]

    def _refused(self, pack: Pack, conversation: Conversation, turn: Turn, refused: ActionRefused) -> Decision:
        """An action could not be done: say why and begin its flow again."""
        flow = conversation.step.partition(".")[0]
        why = explanation(pack, conversation.language, refused.rejection)
        return self._enter(pack, conversation, turn, f"{flow}.{pack.flows[flow].start}", prefix=why)

    # --- answers ---------------------------------------------------------------------------

    def _answer(self, pack: Pack, conversation: Conversation, step: Step, turn: Turn) -> Decision:
        """Read the message as the step's answer; a choice it misses may be another flow's trigger."""
        accepts = step.accepts
        if isinstance(accepts, FormAnswer):
            return self._on_form(pack, conversation, step, accepts, turn)
        assert accepts is not None
        offered = options(pack, step, conversation.language, self.catalogue)
        answer = read(accepts, offered, turn, conversation.data, self.catalogue)
        if isinstance(answer, Rejected):
            other = triggered(pack, turn.text) if answer.code == "choice.invalid" else None
            if other is not None:
                return self._afresh(conversation, turn, other)
            return self._invalid(pack, conversation, step, turn, answer)
        flow = conversation.step.partition(".")[0]
        return self._accept(
            pack, conversation, turn, step, answer.stored, resolve(flow, answer.next), answer.next_text
        )

    def _on_form(self, pack: Pack, conversation: Conversation, step: Step, form: FormAnswer, turn: Turn) -> Decision:
        """The lead form: merged into the lead, the missing fields named, completed at last."""
        answer = parse_lead_form(turn.text)
        if not any(getattr(answer, field) for field in FIELDS):
            return self._invalid(pack, conversation, step, turn, Rejected(code="form.empty"))
        lead = leads.with_form(conversation.lead or Lead(), answer)
        conversation = handoff.count_valid(replace(conversation, lead=lead))
        if not lead.form.is_complete:
            reply = self._speaker(pack, conversation).prompt(step, form.partial)
            return Decision(conversation=conversation, replies=(reply,))
        flow = conversation.step.partition(".")[0]
        return self._accept(pack, conversation, turn, step, {}, resolve(flow, form.next), form.next_text)

    def _accept(
        self,
        pack: Pack,
        conversation: Conversation,
        turn: Turn,
        step: Step,
        stored: dict[str, str],
        next_ref: str,
        next_text: str | None,
    ) -> Decision:
        """A valid answer: stored, the step's actions done, the next step entered."""
        conversation = handoff.count_valid(_with(conversation, stored))
        try:
            conversation, events = effects.run(step.on_complete, conversation, turn, self.catalogue)
        except ActionRefused as refused:
            return self._refused(pack, conversation, turn, refused)
        return self._enter(pack, conversation, turn, next_ref, next_text, events)

    def _invalid(self, pack: Pack, conversation: Conversation, step: Step, turn: Turn, why: Rejected) -> Decision:
        """An answer the step cannot use: asked again politely, or, the third time, a person."""
        conversation, escalated = handoff.count_invalid(conversation)
        speaker = self._speaker(pack, conversation)
        if escalated:
            event = HandoffRequested(
                contact_key=conversation.contact_key,
                contact_label=turn.contact_label,
                reason=pack.escalation.reason,
                last_text=turn.text,
                at=turn.now,
            )
            reply = TextReply(text=speaker.say(pack.escalation.text))
            return Decision(conversation=conversation, replies=(reply,), events=(event,))
        if step.retry is not None:
            return Decision(conversation=conversation, replies=(speaker.prompt(step, step.retry),))
        reply = speaker.prompt(step, prefix=explanation(pack, conversation.language, why))
        return Decision(conversation=conversation, replies=(reply,))

    # --- replies ---------------------------------------------------------------------------

    def _speaker(self, pack: Pack, conversation: Conversation) -> Speaker:
        return Speaker(pack, conversation, self.catalogue)

    def _say(self, pack: Pack, conversation: Conversation, key: str) -> Decision:
        return Decision(conversation=conversation, replies=(TextReply(text=self._speaker(pack, conversation).say(key)),))


def _here(pack: Pack, conversation: Conversation) -> Step | None:
    """The step the conversation is at, or None before the first answer or when it is gone."""
    return None if conversation.step == FIRST else pack.step(conversation.step)


def _with(conversation: Conversation, data: dict[str, str]) -> Conversation:
    """The conversation with these entries added to its data."""
    return replace(conversation, data=conversation.data | data) if data else conversation


def _uses_leads(pack: Pack) -> bool:
    """True when the pack drives a lead: a lead state, the lead form, or CreateLead."""
    return any(
        step.lead_state is not None
        or isinstance(step.accepts, FormAnswer)
        or any(isinstance(action, CreateLead) for action in step.on_complete)
        for flow in pack.flows.values()
        for step in flow.steps.values()
    )


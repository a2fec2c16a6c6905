"""Walking a pack's steps: entering one (its lead state, its actions, its prompt) and reading
the contact's answer to it (stored, acted on, the next step entered; or asked again).

``FlowBot`` (``engine.py``) decides which of these a turn needs; ``Steps`` does them, with the
catalogue and the reference data the bot was given. The engine's own entries in
``conversation.data`` (keys starting with ``_``) are named here:

- ``_pack``, ``_detect``, ``_menu_due``, ``_asked``: see ``engine.py``;
- ``_return``: the step to come back to once the current one is answered (an "edit" choice);
- ``_lookup``: what the contact typed, while the application looks it up (``LookupRequested``).
"""

from __future__ import annotations

from collections.abc import Mapping

from msgspec.structs import replace

from domain import leads
from domain.conversations import Conversation, Decision, Turn
from domain.errors import DomainError
from domain.events import HandoffRequested
from domain.flows import effects, handoff
from domain.flows.answers import Answer, found, read
from domain.flows.catalogue import Catalogue
from domain.flows.definition import FormAnswer, LookupAnswer, Pack, Step, resolve
from domain.flows.detection import detect_language
from domain.flows.effects import ActionRefused, AnyEvent
from domain.flows.events import LookupRequested
from domain.flows.prompts import Speaker, options
from domain.flows.reference import Reference, Value, candidate_keys
from domain.flows.texts import explanation
from domain.flows.triggers import triggered
from domain.lead_form import FIELDS, parse_lead_form
from domain.leads import Lead
from domain.messages import TextReply
from domain.validation import Rejected, sanitise

PACK, DETECT, MENU_DUE, ASKED = "_pack", "_detect", "_menu_due", "_asked"
RETURN, LOOKUP = "_return", "_lookup"


class Steps:
    """Enters steps and reads answers for one bot: its newest pack, catalogue and reference."""

    def __init__(self, newest: Pack, catalogue: Catalogue, reference: Reference) -> None:
        self.newest = newest
        self.catalogue = catalogue
        self.reference = reference

    # --- entering steps --------------------------------------------------------------------

    def afresh(self, conversation: Conversation, turn: Turn, flow: str | None = None) -> Decision:
        """Begin a flow on the newest pack: the one named (a trigger's), else the menu."""
        pack = self.newest
        if DETECT in conversation.data:
            detected = detect_language(turn.text)
            if detected in pack.languages:
                conversation = replace(conversation, language=detected)
        name = flow if flow in pack.flows else pack.menu
        fresh = replace(conversation, data={PACK: str(pack.version)})
        return self.enter(pack, handoff.count_valid(fresh), turn, f"{name}.{pack.flows[name].start}")

    def enter(
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
                conversation, done = effects.run(step.on_complete, conversation, turn, self.catalogue, pack)
            except ActionRefused as refused:
                return self._refused(pack, conversation, turn, refused)
            events += done
        reply = self.speaker(pack, conversation).prompt(step, text_key, prefix)
        return Decision(conversation=conversation, replies=(reply,), events=events)  # type: ignore[arg-type]

    def _refused(self, pack: Pack, conversation: Conversation, turn: Turn, refused: ActionRefused) -> Decision:
        """An action could not be done: say why and begin its flow again."""
        flow = conversation.step.partition(".")[0]
        why = explanation(pack, conversation.language, refused.rejection)
        return self.enter(pack, conversation, turn, f"{flow}.{pack.flows[flow].start}", prefix=why)

    # --- answers ---------------------------------------------------------------------------

    def answer(self, pack: Pack, conversation: Conversation, step: Step, turn: Turn) -> Decision:
        """Read the message as the step's answer; a choice it misses may be another flow's trigger."""
        accepts = step.accepts
        if isinstance(accepts, FormAnswer):
            return self._on_form(pack, conversation, step, accepts, turn)
        if isinstance(accepts, LookupAnswer) and accepts.source == "application":
            return self._request(pack, conversation, step, accepts, turn)
        assert accepts is not None
        offered = options(pack, step, conversation.language, self.catalogue)
        answer = read(accepts, offered, turn, conversation.data, self.catalogue, self.reference)
        if isinstance(answer, Rejected):
            other = triggered(pack, turn.text) if answer.code == "choice.invalid" else None
            if other is not None:
                return self.afresh(conversation, turn, other)
            return self.invalid(pack, conversation, step, turn, answer)
        return self._accept(pack, conversation, turn, step, answer)

    def _request(
        self, pack: Pack, conversation: Conversation, step: Step, accepts: LookupAnswer, turn: Turn
    ) -> Decision:
        """Ask the application for a record of its own table; nothing is said until it answers."""
        query = sanitise(turn.text)
        keys = candidate_keys(query)
        if not keys:
            return self.invalid(pack, conversation, step, turn, Rejected(code="text.empty"))
        event = LookupRequested(
            contact_key=conversation.contact_key,
            contact_label=turn.contact_label,
            table=accepts.table,
            query=query,
            keys=keys,
            at=turn.now,
        )
        waiting = replace(conversation, data=conversation.data | {LOOKUP: query})
        return Decision(conversation=waiting, events=(event,))  # type: ignore[arg-type]

    def looked_up(
        self, pack: Pack, conversation: Conversation, turn: Turn, record: Mapping[str, Value] | None
    ) -> Decision:
        """The application's answer to LookupRequested: the record shown, or "not found"."""
        step = pack.step(conversation.step)
        query = conversation.data.get(LOOKUP)
        if query is None or step is None or not isinstance(step.accepts, LookupAnswer):
            return Decision(conversation=conversation)
        conversation = replace(conversation, data=handoff.without(conversation.data, LOOKUP))
        answer = found(step.accepts, record, query)
        if isinstance(answer, Rejected):
            return self.invalid(pack, conversation, step, turn, answer)
        return self._accept(pack, conversation, turn, step, answer)

    def _on_form(self, pack: Pack, conversation: Conversation, step: Step, form: FormAnswer, turn: Turn) -> Decision:
        """The lead form: merged into the lead, the missing fields named, completed at last."""
        answer = parse_lead_form(turn.text)
        if not any(getattr(answer, field) for field in FIELDS):
            return self.invalid(pack, conversation, step, turn, Rejected(code="form.empty"))
        lead = leads.with_form(conversation.lead or Lead(), answer)
        conversation = handoff.count_valid(replace(conversation, lead=lead))
        if not lead.form.is_complete:
            reply = self.speaker(pack, conversation).prompt(step, form.partial)
            return Decision(conversation=conversation, replies=(reply,))
        return self._accept(pack, conversation, turn, step, Answer(stored={}, next=form.next, next_text=form.next_text))

    def _accept(self, pack: Pack, conversation: Conversation, turn: Turn, step: Step, answer: Answer) -> Decision:
        """A valid answer: stored, the step's actions done, the next step entered (or the one an
        "edit" choice asked to come back to)."""
        flow = conversation.step.partition(".")[0]
        data = conversation.data
        if answer.replaces:
            data = {key: value for key, value in data.items() if not key.startswith(f"{answer.replaces}.")}
        back = data.get(RETURN)
        data = handoff.without(data, RETURN) | answer.stored
        next_ref, next_text = resolve(flow, answer.next), answer.next_text
        if answer.return_to is not None:
            data[RETURN] = resolve(flow, answer.return_to)
        elif back is not None and pack.step(back) is not None:
            next_ref, next_text = back, None
        conversation = handoff.count_valid(replace(conversation, data=data))
        try:
            conversation, events = effects.run(step.on_complete, conversation, turn, self.catalogue, pack)
        except ActionRefused as refused:
            return self._refused(pack, conversation, turn, refused)
        return self.enter(pack, conversation, turn, next_ref, next_text, events)

    def invalid(self, pack: Pack, conversation: Conversation, step: Step, turn: Turn, why: Rejected) -> Decision:
        """An answer the step cannot use: asked again politely, or, the third time, a person."""
        conversation, escalated = handoff.count_invalid(conversation)
        speaker = self.speaker(pack, conversation)
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

    def speaker(self, pack: Pack, conversation: Conversation) -> Speaker:
        return Speaker(pack, conversation, self.catalogue)

    def say(self, pack: Pack, conversation: Conversation, key: str) -> Decision:
        return Decision(conversation=conversation, replies=(TextReply(text=self.speaker(pack, conversation).say(key)),))

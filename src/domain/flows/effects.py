"""What a completed step does: its actions, through the domain's own state machines.

``CreateLead`` completes the lead through ``domain.leads``, ``CreateOrder`` places the order
through ``domain.orders``; neither writes a state directly. An order the catalogue can no
longer fill is refused (``ActionRefused``) and the engine says why. A placed order's number
(``reference.order_number``) is stored as an answer, so the texts after it can give it.
"""

from __future__ import annotations

from msgspec.structs import replace

from domain import leads
from domain.conversations import Conversation, Turn
from domain.errors import DomainError
from domain.events import Event, HandoffRequested, LeadCaptured, QuestionReceived
from domain.flows import handoff
from domain.flows.catalogue import Catalogue
from domain.flows.definition import Action, CreateLead, CreateOrder, EmitEvent, Handoff, Pack
from domain.flows.events import FlowEvent, FlowEvents, OrderPlaced
from domain.flows.reference import order_number
from domain.flows.texts import render
from domain.flows.values import values
from domain.lead_form import FIELDS
from domain.leads import Lead, LeadState
from domain.orders import OrderItem, place_order
from domain.validation import Accepted, Rejected, validate_quantity


class ActionRefused(DomainError):
    """An action cannot be done with these answers; ``rejection`` says why, for the contact."""

    def __init__(self, rejection: Rejected) -> None:
        super().__init__(rejection.code)
        self.rejection = rejection


AnyEvent = Event | FlowEvents


def run(
    actions: tuple[Action, ...], conversation: Conversation, turn: Turn, catalogue: Catalogue, pack: Pack
) -> tuple[Conversation, tuple[AnyEvent, ...]]:
    """The conversation after the actions, and the events they emitted, in order."""
    events: list[AnyEvent] = []
    for action in actions:
        conversation, event = _one(action, conversation, turn, catalogue, pack)
        events.append(event)
    return conversation, tuple(events)


def _one(
    action: Action, conversation: Conversation, turn: Turn, catalogue: Catalogue, pack: Pack
) -> tuple[Conversation, AnyEvent]:
    """One action."""
    match action:
        case CreateLead():
            return _create_lead(action, conversation, turn)
        case CreateOrder():
            placed = _create_order(action, conversation, turn, catalogue)
            return replace(conversation, data=conversation.data | {action.number: placed.number}), placed
        case EmitEvent():
            return conversation, _emit(action, conversation, turn, catalogue, pack)
        case Handoff(reason=reason):
            event = HandoffRequested(
                contact_key=conversation.contact_key,
                contact_label=turn.contact_label,
                reason=reason,
                last_text=turn.text,
                at=turn.now,
            )
            return handoff.hold(conversation, reason), event
    raise TypeError(f"not an action: {action!r}")  # pragma: no cover


def _create_lead(
    action: CreateLead, conversation: Conversation, turn: Turn
) -> tuple[Conversation, LeadCaptured]:
    """The lead moved to FORM_COMPLETED (unless it is there) and LeadCaptured."""
    lead = conversation.lead or Lead()
    if lead.state is not LeadState.FORM_COMPLETED:
        lead = leads.transition(lead, LeadState.FORM_COMPLETED)
    form = lead.form
    fields = {f: getattr(form, f) or "" for f in FIELDS} if any(getattr(form, f) for f in FIELDS) else {}
    fields |= _answers(action.fields, conversation)
    event = LeadCaptured(
        contact_key=conversation.contact_key,
        contact_label=turn.contact_label,
        fields=fields,
        budget_amount=form.budget_amount,
        at=turn.now,
    )
    return replace(conversation, lead=lead), event


def _create_order(
    action: CreateOrder, conversation: Conversation, turn: Turn, catalogue: Catalogue
) -> OrderPlaced:
    """A PENDING order of the chosen product, checked again against today's stock."""
    data = conversation.data
    product = catalogue.product(data.get(action.product))
    verdict = validate_quantity(data.get(action.quantity, ""), product.stock if product else 0)
    if product is None or not isinstance(verdict, Accepted):
        raise ActionRefused(verdict if isinstance(verdict, Rejected) else Rejected(code="quantity.out_of_stock"))
    item = OrderItem(
        product_id=product.id, name=product.name, unit_price=product.price, quantity=int(verdict.value)
    )
    order = place_order(
        [item],
        name=data.get(action.name, ""),
        address=data.get(action.address, ""),
        currency=catalogue.currency,
    )
    return OrderPlaced(
        contact_key=conversation.contact_key,
        contact_label=turn.contact_label,
        order=order,
        at=turn.now,
        number=order_number(conversation.contact_key, turn.now),
    )


def _emit(action: EmitEvent, conversation: Conversation, turn: Turn, catalogue: Catalogue, pack: Pack) -> AnyEvent:
    """QuestionReceived for ``question.received``, else a FlowEvent carrying the answers."""
    fields = _answers(action.fields, conversation)
    if action.templates:
        known = values(pack, conversation, catalogue)
        fields |= {field: render(template, known) for field, template in action.templates.items()}
    if action.name == "question.received":
        return QuestionReceived(
            contact_key=conversation.contact_key,
            contact_label=turn.contact_label,
            question=fields.get("question", ""),
            at=turn.now,
        )
    return FlowEvent(
        name=action.name,
        contact_key=conversation.contact_key,
        contact_label=turn.contact_label,
        fields=fields,
        at=turn.now,
    )


def _answers(mapping: dict[str, str], conversation: Conversation) -> dict[str, str]:
    """Field → the value of the answer it names (empty when not given)."""
    return {field: conversation.data.get(answer, "") for field, answer in mapping.items()}

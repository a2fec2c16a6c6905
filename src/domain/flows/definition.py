"""A bot as data: a pack of flows, each a graph of steps, decoded with msgspec.

    Pack ── texts[language][key], values, menu, flows[name] ── Flow ── steps[name] ── Step
    Step ── prompt      text | buttons | list | media          (what the bot says on entering)
         ├─ accepts     choice | product | text | form | lookup | media | none  (how it reads the answer)
         ├─ on_complete create_lead | create_order | emit_event | handoff
         ├─ lead_state  the lead state entering the step moves the lead to (domain.leads)
         └─ retry       the text key said, with the prompt's options, after an invalid answer

Prompts name text keys, never texts. A step that accepts nothing ends its flow: its actions
run as it is shown and the contact's next message starts afresh (a trigger's flow, or the
menu). A ``next`` names a step of the same flow (``"ask_name"``) or of another
(``"order.pick"``). Every Struct forbids unknown fields, so a typo is named; ``checks.py``
finds what decoding cannot (a ``next`` to nowhere, a missing text, an unreachable step).

A pack may ``include`` others (the demo leads into the shop, the onboarding and the factory):
the loader merges their flows, texts and values into it before it is checked (``compose.py``),
so a stored or running pack is always self-contained.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from domain.errors import DomainError
from domain.leads import LeadState


class _Definition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Our own input: unknown fields are errors."""


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong with a pack: where (flow, step, field) and what, in a sentence."""

    flow: str = ""
    step: str = ""
    field: str = ""
    message: str

    def __str__(self) -> str:
        where = ".".join(part for part in (self.flow, self.step) if part)
        place = f"{where}: {self.field}" if where and self.field else where or self.field
        return f"{place}: {self.message}" if place else self.message


class InvalidPack(DomainError):
    """A pack definition that cannot be used; ``problems`` says everything found wrong."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


# --- prompts -----------------------------------------------------------------------------


class TextPrompt(_Definition, kw_only=True, tag="text"):
    """Plain text."""

    text: str


class ButtonsPrompt(_Definition, kw_only=True, tag="buttons"):
    """Text with the step's options as quick-reply buttons (three at most on WhatsApp)."""

    text: str
    footer: str | None = None


class ListPrompt(_Definition, kw_only=True, tag="list"):
    """Text with the step's options as a list (ten at most), opened by a button."""

    text: str
    button: str
    footer: str | None = None


class MediaPrompt(_Definition, kw_only=True, tag="media"):
    """An image, document, video or audio by public URL, with an optional caption."""

    kind: Literal["image", "document", "video", "audio"]
    url: str
    caption: str | None = None


Prompt = TextPrompt | ButtonsPrompt | ListPrompt | MediaPrompt


# --- answers -----------------------------------------------------------------------------


class Option(_Definition, kw_only=True):
    """One choice: a stable id (the button id), the key of its title, other words for it."""

    id: str
    title: str
    words: tuple[str, ...] = ()
    next: str
    next_text: str | None = None
    """A text key said with the next step's options instead of its own prompt text."""
    return_to: str | None = None
    """Once the step ``next`` leads to is answered, come back to this step (a confirmation's
    "change my pincode": the pincode step, then the confirmation again)."""


class Choice(_Definition, kw_only=True, tag="choice"):
    """One of the options, by button id, number, title or words (small typos forgiven)."""

    options: tuple[Option, ...]
    store_as: str | None = None


class ProductChoice(_Definition, kw_only=True, tag="product"):
    """One product of the catalogue in stock, chosen like an option; its id is stored."""

    store_as: str = "product"
    next: str
    next_text: str | None = None


Validator = Literal["any", "name", "indian_mobile", "pincode", "quantity", "number", "yes_no"]


class TextAnswer(_Definition, kw_only=True, tag="text"):
    """Free text checked by a validator; the clean value is stored under ``store_as``."""

    validator: Validator = "any"
    store_as: str | None = None
    next: str
    next_text: str | None = None
    required: bool = True
    """False: an empty message is an answer too (``any`` only)."""
    stock_from: str | None = None
    """For ``quantity``: the answer holding the chosen product, whose stock is the limit."""


class FormAnswer(_Definition, kw_only=True, tag="form"):
    """The free-text lead form (``Budget: 100 juta``), merged into the lead until complete."""

    next: str
    partial: str
    """The text key said while fields are missing (``{form_summary}``, ``{form_missing}``)."""
    next_text: str | None = None


class Countdown(_Definition, kw_only=True):
    """A record's deadline (ISO 8601) said as the time left or overdue, ``{<store_as>.remaining}``."""

    field: str
    left: str
    """The text key said before the deadline (``{hours}``, ``{minutes}``)."""
    overdue: str
    """The text key said after it."""
    none: str | None = None
    """The text key said when the record has no deadline (a resolved ticket)."""


class LookupAnswer(_Definition, kw_only=True, tag="lookup"):
    """An id (or name) the contact types, found in a table: the record's fields are stored as
    ``<store_as>.<field>`` (its id as ``<store_as>``); a miss re-asks with ``not_found``.

    ``reference`` tables are the operator's data handed to FlowBot. An ``application`` table is
    the application's own (its orders): the engine emits LookupRequested and waits, and the
    application answers with ``FlowBot.looked_up``.
    """

    table: str
    source: Literal["reference", "application"] = "reference"
    store_as: str
    next: str
    next_text: str | None = None
    """The text key said at the next step, showing the record (``{order.status}``)."""
    not_found: str
    """The text key said, with the prompt, when nothing matches (``{query}``: what was typed)."""
    labels: dict[str, dict[str, str]] = {}
    """Field → its value → the text key it is said as (``status``: ``IN_PRODUCTION`` → a text)."""
    countdown: Countdown | None = None


class MediaAnswer(_Definition, kw_only=True, tag="media"):
    """A photo or document sent by the contact; with ``skip``, a skip word or button is an answer
    too. ``store_as`` holds ``attached`` or, skipped, an empty string."""

    store_as: str
    next: str
    next_text: str | None = None
    skip: str | None = None
    """The text key of the skip option's title; None: the media is required."""


Accepts = Choice | ProductChoice | TextAnswer | FormAnswer | LookupAnswer | MediaAnswer


# --- actions -----------------------------------------------------------------------------


class CreateLead(_Definition, kw_only=True, tag="create_lead"):
    """Complete the lead (domain.leads) and emit LeadCaptured with its form and these answers."""

    fields: dict[str, str] = {}
    """Lead field → the answer (``store_as``) it comes from."""


class CreateOrder(_Definition, kw_only=True, tag="create_order"):
    """Place a PENDING order (domain.orders) of one catalogue product and emit OrderPlaced."""

    product: str = "product"
    quantity: str = "quantity"
    name: str = "name"
    address: str = "address"
    number: str = "order_number"
    """The answer the order's number is stored as, for the texts that follow (``{order_number}``)."""


class EmitEvent(_Definition, kw_only=True, tag="emit_event"):
    """Emit a domain event: ``question.received`` is QuestionReceived, any other a FlowEvent."""

    name: str
    fields: dict[str, str] = {}
    """Event field → the answer (``store_as``, or a record's ``<store_as>.<field>``) it comes from."""
    templates: dict[str, str] = {}
    """Event field → a template filled like a text (``{login_url}``, ``{sector.title}``)."""


class Handoff(_Definition, kw_only=True, tag="handoff"):
    """Hand the conversation to a person (HandoffRequested); the bot is silent until release."""

    reason: str = "requested"


Action = CreateLead | CreateOrder | EmitEvent | Handoff


# --- the graph ---------------------------------------------------------------------------


class Step(_Definition, kw_only=True):
    """What the bot says, what it accepts, what happens when it is answered."""

    prompt: Prompt
    accepts: Accepts | None = None
    on_complete: tuple[Action, ...] = ()
    lead_state: LeadState | None = None
    retry: str | None = None


class Flow(_Definition, kw_only=True):
    """A conversation for one purpose: the words that open it and its steps."""

    triggers: tuple[str, ...] = ()
    start: str
    steps: dict[str, Step]


class Escalation(_Definition, kw_only=True):
    """What the bot says when it hands a conversation to a person after invalid answers."""

    text: str = "escalation"
    reason: str = "invalid_answers"


class Pack(_Definition, kw_only=True):
    """A bot: its flows, its texts in every language it speaks, and a version."""

    name: str
    version: int
    default_language: str = "en"
    languages: tuple[str, ...]
    values: dict[str, str] = {}
    """Constants the texts may use (``{business}``)."""
    texts: dict[str, dict[str, str]]
    menu: str
    """The flow a first message (matching no trigger) and the ``menu`` word open."""
    help: str = "help"
    opted_out: str = "opted_out"
    escalation: Escalation = Escalation()
    flows: dict[str, Flow]
    includes: tuple[str, ...] = ()
    """Packs whose flows, texts and values are merged into this one when it is loaded."""
    catalogue: str | None = None
    """The built-in catalogue the pack is meant to run with (``shop_catalogue``)."""
    reference: str | None = None
    """The built-in reference data the pack is meant to run with (``factory_reference``)."""

    def step(self, ref: str) -> Step | None:
        """The step a full reference (``"flow.step"``) names, or None."""
        flow_name, _, step_name = ref.partition(".")
        flow = self.flows.get(flow_name)
        return flow.steps.get(step_name) if flow else None

    def step_refs(self) -> frozenset[str]:
        """Every step's full reference."""
        return frozenset(f"{f}.{s}" for f, flow in self.flows.items() for s in flow.steps)


def resolve(flow: str, target: str) -> str:
    """The full reference of a ``next``: ``"pick"`` in flow ``order`` is ``"order.pick"``."""
    return target if "." in target else f"{flow}.{target}"

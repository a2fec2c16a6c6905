"""What decoding cannot see in a pack: every Problem names its flow, step and field.

A ``next`` to nowhere, a text key the default language lacks, a malformed ``{placeholder}``,
duplicate option ids, a word naming two options, a choice with no options, too many buttons,
a step nothing leads to, an answer an action reads that no step stores, a lead moved where
``domain.leads`` does not allow, an ``include`` left unresolved. ``missing_tables`` names the
reference tables a pack looks things up in that the data given lacks.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.flows.definition import (
    ButtonsPrompt,
    Choice,
    CreateLead,
    CreateOrder,
    EmitEvent,
    FormAnswer,
    ListPrompt,
    LookupAnswer,
    MediaAnswer,
    MediaPrompt,
    Pack,
    Problem,
    ProductChoice,
    Step,
    TextAnswer,
    resolve,
)
from domain.flows.parts import nexts, returns, text_keys
from domain.flows.reference import Reference
from domain.flows.texts import placeholders
from domain.flows.words import LANGUAGES, words
from domain.leads import LeadState, auto_reply_allowed, can_transition

MAX_BUTTONS, MAX_LIST_ROWS = 3, 10


def validate_pack(pack: Pack) -> list[Problem]:
    """Everything wrong with a pack that decoded; empty when the engine can run it."""
    problems = list(_pack_problems(pack)) + list(_text_problems(pack))
    stored = _stored_answers(pack)
    for flow_name, flow in pack.flows.items():
        problems += _flow_problems(pack, flow_name)
        for step_name, step in flow.steps.items():
            found = _step_problems(pack, flow_name, step, stored)
            problems += [Problem(flow=flow_name, step=step_name, field=f, message=m) for f, m in found]
    return problems + _unreachable(pack)


def _pack_problems(pack: Pack) -> Iterator[Problem]:
    if pack.version < 1:
        yield Problem(field="version", message="must be 1 or more")
    if pack.includes:
        yield Problem(field="includes", message=f"{', '.join(pack.includes)} not merged: a pack file's loader does that")
    for language in pack.languages:
        if language not in LANGUAGES:
            yield Problem(field="languages", message=f"{language!r} is not one of {', '.join(LANGUAGES)}")
    if pack.default_language not in pack.languages:
        yield Problem(field="default_language", message=f"{pack.default_language!r} is not in languages")
    if pack.menu not in pack.flows:
        yield Problem(field="menu", message=f"no flow is named {pack.menu!r}")
    for field, key in (("help", pack.help), ("opted_out", pack.opted_out), ("escalation.text", pack.escalation.text)):
        if not _has_text(pack, key):
            yield Problem(field=field, message=_no_text(pack, key))
    triggers: dict[str, str] = {}
    for name, flow in pack.flows.items():
        for trigger in flow.triggers:
            said = " ".join(words(trigger))
            if triggers.setdefault(said, name) != name:
                yield Problem(flow=name, field="triggers", message=f"{trigger!r} also opens {triggers[said]!r}")


def _text_problems(pack: Pack) -> Iterator[Problem]:
    for language, texts in pack.texts.items():
        if language not in pack.languages:
            yield Problem(field=f"texts.{language}", message="is not one of the pack's languages")
        for key, template in texts.items():
            try:
                list(placeholders(template))
            except ValueError as exc:
                yield Problem(field=f"texts.{language}.{key}", message=f"malformed placeholder: {exc}")


def _flow_problems(pack: Pack, name: str) -> list[Problem]:
    flow = pack.flows[name]
    problems = []
    if not name or "." in name:
        problems.append(Problem(flow=name, message="a flow's name is not empty and has no '.'"))
    for step_name in flow.steps:
        if not step_name or "." in step_name:
            problems.append(Problem(flow=name, step=step_name, message="a step's name is not empty and has no '.'"))
    if flow.start not in flow.steps:
        problems.append(Problem(flow=name, field="start", message=f"no step is named {flow.start!r}"))
    return problems


def _step_problems(pack: Pack, flow: str, step: Step, stored: set[str]) -> Iterator[tuple[str, str]]:
    for field, key in text_keys(step):
        if not _has_text(pack, key):
            yield field, _no_text(pack, key)
    for field, target in (*nexts(step), *returns(step)):
        if pack.step(resolve(flow, target)) is None:
            yield field, f"no step {target!r}"
    yield from _choice_problems(step)
    yield from _prompt_problems(step)
    yield from _answer_problems(step, stored)
    yield from _action_problems(step, stored)
    yield from _lead_problems(pack, flow, step)


def _choice_problems(step: Step) -> Iterator[tuple[str, str]]:
    if not isinstance(step.accepts, Choice):
        return
    options = step.accepts.options
    if not options:
        yield "accepts.options", "a choice needs at least one option"
    seen: dict[str, int] = {}
    owner: dict[str, str] = {}
    for i, option in enumerate(options):
        if seen.setdefault(option.id, i) != i:
            yield f"accepts.options[{i}].id", f"{option.id!r} is also option {seen[option.id] + 1}"
        for word in (w for spelled in option.words for w in words(spelled)):
            if owner.setdefault(word, option.id) != option.id:
                yield f"accepts.options[{i}].words", f"{word!r} also names {owner[word]!r}"


def _prompt_problems(step: Step) -> Iterator[tuple[str, str]]:
    prompt, accepts = step.prompt, step.accepts
    skippable = isinstance(accepts, MediaAnswer) and accepts.skip is not None
    if isinstance(prompt, ButtonsPrompt | ListPrompt) and not (isinstance(accepts, Choice | ProductChoice) or skippable):
        yield "prompt", f"{prompt.__struct_config__.tag} need a choice, product or skippable media answer to offer"
    count = len(accepts.options) if isinstance(accepts, Choice) else 0
    if isinstance(prompt, ButtonsPrompt) and count > MAX_BUTTONS:
        yield "prompt", f"{count} options: buttons carry {MAX_BUTTONS} at most; use a list"
    if isinstance(prompt, ListPrompt) and count > MAX_LIST_ROWS:
        yield "prompt", f"{count} options: a list carries {MAX_LIST_ROWS} at most"
    if isinstance(prompt, MediaPrompt) and not prompt.url.startswith(("https://", "http://")):
        yield "prompt.url", "must be an http(s) URL"


def _answer_problems(step: Step, stored: set[str]) -> Iterator[tuple[str, str]]:
    accepts = step.accepts
    store_as = getattr(accepts, "store_as", None)
    if store_as is not None and (not store_as or store_as.startswith("_") or "." in store_as):
        yield "accepts.store_as", "must not be empty, start with '_' (the engine's own keys) or hold a '.'"
    if isinstance(accepts, LookupAnswer) and not accepts.table:
        yield "accepts.table", "a lookup names its table"
    if not isinstance(accepts, TextAnswer):
        return
    if accepts.stock_from is not None and accepts.validator != "quantity":
        yield "accepts.stock_from", "only a quantity has a stock"
    if accepts.stock_from is not None and accepts.stock_from not in stored:
        yield "accepts.stock_from", f"no step stores an answer {accepts.stock_from!r}"
    if not accepts.required and accepts.validator != "any":
        yield "accepts.required", f"only 'any' may be empty, not {accepts.validator!r}"


def _action_problems(step: Step, stored: set[str]) -> Iterator[tuple[str, str]]:
    for i, action in enumerate(step.on_complete):
        if isinstance(action, CreateLead | EmitEvent):
            for field, answer in action.fields.items():
                if not _is_stored(answer, stored):
                    yield f"on_complete[{i}].fields.{field}", f"no step stores an answer {answer!r}"
        if isinstance(action, CreateOrder):
            for field in ("product", "quantity"):
                if getattr(action, field) not in stored:
                    yield f"on_complete[{i}].{field}", f"no step stores an answer {getattr(action, field)!r}"
        if isinstance(action, CreateLead) and step.lead_state is None and not isinstance(step.accepts, FormAnswer):
            yield f"on_complete[{i}]", "a lead is completed from a step with a lead_state or the lead form"


def _lead_problems(pack: Pack, flow: str, step: Step) -> Iterator[tuple[str, str]]:
    if isinstance(step.accepts, FormAnswer) and step.lead_state is not LeadState.FORM_SENT:
        yield "lead_state", "the lead form's step moves the lead to FORM_SENT"
    after = LeadState.FORM_COMPLETED if isinstance(step.accepts, FormAnswer) else step.lead_state
    if after is None:
        return
    for field, target in nexts(step):
        following = pack.step(resolve(flow, target))
        wanted = following.lead_state if following else None
        if wanted is not None and wanted is not after and not can_transition(after, wanted):
            yield field, f"a lead cannot move from {after.value} to {wanted.value}"


def _unreachable(pack: Pack) -> list[Problem]:
    """Problems for flows nothing opens and steps nothing leads to."""
    entries = {pack.menu} | {name for name, flow in pack.flows.items() if flow.triggers}
    seen: set[str] = set()
    todo = [f"{name}.{pack.flows[name].start}" for name in entries if name in pack.flows]
    while todo:
        ref = todo.pop()
        step = pack.step(ref)
        if ref in seen or step is None:
            continue
        seen.add(ref)
        todo += [resolve(ref.partition(".")[0], target) for _, target in nexts(step)]
    problems = [_entry_problem(pack, name) for name in sorted(entries) if name in pack.flows]
    problems = [problem for problem in problems if problem is not None]
    for ref in sorted(pack.step_refs() - seen):
        flow, _, step = ref.partition(".")
        problems.append(Problem(flow=flow, step=step, message="unreachable: no trigger, menu or next leads here"))
    return problems


def _entry_problem(pack: Pack, name: str) -> Problem | None:
    """The lead state a flow's first step asks must be reachable from wherever the menu is used."""
    flow = pack.flows[name]
    first = flow.steps.get(flow.start)
    wanted = first.lead_state if first else None
    if wanted is None:
        return None
    stuck = [s.value for s in LeadState if auto_reply_allowed(s) and s is not wanted and not can_transition(s, wanted)]
    if not stuck:
        return None
    return Problem(flow=name, step=flow.start, field="lead_state",
                   message=f"opened from anywhere, but a lead cannot move from {', '.join(stuck)} to {wanted.value}")


def _stored_answers(pack: Pack) -> set[str]:
    """Every answer name some step stores (a record's fields as ``<store_as>.<field>`` too),
    and the numbers CreateOrder stores."""
    stored: set[str] = set()
    for flow in pack.flows.values():
        for step in flow.steps.values():
            if store_as := getattr(step.accepts, "store_as", None):
                stored.add(store_as)
            stored |= {action.number for action in step.on_complete if isinstance(action, CreateOrder)}
    return stored


def _is_stored(answer: str, stored: set[str]) -> bool:
    """True when some step stores the answer, or it is a field of a record a lookup stores."""
    return answer in stored or ("." in answer and answer.partition(".")[0] in stored)


def missing_tables(pack: Pack, reference: Reference) -> list[Problem]:
    """The reference tables the pack's lookups read that ``reference`` does not have."""
    return [
        Problem(flow=flow_name, step=step_name, field="accepts.table", message=f"no reference table {accepts.table!r}")
        for flow_name, flow in pack.flows.items()
        for step_name, step in flow.steps.items()
        if isinstance(accepts := step.accepts, LookupAnswer)
        and accepts.source == "reference"
        and accepts.table not in reference.tables
    ]


def _has_text(pack: Pack, key: str) -> bool:
    return bool(pack.texts.get(pack.default_language, {}).get(key))


def _no_text(pack: Pack, key: str) -> str:
    return f"no text {key!r} in the default language ({pack.default_language})"

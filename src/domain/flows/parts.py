"""The parts of a step that checks read: the text keys it names and the steps it leads to."""

from __future__ import annotations

from collections.abc import Iterator

from domain.flows.definition import (
    ButtonsPrompt,
    Choice,
    FormAnswer,
    ListPrompt,
    LookupAnswer,
    MediaAnswer,
    MediaPrompt,
    Step,
)


def text_keys(step: Step) -> Iterator[tuple[str, str]]:
    """Every text key a step names, with its field."""
    prompt = step.prompt
    if isinstance(prompt, MediaPrompt):
        if prompt.caption:
            yield "prompt.caption", prompt.caption
    else:
        yield "prompt.text", prompt.text
    if isinstance(prompt, ButtonsPrompt | ListPrompt) and prompt.footer:
        yield "prompt.footer", prompt.footer
    if isinstance(prompt, ListPrompt):
        yield "prompt.button", prompt.button
    if step.retry:
        yield "retry", step.retry
    accepts = step.accepts
    if isinstance(accepts, Choice):
        for i, option in enumerate(accepts.options):
            yield f"accepts.options[{i}].title", option.title
            if option.next_text:
                yield f"accepts.options[{i}].next_text", option.next_text
    elif accepts is not None and accepts.next_text:
        yield "accepts.next_text", accepts.next_text
    if isinstance(accepts, FormAnswer):
        yield "accepts.partial", accepts.partial
    if isinstance(accepts, LookupAnswer):
        yield from _lookup_keys(accepts)
    if isinstance(accepts, MediaAnswer) and accepts.skip:
        yield "accepts.skip", accepts.skip


def _lookup_keys(accepts: LookupAnswer) -> Iterator[tuple[str, str]]:
    yield "accepts.not_found", accepts.not_found
    for field, labels in accepts.labels.items():
        for value, key in labels.items():
            yield f"accepts.labels.{field}.{value}", key
    countdown = accepts.countdown
    if countdown is not None:
        yield "accepts.countdown.left", countdown.left
        yield "accepts.countdown.overdue", countdown.overdue
        if countdown.none:
            yield "accepts.countdown.none", countdown.none


def nexts(step: Step) -> Iterator[tuple[str, str]]:
    """Every ``next`` of a step, with its field."""
    accepts = step.accepts
    if isinstance(accepts, Choice):
        for i, option in enumerate(accepts.options):
            yield f"accepts.options[{i}].next", option.next
    elif accepts is not None:
        yield "accepts.next", accepts.next


def returns(step: Step) -> Iterator[tuple[str, str]]:
    """Every ``return_to`` of a step's options, with its field."""
    if isinstance(step.accepts, Choice):
        for i, option in enumerate(step.accepts.options):
            if option.return_to:
                yield f"accepts.options[{i}].return_to", option.return_to

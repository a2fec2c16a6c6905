"""What a step says: its prompt turned into one Reply, in the contact's language.

The options of a buttons or list prompt are the step's choices (or the catalogue's products in
stock, or a media answer's skip), numbered in the same order the answer is read in; a text may
also list them itself with ``{options}`` (one numbered line each: twelve sectors in a text).
"""

from __future__ import annotations

import msgspec

from domain.conversations import Conversation
from domain.flows.catalogue import Catalogue, money
from domain.flows.definition import (
    ButtonsPrompt,
    Choice,
    ListPrompt,
    MediaAnswer,
    MediaPrompt,
    Pack,
    ProductChoice,
    Step,
    TextPrompt,
)
from domain.flows.texts import directed, lookup, render
from domain.flows.values import values
from domain.flows.words import SKIP_WORDS
from domain.messages import Button, ButtonsReply, ListReply, MediaReply, Reply, TextReply


SKIP = "skip"


class OptionView(msgspec.Struct, frozen=True, kw_only=True):
    """One option as offered and as recognised: its id, titles in every language, its words."""

    id: str
    title: str
    titles: tuple[str, ...]
    words: tuple[str, ...] = ()
    description: str | None = None


def options(pack: Pack, step: Step, language: str, catalogue: Catalogue) -> tuple[OptionView, ...]:
    """The options a step offers, in order (empty for a step that asks no choice)."""
    match step.accepts:
        case Choice(options=choices):
            return tuple(
                OptionView(
                    id=option.id,
                    title=lookup(pack, language, option.title),
                    titles=tuple(lookup(pack, other, option.title) for other in pack.languages),
                    words=option.words,
                )
                for option in choices
            )
        case ProductChoice():
            return tuple(
                OptionView(
                    id=product.id,
                    title=product.name,
                    titles=(product.name,),
                    words=product.words,
                    description=money(product.price, catalogue.currency),
                )
                for product in catalogue.in_stock
            )
        case MediaAnswer(skip=str(skip)):
            titles = tuple(lookup(pack, other, skip) for other in pack.languages)
            return (OptionView(id=SKIP, title=lookup(pack, language, skip), titles=titles, words=SKIP_WORDS),)
    return ()


class Speaker:
    """Says a pack's texts to one conversation: its language, its answers, the catalogue."""

    def __init__(self, pack: Pack, conversation: Conversation, catalogue: Catalogue) -> None:
        self.pack = pack
        self.language = conversation.language
        self.catalogue = catalogue
        self._values = values(pack, conversation, catalogue)

    def say(self, key: str) -> str:
        """The text of ``key``, filled in, written in its language's direction."""
        return directed(self._filled(key), self.language)

    def prompt(self, step: Step, text_key: str | None = None, prefix: str | None = None) -> Reply:
        """The step's prompt; ``text_key`` replaces its text, ``prefix`` goes before it."""
        prompt = step.prompt
        offered = options(self.pack, step, self.language, self.catalogue)
        key = text_key or (prompt.caption if isinstance(prompt, MediaPrompt) else prompt.text)
        listed = "\n".join(f"{i}. {option.title}" for i, option in enumerate(offered, 1))
        text = self._filled(key, {"options": listed}) if key else ""
        if prefix:
            text = f"{prefix}\n\n{text}" if text else prefix
        return self._reply(step, directed(text, self.language), offered)

    def _filled(self, key: str, extra: dict[str, str] | None = None) -> str:
        """The text of ``key`` with its placeholders filled in."""
        return render(lookup(self.pack, self.language, key), self._values | extra if extra else self._values)

    def _reply(self, step: Step, text: str, offered: tuple[OptionView, ...]) -> Reply:
        """The reply of the prompt's kind carrying ``text``."""
        prompt = step.prompt
        buttons = tuple(Button(id=o.id, title=o.title, description=o.description) for o in offered)
        match prompt:
            case ButtonsPrompt(footer=footer) if buttons:
                return ButtonsReply(text=text, buttons=buttons, footer=self._maybe(footer))
            case ListPrompt(button=label, footer=footer) if buttons:
                return ListReply(
                    text=text, button_label=self._filled(label), options=buttons, footer=self._maybe(footer)
                )
            case MediaPrompt(kind=kind, url=url):
                return MediaReply(kind=kind, url=url, caption=text or None)
            case TextPrompt() | ButtonsPrompt() | ListPrompt():
                return TextReply(text=text)
        raise TypeError(f"not a prompt: {prompt!r}")  # pragma: no cover

    def _maybe(self, key: str | None) -> str | None:
        """The text of an optional key."""
        return self.say(key) if key else None

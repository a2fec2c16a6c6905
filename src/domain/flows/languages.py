"""The language picker: shown for a bare ``language`` word, answered by id, number or name."""

from __future__ import annotations

from domain.conversations import Turn
from domain.flows.answers import pick
from domain.flows.definition import Pack
from domain.flows.prompts import OptionView
from domain.flows.words import CHOOSE_LANGUAGE, LANGUAGES, LANGUAGE_WORDS
from domain.messages import Button, ButtonsReply, ListReply, Reply

PREFIX = "language:"
_MAX_BUTTONS = 3


def language_options(pack: Pack) -> tuple[OptionView, ...]:
    """One option per language of the pack, titled in that language (``language:es``)."""
    return tuple(
        OptionView(
            id=PREFIX + code,
            title=LANGUAGES.get(code, code),
            titles=(LANGUAGES.get(code, code),),
            words=tuple(word for word, named in LANGUAGE_WORDS.items() if named == code),
        )
        for code in pack.languages
    )


def language_picker(pack: Pack, language: str) -> Reply:
    """The pack's languages as buttons (three or fewer) or a list."""
    text, label = CHOOSE_LANGUAGE.get(language, CHOOSE_LANGUAGE["en"])
    buttons = tuple(Button(id=o.id, title=o.title) for o in language_options(pack))
    if len(buttons) <= _MAX_BUTTONS:
        return ButtonsReply(text=text, buttons=buttons)
    return ListReply(text=text, button_label=label, options=buttons)


def language_picked(pack: Pack, turn: Turn) -> str | None:
    """The language code a message picks from the picker, or None."""
    picked = pick(language_options(pack), turn.text, turn.choice_id)
    return picked.removeprefix(PREFIX) if picked else None

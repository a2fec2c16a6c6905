"""Properties of every shipped pack: no sequence of messages crashes it, any turn gets at most
one reply, and the conversation is always on a step its pack has.

Messages are drawn from arbitrary text and from each pack's own words: its option ids (as
button presses), titles in every language, option words, numbers, the global words and
triggers. Most turns of the guided walk answer the step the conversation is at (an option,
a valid name, pincode, phone or quantity, a reference id, a photo or a skip), so the deep
steps are reached, not only the menu; a conversation handed to a person is sometimes released.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pack_chat import Chat, bot_for

from adapters.packs.files import builtin_pack_names
from domain.flows import FlowBot
from domain.flows.definition import Choice, FormAnswer, LookupAnswer, MediaAnswer, ProductChoice, TextAnswer
from domain.flows.texts import lookup
from domain.flows.words import WORDS

BOTS = {name: bot_for(name) for name in builtin_pack_names()}
Message = tuple[str, str | None, bool]
NOISE = ["", " ", "R", "012345", "12345", "0", "41", "999", "hmm", "%s", "{name}", "١٢", "hola", "नमस्ते", "مرحبا",
         "language", "english", "bahasa indonesia", "español", "ZZ9ZZ9", "ORD-9999"]
VALID = {"name": "Ravi Kumar", "pincode": "400 001", "indian_mobile": "98765 43210", "quantity": "2", "number": "3",
         "yes_no": "yes", "any": "Jl. Mawar 12"}
FORM = "Sumber: IG\nBisnis: Kopi\nBudget: 10 juta\nRencana: 3 bulan lagi"


def vocabulary(bot: FlowBot) -> list[str]:
    """Every word the pack itself knows: global words, triggers, option titles and words, products."""
    pack = bot.current
    texts = set(NOISE) | set(WORDS) | {str(n) for n in range(1, 13)}
    for flow in pack.flows.values():
        texts |= set(flow.triggers)
        for step in flow.steps.values():
            if isinstance(step.accepts, Choice):
                for option in step.accepts.options:
                    texts |= set(option.words) | {lookup(pack, language, option.title) for language in pack.languages}
    for product in bot.catalogue.products:
        texts |= {product.name, *product.words}
    return sorted(texts)


def answers(chat: Chat) -> list[Message]:
    """Messages the step the conversation is at accepts (or, before and after a flow, a greeting)."""
    step = chat.pack.step(chat.step)
    accepts = step.accepts if step is not None else None
    match accepts:
        case Choice(options=options):
            return [("", option.id, False) for option in options] + [(str(len(options)), None, False)]
        case ProductChoice():
            return [("", product.id, False) for product in chat.bot.catalogue.in_stock] + [("1", None, False)]
        case TextAnswer(validator=validator):
            return [(VALID[validator], None, False)]
        case FormAnswer():
            return [(FORM, None, False), ("Sumber: IG", None, False)]
        case LookupAnswer(table=table, source="application"):
            return [(number, None, False) for number in chat.orders] + [("ZZ9ZZ9", None, False)]
        case LookupAnswer(table=table):
            records = chat.bot.reference.tables.get(table, ())
            return [(str(record["id"]), None, False) for record in records[:3]] + [("nope", None, False)]
        case MediaAnswer():
            return [("", None, True), ("skip", None, False)]
    return [("hi", None, False), ("menu", None, False)]


@pytest.mark.parametrize("name", sorted(BOTS))
@settings(max_examples=120, deadline=None)
@given(data=st.data(), language=st.sampled_from([None, "en", "id", "hi", "ar"]))
def test_no_sequence_of_messages_breaks_a_pack(name: str, data: st.DataObject, language: str | None) -> None:
    bot = BOTS[name]
    chat = Chat(bot, language if language in bot.current.languages else None)
    noise = st.one_of(st.text(max_size=60), st.sampled_from(vocabulary(bot))).map(lambda text: (text, None, False))
    for _ in range(data.draw(st.integers(0, 30), label="turns")):
        guided = data.draw(st.integers(0, 9), label="guided") < 7
        text, choice, media = data.draw(st.sampled_from(answers(chat)) if guided else noise, label="message")
        before = chat.conversation
        decision = chat.say(text, choice, media)
        assert decision.conversation.updated_at == chat.now
        assert decision.conversation.language in bot.current.languages
        if "_held" in before.data:
            assert decision.replies == () and decision.events == ()
            if data.draw(st.booleans(), label="release"):
                chat.conversation = bot.release(chat.conversation, chat.now)


@pytest.mark.parametrize("name", sorted(BOTS))
@settings(max_examples=60, deadline=None)
@given(messages=st.lists(st.text(), max_size=12))
def test_arbitrary_text_never_raises(name: str, messages: list[str]) -> None:
    chat = Chat(BOTS[name])
    for text in messages:
        chat.say(text)  # checks: one reply at most, a step of the pack


@pytest.mark.parametrize("name", sorted(BOTS))
@settings(max_examples=60, deadline=None)
@given(presses=st.lists(st.tuples(st.text(max_size=20), st.one_of(st.none(), st.text(max_size=12)), st.booleans()),
                        max_size=12))
def test_arbitrary_presses_and_media_never_raise(name: str, presses: list[Message]) -> None:
    chat = Chat(BOTS[name])
    for text, choice, media in presses:
        chat.say(text, choice, media)

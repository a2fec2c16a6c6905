"""The franchise bot as data: FlowBot over franchise_leads.json, walked scenario by scenario.

These scenarios come from the franchise bot as it was first written in code (since removed: the
pack is the one bot now). Replies are compared with the pack's own texts, filled the way the
contact reads them; the replies' kinds, button ids, events and lead states are checked too. A
language word inside a flow asks the current question again in the new language.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from adapters.packs.files import builtin_pack
from domain.conversations import Conversation, Decision, Turn
from domain.events import HandoffRequested, LeadCaptured, QuestionReceived
from domain.flows import FlowBot, missing_translations, validate_pack
from domain.leads import Lead, LeadState
from domain.messages import ButtonsReply, TextReply, reply_options

PACK = builtin_pack("franchise_leads")
BOT = FlowBot([PACK])
KEY = "whatsapp:+6281234567890"
LABEL = "Ana (+6281234567890)"
OPTION_IDS = ["opt_franchise", "opt_partnership", "opt_question"]
STEPS = PACK.step_refs() | {"start"}


FORM_EXAMPLE = PACK.values["example"]


def expected(language: str, key: str, **values: str) -> str:
    """The pack's text for the key in that language (English when it has none), filled in."""
    template = PACK.texts.get(language, {}).get(key) or PACK.texts["en"][key]
    return template.format(**{**PACK.values, **values})


def fresh(language: str | None = None) -> Conversation:
    return BOT.start(KEY, now=1.0, language=language)


def turn(text: str = "", choice_id: str | None = None, now: float = 2.0) -> Turn:
    return Turn(text=text, choice_id=choice_id, contact_label=LABEL, now=now)


def say(conversation: Conversation, text: str = "", choice_id: str | None = None) -> Decision:
    decision = BOT.decide(conversation, turn(text, choice_id))
    assert len(decision.replies) <= 1
    assert decision.conversation.step in STEPS
    return decision


def walk(conversation: Conversation, *messages: str) -> Conversation:
    for text in messages:
        conversation = say(conversation, text).conversation
    return conversation


def only_text(decision: Decision) -> str:
    (reply,) = decision.replies
    return reply.text


def state(decision: Decision) -> LeadState:
    return decision.conversation.lead.state


def at_menu(language: str | None = None) -> Conversation:
    return say(fresh(language), "halo").conversation


def at_form(language: str | None = None) -> Conversation:
    return say(at_menu(language), "1").conversation


def escalated() -> Conversation:
    return walk(at_menu(), "apa", "apa", "apa")


def assert_welcome(decision: Decision, language: str = "id", key: str = "welcome") -> None:
    (reply,) = decision.replies
    assert isinstance(reply, ButtonsReply)
    assert reply.text == expected(language, key)
    assert reply.footer == expected(language, "menu_footer")
    assert [button.id for button in reply_options(reply)] == OPTION_IDS
    assert state(decision) is LeadState.CHOOSE_OPTION


# --- the pack itself -----------------------------------------------------------------------


def test_the_pack_is_valid_and_fully_translated() -> None:
    assert validate_pack(PACK) == []
    assert missing_translations(PACK) == {}
    assert PACK.texts["id"].keys() == PACK.texts["en"].keys()


def test_start_opens_a_new_lead_in_indonesian() -> None:
    conversation = fresh()

    assert conversation.bot == "franchise_leads"
    assert conversation.step == "start"
    assert conversation.language == "id"
    assert conversation.lead == Lead()
    assert fresh("en").language == "en"


# --- the welcome ---------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["halo", "selamat pagi", "saya mau tanya franchise", "1", ""])
def test_first_message_gets_one_welcome_with_the_three_options(first: str) -> None:
    decision = say(fresh(), first)

    assert_welcome(decision)
    assert [b.title for b in decision.replies[0].buttons] == ["Cari franchise", "Kemitraan", "Tanya"]
    assert decision.events == ()


@pytest.mark.parametrize(
    "first", ["hi", "Hello there", "good morning", "I want to buy a franchise", "can you help me please"]
)
def test_first_message_in_english_gets_the_english_menu(first: str) -> None:
    decision = say(fresh(), first)

    assert_welcome(decision, "en")
    assert decision.conversation.language == "en"


def test_the_business_name_is_a_value_of_the_pack() -> None:
    renamed = replace(PACK, values=PACK.values | {"business": "Waralaba Nusantara"})
    bot = FlowBot([renamed])

    assert "Waralaba Nusantara" in bot.decide(bot.start(KEY, 1.0), turn("halo")).replies[0].text


def test_english_is_only_guessed_from_the_first_message() -> None:
    assert say(at_menu(), "hello").conversation.language == "id"


def test_a_conversation_without_a_lead_starts_as_a_new_one() -> None:
    assert_welcome(say(replace(fresh(), lead=None), "halo"))


# --- choosing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "choice_id"),
    [("", "opt_franchise"), ("1", None), ("1.", None), ("satu", None), ("one", None),
     ("franchise", None), ("Cari Franchise", None), ("Find a franchise", None), ("pilih 1", None),
     ("  FRANCHISE  ", None), ("franchse", None)],
)
def test_option_one_sends_the_form_request(text: str, choice_id: str | None) -> None:
    decision = say(at_menu(), text, choice_id)

    assert state(decision) is LeadState.FORM_SENT
    assert only_text(decision) == expected("id", "form_request", example=FORM_EXAMPLE)


@pytest.mark.parametrize(
    ("text", "choice_id"),
    [("", "opt_partnership"), ("2", None), ("dua", None), ("Kemitraan", None), ("opsi 2 ya", None)],
)
def test_option_two_sends_the_partnership_message(text: str, choice_id: str | None) -> None:
    decision = say(at_menu(), text, choice_id)

    assert state(decision) is LeadState.PARTNERSHIP
    assert only_text(decision) == expected("id", "partnership")
    assert decision.events == ()


@pytest.mark.parametrize(
    ("text", "choice_id"), [("", "opt_question"), ("3", None), ("Tanya", None), ("Ask a question", None), ("3)", None)]
)
def test_option_three_asks_for_the_question(text: str, choice_id: str | None) -> None:
    decision = say(at_menu(), text, choice_id)

    assert state(decision) is LeadState.CHOOSE_OPTION
    assert only_text(decision) == expected("id", "ask_question")


def test_a_button_press_wins_over_the_text_that_came_with_it() -> None:
    assert state(say(at_menu(), "Tanya", "opt_partnership")) is LeadState.PARTNERSHIP


@pytest.mark.parametrize("text", ["apa ini", "4", "1 atau 2", "", "franchise atau kemitraan", "menu nya apa saja?"])
def test_an_unknown_option_repeats_the_options_and_counts(text: str) -> None:
    decision = say(at_menu(), text)

    assert_welcome(decision, key="invalid_option")
    assert decision.conversation.lead.invalid_answers == 1


# --- the form ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_franchise_lead_is_captured_over_two_messages(language: str) -> None:
    conversation = walk(fresh(), "halo" if language == "id" else "hello", "1")
    assert conversation.language == language

    partial = say(conversation, "Sumber: Instagram\nBisnis: Kuliner")

    assert state(partial) is LeadState.FORM_IN_PROGRESS
    assert only_text(partial) == expected(
        language, "form_partial", form_summary="Sumber: Instagram\nBisnis: Kuliner", form_missing="Budget, Rencana"
    )
    assert partial.events == ()

    done = say(partial.conversation, "Budget: 100 juta\nRencana: 3 bulan lagi")

    assert state(done) is LeadState.FORM_COMPLETED
    summary = "Sumber: Instagram\nBisnis: Kuliner\nBudget: 100 juta (Rp 100.000.000)\nRencana: 3 bulan lagi"
    assert only_text(done) == expected(language, "form_received", form_summary=summary)
    assert done.events == (
        LeadCaptured(
            contact_key=KEY,
            contact_label=LABEL,
            fields={"sumber": "Instagram", "bisnis": "Kuliner", "budget": "100 juta", "rencana": "3 bulan lagi"},
            budget_amount=100_000_000,
            at=2.0,
        ),
    )


def test_a_budget_that_cannot_be_read_is_shown_without_rupiah() -> None:
    decision = say(at_form(), "Sumber: IG\nBisnis: Kopi\nBudget: secukupnya\nRencana: tahun ini")

    assert "Budget: secukupnya\n" in only_text(decision)
    assert "Rp" not in only_text(decision)
    assert decision.events[0].budget_amount is None


def test_a_message_with_no_form_field_repeats_the_form_briefly_and_counts() -> None:
    decision = say(at_form(), "saya bingung")

    assert only_text(decision) == expected("id", "form_reminder", example=FORM_EXAMPLE)
    assert decision.conversation.lead.invalid_answers == 1
    assert state(decision) is LeadState.FORM_SENT


@pytest.mark.parametrize("choose", ["1", "2"])
def test_later_messages_after_the_form_or_partnership_are_acknowledged_not_counted(choose: str) -> None:
    conversation = walk(at_menu(), choose)
    if choose == "1":
        conversation = walk(conversation, FORM_EXAMPLE)
    settled = conversation.lead.state

    for _ in range(4):
        decision = say(conversation, "kapan dihubungi?")
        assert only_text(decision) == expected("id", "already_received")
        assert decision.events == ()
        conversation = decision.conversation

    assert conversation.lead.state is settled
    assert conversation.lead.invalid_answers == 0


# --- a question ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_question_is_received_and_the_menu_offered_again(language: str) -> None:
    conversation = say(at_menu(language), "3").conversation

    decision = say(conversation, "Berapa modal minimal?")

    assert_welcome(decision, language, key="question_received")
    assert decision.events == (
        QuestionReceived(contact_key=KEY, contact_label=LABEL, question="Berapa modal minimal?", at=2.0),
    )
    assert state(say(decision.conversation, "2")) is LeadState.PARTNERSHIP


def test_a_question_that_names_an_option_is_still_a_question() -> None:
    decision = say(say(at_menu(), "3").conversation, "1 franchise berapa?")

    assert decision.events[0].question == "1 franchise berapa?"


def test_an_empty_question_asks_again_and_counts() -> None:
    decision = say(say(at_menu(), "3").conversation, "   ")

    assert only_text(decision) == expected("id", "ask_question")
    assert decision.conversation.lead.invalid_answers == 1


# --- invalid answers and the handoff -------------------------------------------------------


def test_third_invalid_answer_hands_the_lead_to_a_person_once() -> None:
    decision = say(walk(at_menu(), "apa", "apa"), "hmm?")

    assert only_text(decision) == expected("id", "escalation")
    assert state(decision) is LeadState.MANUAL_INTERVENTION
    assert decision.events == (
        HandoffRequested(contact_key=KEY, contact_label=LABEL, reason="invalid_answers", last_text="hmm?", at=2.0),
    )


def test_third_invalid_form_answer_hands_the_lead_to_a_person() -> None:
    decision = say(walk(at_form(), "x", "y"), "z")

    assert state(decision) is LeadState.MANUAL_INTERVENTION
    assert [type(event) for event in decision.events] == [HandoffRequested]


@pytest.mark.parametrize(
    ("text", "choice_id"),
    [("halo", None), ("1", None), ("", "opt_franchise"), ("menu", None), ("help", None), ("restart", None),
     ("stop", None), ("start", None), ("english", None), (FORM_EXAMPLE, None)],
)
def test_after_the_handoff_the_bot_is_silent(text: str, choice_id: str | None) -> None:
    conversation = escalated()

    decision = say(conversation, text, choice_id)

    assert decision == Decision(conversation=replace(conversation, updated_at=2.0))


def test_an_existing_customer_gets_no_auto_reply() -> None:
    conversation = replace(fresh(), lead=Lead(state=LeadState.EXISTING))

    for text in ("halo", "menu", "stop"):
        assert say(conversation, text).replies == ()


def test_valid_answers_and_the_menu_reset_the_run_of_invalid_answers() -> None:
    assert walk(at_menu(), "apa", "apa", "3", "Ada cabang di Bali?", "apa", "apa").lead.invalid_answers == 2
    assert walk(at_form(), "x", "x", "Sumber: IG", "x", "x").lead.invalid_answers == 2
    assert walk(at_menu(), "apa", "apa", "menu", "apa", "apa").lead.invalid_answers == 2


def test_a_released_conversation_gets_the_menu_on_the_next_message() -> None:
    conversation = BOT.release(escalated(), now=50.0)

    assert conversation.lead.state is LeadState.CHOOSE_OPTION
    assert conversation.updated_at == 50.0
    decision = say(conversation, "1")
    assert_welcome(decision)
    assert state(say(decision.conversation, "1")) is LeadState.FORM_SENT


# --- global words --------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("word", ["menu", "Menu Utama", "MENU", " menu ", "main menu", "/menu", "/menu@chatgate_bot"])
def test_the_menu_word_opens_the_welcome_menu_from_the_form(word: str, language: str) -> None:
    decision = say(walk(at_form(language), "x"), word)

    assert_welcome(decision, language)
    assert decision.conversation.lead.invalid_answers == 0


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("word", ["help", "bantuan", "HELP", "/help"])
def test_the_help_word_lists_the_words_and_keeps_the_state(word: str, language: str) -> None:
    conversation = at_form(language)

    decision = say(conversation, word)

    assert only_text(decision) == expected(language, "help")
    assert decision.conversation == replace(conversation, updated_at=2.0)


@pytest.mark.parametrize("word", ["restart", "ulang", "mulai ulang", "Mulai Ulang", "/restart"])
def test_the_restart_word_clears_the_form_and_welcomes_again(word: str) -> None:
    decision = say(walk(at_form("en"), "Sumber: IG\nBisnis: Kopi", "x"), word)

    assert_welcome(decision, "en")
    assert decision.conversation.lead == Lead(state=LeadState.CHOOSE_OPTION)


def test_restart_after_a_captured_lead_allows_a_new_form() -> None:
    conversation = walk(at_form(), FORM_EXAMPLE, "restart", "1")

    assert [type(event) for event in say(conversation, FORM_EXAMPLE).events] == [LeadCaptured]


@pytest.mark.parametrize("word", ["stop", "berhenti", "unsubscribe", "STOP", "/stop"])
def test_the_stop_word_opts_out_until_start(word: str) -> None:
    decision = say(at_menu(), word)

    assert only_text(decision) == expected("id", "opted_out")
    assert decision.conversation.opted_out is True
    for text in ("halo", "1", "menu", "help", "english"):
        assert say(decision.conversation, text).replies == ()
    back = say(decision.conversation, "mulai")
    assert_welcome(back)
    assert back.conversation.opted_out is False


def test_telegram_start_with_a_payload_is_the_start_word() -> None:
    assert_welcome(say(fresh(), "/start ref_instagram"))


@pytest.mark.parametrize("word", ["english", "English", "bahasa inggris", "en", "/english"])
def test_an_english_word_at_the_menu_switches_to_the_english_menu(word: str) -> None:
    decision = say(at_menu(), word)

    assert decision.conversation.language == "en"
    assert_welcome(decision, "en")


def test_a_language_word_in_the_form_asks_for_the_form_again_in_that_language() -> None:
    decision = say(at_form(), "english")

    assert decision.conversation.language == "en"
    assert decision.replies == (TextReply(text=expected("en", "form_request", example=FORM_EXAMPLE)),)
    assert state(decision) is LeadState.FORM_SENT


def test_a_language_word_as_first_message_opens_the_menu_in_that_language() -> None:
    assert_welcome(say(fresh(), "english"), "en")


# --- properties ----------------------------------------------------------------------------

SOME_TEXTS = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["1", "2", "3", "menu", "help", "restart", "stop", "start", "english", "bahasa", "language",
         "Sumber: IG", "Budget: 10 juta", FORM_EXAMPLE, "apa", ""]
    ),
)


@given(st.lists(SOME_TEXTS, max_size=12), st.sampled_from([None, "en", "id"]))
def test_any_sequence_of_texts_keeps_the_conversation_inside_the_pack(messages: list[str], language: str | None) -> None:
    conversation = fresh(language)
    for now, text in enumerate(messages, start=2):
        before = conversation
        decision = BOT.decide(conversation, turn(text, now=float(now)))
        conversation = decision.conversation

        assert len(decision.replies) <= 1
        assert conversation.updated_at == now
        assert conversation.step in STEPS
        assert conversation.language in ("id", "en")
        if before.lead.state is LeadState.MANUAL_INTERVENTION:
            assert decision == Decision(conversation=replace(before, updated_at=now))


@given(st.lists(st.text(), max_size=10))
def test_arbitrary_text_never_raises(messages: list[str]) -> None:
    conversation = fresh()
    for text in messages:
        decision = BOT.decide(conversation, turn(text))
        assert len(decision.replies) <= 1
        conversation = decision.conversation
        assert conversation.step in STEPS

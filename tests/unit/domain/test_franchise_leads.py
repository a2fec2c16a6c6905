"""The franchise lead bot, walked turn by turn with values (no clock, no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from domain.bots import BOTS, UnknownBot, bot_named
from domain.bots import franchise_texts as texts
from domain.bots.franchise_leads import FranchiseLeadsBot, looks_english
from domain.conversations import Conversation, Decision, Turn
from domain.errors import DomainError
from domain.events import HandoffRequested, LeadCaptured, QuestionReceived
from domain.lead_form import parse_lead_form
from domain.leads import Lead, LeadState
from domain.messages import ButtonsReply, reply_options

BOT = FranchiseLeadsBot()
KEY = "whatsapp:+6281234567890"
LABEL = "Ana (+6281234567890)"
OPTION_IDS = ["opt_franchise", "opt_partnership", "opt_question"]


def fresh(language: str | None = None) -> Conversation:
    return BOT.start(KEY, now=1.0, language=language)


def turn(text: str = "", choice_id: str | None = None, now: float = 2.0) -> Turn:
    return Turn(text=text, choice_id=choice_id, contact_label=LABEL, now=now)


def say(conversation: Conversation, text: str = "", choice_id: str | None = None) -> Decision:
    decision = BOT.decide(conversation, turn(text, choice_id))
    assert len(decision.replies) <= 1
    assert decision.conversation.step == decision.conversation.lead.state.value
    return decision


def walk(conversation: Conversation, *texts_: str) -> Conversation:
    for text in texts_:
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


def assert_welcome(decision: Decision, language: str = "id") -> None:
    (reply,) = decision.replies
    assert isinstance(reply, ButtonsReply)
    assert reply.text == texts.text(language, "welcome", business="StartFranchise")
    assert [button.id for button in reply_options(reply)] == OPTION_IDS
    assert state(decision) is LeadState.CHOOSE_OPTION


# --- start and the welcome -------------------------------------------------------------------


def test_start_opens_a_new_lead_in_indonesian() -> None:
    conversation = fresh()

    assert conversation.bot == "franchise_leads"
    assert conversation.step == "NEW"
    assert conversation.language == "id"
    assert conversation.lead == Lead()
    assert conversation.started_at == conversation.updated_at == 1.0


def test_start_takes_the_language_it_is_given() -> None:
    assert fresh("en").language == "en"


@pytest.mark.parametrize("first", ["halo", "selamat pagi", "saya mau tanya franchise", "1", ""])
def test_first_message_gets_one_welcome_with_the_three_options(first: str) -> None:
    decision = say(fresh(), first)

    assert_welcome(decision)
    (reply,) = decision.replies
    assert [b.title for b in reply.buttons] == ["Cari franchise", "Kemitraan", "Tanya"]
    assert decision.conversation.language == "id"
    assert decision.events == ()


@pytest.mark.parametrize(
    "first",
    ["hi", "Hello there", "good morning", "I want to buy a franchise", "can you help me please"],
)
def test_first_message_in_english_gets_the_english_menu(first: str) -> None:
    decision = say(fresh(), first)

    assert_welcome(decision, "en")
    assert [b.title for b in decision.replies[0].buttons] == [
        "Find a franchise",
        "Partnership",
        "Ask a question",
    ]
    assert decision.conversation.language == "en"


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("hi", True),
        ("Hi, is this StartFranchise?", True),
        ("i'm interested", True),
        ("what is the price", True),
        ("halo kak", False),
        ("highway", False),
        ("mau info franchise dong", False),
        ("ok", False),
        ("", False),
        ("123", False),
    ],
)
def test_looks_english_is_a_small_heuristic(text: str, english: bool) -> None:
    assert looks_english(text) is english


def test_english_is_only_guessed_from_the_first_message() -> None:
    conversation = at_menu()

    decision = say(conversation, "hello")

    assert decision.conversation.language == "id"


def test_the_business_name_goes_into_the_texts() -> None:
    bot = FranchiseLeadsBot(business_name="Waralaba Nusantara")

    decision = bot.decide(bot.start(KEY, now=1.0), turn("halo"))

    assert "Waralaba Nusantara" in only_text(decision)


def test_menu_button_titles_fit_whatsapp_buttons() -> None:
    for language in ("id", "en"):
        (reply,) = say(fresh(language), "halo").replies
        assert all(len(button.title) <= 20 for button in reply.buttons)


def test_every_decision_carries_the_turn_time() -> None:
    conversation = fresh()
    for now, text in enumerate(["halo", "apa", "1", "Sumber: IG", "stop", "x"], start=10):
        conversation = BOT.decide(conversation, turn(text, now=float(now))).conversation
        assert conversation.updated_at == now


def test_a_conversation_without_a_lead_starts_as_a_new_one() -> None:
    conversation = replace(fresh(), lead=None)

    assert_welcome(say(conversation, "halo"))


# --- choosing an option ------------------------------------------------------------------


FRANCHISE_ANSWERS = [
    ("", "opt_franchise"),
    ("1", None),
    ("1.", None),
    ("satu", None),
    ("one", None),
    ("franchise", None),
    ("Cari Franchise", None),
    ("Find a franchise", None),
    ("pilih 1", None),
    ("  FRANCHISE  ", None),
]


@pytest.mark.parametrize(("text", "choice_id"), FRANCHISE_ANSWERS)
def test_option_one_sends_the_form_request(text: str, choice_id: str | None) -> None:
    decision = say(at_menu(), text, choice_id)

    assert state(decision) is LeadState.FORM_SENT
    reply = only_text(decision)
    for field in ("Sumber", "Bisnis", "Budget", "Rencana"):
        assert f"{field}:" in reply
    assert texts.FORM_EXAMPLE in reply


@pytest.mark.parametrize(
    ("text", "choice_id"),
    [("", "opt_partnership"), ("2", None), ("dua", None), ("two", None), ("Kemitraan", None),
     ("partnership", None), ("opsi 2 ya", None)],
)
def test_option_two_sends_the_partnership_message(text: str, choice_id: str | None) -> None:
    decision = say(at_menu(), text, choice_id)

    assert state(decision) is LeadState.PARTNERSHIP
    assert only_text(decision) == texts.text("id", "partnership", business="StartFranchise")
    assert decision.events == ()


@pytest.mark.parametrize(
    ("text", "choice_id"),
    [("", "opt_question"), ("3", None), ("tiga", None), ("three", None), ("Tanya", None),
     ("question", None), ("Ask a question", None), ("3)", None)],
)
def test_option_three_asks_for_the_question(text: str, choice_id: str | None) -> None:
    decision = say(at_menu(), text, choice_id)

    assert state(decision) is LeadState.CHOOSE_OPTION
    assert decision.conversation.data["awaiting_question"] == "1"
    assert only_text(decision) == texts.text("id", "ask_question")


def test_a_button_press_wins_over_the_text_that_came_with_it() -> None:
    decision = say(at_menu(), "Tanya", "opt_partnership")

    assert state(decision) is LeadState.PARTNERSHIP


@pytest.mark.parametrize("text", ["apa ini", "4", "1 atau 2", "", "franchise atau kemitraan"])
def test_an_unknown_option_repeats_the_options_and_counts(text: str) -> None:
    decision = say(at_menu(), text)

    (reply,) = decision.replies
    assert isinstance(reply, ButtonsReply)
    assert reply.text == texts.text("id", "invalid_option")
    assert [button.id for button in reply.buttons] == OPTION_IDS
    assert decision.conversation.lead.invalid_answers == 1
    assert state(decision) is LeadState.CHOOSE_OPTION


# --- the form ----------------------------------------------------------------------------


def test_the_form_example_is_a_complete_form() -> None:
    assert parse_lead_form(texts.FORM_EXAMPLE).is_complete


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_franchise_lead_is_captured_over_two_messages(language: str) -> None:
    first = "halo" if language == "id" else "hello"
    conversation = walk(fresh(), first, "1")
    assert conversation.language == language
    assert conversation.lead.state is LeadState.FORM_SENT

    partial = say(conversation, "Sumber: Instagram\nBisnis: Kuliner")

    assert state(partial) is LeadState.FORM_IN_PROGRESS
    assert only_text(partial) == texts.text(
        language,
        "form_partial",
        received="Sumber: Instagram\nBisnis: Kuliner",
        missing="Budget, Rencana",
    )
    assert partial.events == ()

    done = say(partial.conversation, "Budget: 100 juta\nRencana: 3 bulan lagi")

    assert state(done) is LeadState.FORM_COMPLETED
    assert only_text(done) == texts.text(
        language,
        "form_received",
        summary="Sumber: Instagram\nBisnis: Kuliner\nBudget: 100 juta (Rp 100.000.000)\n"
        "Rencana: 3 bulan lagi",
        business="StartFranchise",
    )
    assert done.events == (
        LeadCaptured(
            contact_key=KEY,
            contact_label=LABEL,
            fields={
                "sumber": "Instagram",
                "bisnis": "Kuliner",
                "budget": "100 juta",
                "rencana": "3 bulan lagi",
            },
            budget_amount=100_000_000,
            at=2.0,
        ),
    )


def test_a_complete_form_in_one_message_is_captured_at_once() -> None:
    decision = say(at_form(), texts.FORM_EXAMPLE)

    assert state(decision) is LeadState.FORM_COMPLETED
    (event,) = decision.events
    assert isinstance(event, LeadCaptured)
    assert event.budget_amount == 100_000_000


def test_a_budget_that_cannot_be_read_is_shown_without_rupiah() -> None:
    decision = say(at_form(), "Sumber: IG\nBisnis: Kopi\nBudget: secukupnya\nRencana: tahun ini")

    assert "Budget: secukupnya\n" in only_text(decision)
    assert "Rp" not in only_text(decision)
    assert decision.events[0].budget_amount is None


def test_a_partial_form_names_exactly_what_is_missing() -> None:
    decision = say(at_form(), "Budget: 50 juta")

    assert "Sumber, Bisnis, Rencana" in only_text(decision)
    assert "Budget: 50 juta (Rp 50.000.000)" in only_text(decision)
    assert decision.conversation.lead.invalid_answers == 0


def test_a_message_with_no_form_field_repeats_the_form_briefly_and_counts() -> None:
    decision = say(at_form(), "saya bingung")

    assert only_text(decision) == texts.text("id", "form_reminder", example=texts.FORM_EXAMPLE)
    assert decision.conversation.lead.invalid_answers == 1
    assert state(decision) is LeadState.FORM_SENT


@pytest.mark.parametrize("choose", ["1", "2"])
def test_later_messages_after_the_form_or_partnership_are_acknowledged_not_counted(
    choose: str,
) -> None:
    conversation = walk(at_menu(), choose)
    if choose == "1":
        conversation = walk(conversation, texts.FORM_EXAMPLE)
    settled = conversation.lead.state

    for _ in range(4):
        decision = say(conversation, "kapan dihubungi?")
        assert only_text(decision) == texts.text("id", "already_received")
        assert decision.events == ()
        conversation = decision.conversation

    assert conversation.lead.state is settled
    assert conversation.lead.invalid_answers == 0


# --- a question ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_question_is_received_and_the_menu_offered_again(language: str) -> None:
    conversation = say(at_menu(language), "3").conversation

    decision = say(conversation, "Berapa modal minimal?")

    (reply,) = decision.replies
    assert isinstance(reply, ButtonsReply)
    assert reply.text == texts.text(language, "question_received")
    assert [button.id for button in reply.buttons] == OPTION_IDS
    assert decision.events == (
        QuestionReceived(
            contact_key=KEY, contact_label=LABEL, question="Berapa modal minimal?", at=2.0
        ),
    )
    assert state(decision) is LeadState.CHOOSE_OPTION
    assert "awaiting_question" not in decision.conversation.data
    assert state(say(decision.conversation, "2")) is LeadState.PARTNERSHIP


def test_a_question_that_names_an_option_is_still_a_question() -> None:
    conversation = say(at_menu(), "3").conversation

    decision = say(conversation, "1 franchise berapa?")

    assert state(decision) is LeadState.CHOOSE_OPTION
    assert decision.events[0].question == "1 franchise berapa?"


def test_an_empty_question_asks_again_and_counts() -> None:
    conversation = say(at_menu(), "3").conversation

    decision = say(conversation, "   ")

    assert only_text(decision) == texts.text("id", "ask_question")
    assert decision.conversation.data["awaiting_question"] == "1"
    assert decision.conversation.lead.invalid_answers == 1


# --- invalid answers and the handoff -------------------------------------------------------


def test_third_invalid_answer_hands_the_lead_to_a_person_once() -> None:
    conversation = walk(at_menu(), "apa", "apa")

    decision = say(conversation, "hmm?")

    assert only_text(decision) == texts.text("id", "escalation")
    assert state(decision) is LeadState.MANUAL_INTERVENTION
    assert decision.conversation.step == "MANUAL_INTERVENTION"
    assert decision.events == (
        HandoffRequested(
            contact_key=KEY,
            contact_label=LABEL,
            reason="invalid_answers",
            last_text="hmm?",
            at=2.0,
        ),
    )


def test_third_invalid_form_answer_hands_the_lead_to_a_person() -> None:
    decision = say(walk(at_form(), "x", "y"), "z")

    assert state(decision) is LeadState.MANUAL_INTERVENTION
    assert only_text(decision) == texts.text("id", "escalation")
    assert [type(event) for event in decision.events] == [HandoffRequested]


def test_english_contacts_get_the_english_escalation_notice() -> None:
    decision = say(walk(at_menu("en"), "what", "what"), "what")

    assert only_text(decision) == texts.text("en", "escalation")


@pytest.mark.parametrize(
    ("text", "choice_id"),
    [("halo", None), ("1", None), ("", "opt_franchise"), ("menu", None), ("help", None),
     ("restart", None), ("stop", None), ("start", None), ("english", None), ("/start", None),
     (texts.FORM_EXAMPLE, None)],
)
def test_after_the_handoff_the_bot_is_silent(text: str, choice_id: str | None) -> None:
    conversation = escalated()

    decision = say(conversation, text, choice_id)

    assert decision.replies == ()
    assert decision.events == ()
    assert decision.conversation == replace(conversation, updated_at=2.0)


def test_an_existing_customer_gets_no_auto_reply() -> None:
    conversation = replace(fresh(), lead=Lead(state=LeadState.EXISTING), step="EXISTING")

    for text in ("halo", "menu", "stop"):
        decision = say(conversation, text)
        assert decision.replies == () and decision.events == ()


def test_a_valid_answer_resets_the_run_of_invalid_answers() -> None:
    conversation = walk(at_menu(), "apa", "apa", "3", "Ada cabang di Bali?", "apa", "apa")

    assert conversation.lead.state is LeadState.CHOOSE_OPTION
    assert conversation.lead.invalid_answers == 2


def test_a_partial_form_resets_the_run_of_invalid_answers() -> None:
    conversation = walk(at_form(), "x", "x", "Sumber: IG", "x", "x")

    assert conversation.lead.state is LeadState.FORM_IN_PROGRESS
    assert conversation.lead.invalid_answers == 2


def test_the_menu_word_resets_the_run_of_invalid_answers() -> None:
    conversation = walk(at_menu(), "apa", "apa", "menu", "apa", "apa")

    assert conversation.lead.invalid_answers == 2


def test_a_released_conversation_gets_the_menu_on_the_next_message() -> None:
    conversation = BOT.release(escalated(), now=50.0)

    assert conversation.lead.state is not LeadState.MANUAL_INTERVENTION
    assert conversation.step == conversation.lead.state.value
    assert conversation.updated_at == 50.0

    decision = say(conversation, "1")

    assert_welcome(decision)
    assert decision.conversation.lead.invalid_answers == 0
    assert state(say(decision.conversation, "1")) is LeadState.FORM_SENT


# --- global words ----------------------------------------------------------------------------


MENU_WORDS = ["menu", "Menu Utama", "MENU", " menu ", "main menu", "/menu", "/menu@chatgate_bot"]
LANGUAGES = ["id", "en"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("word", MENU_WORDS)
def test_the_menu_word_opens_the_welcome_menu_from_the_form(word: str, language: str) -> None:
    decision = say(walk(at_form(language), "x"), word)

    assert_welcome(decision, language)
    assert decision.conversation.lead.invalid_answers == 0


@pytest.mark.parametrize("start", ["PARTNERSHIP", "FORM_COMPLETED", "CHOOSE_OPTION"])
def test_the_menu_word_works_from_every_answering_state(start: str) -> None:
    conversation = {
        "PARTNERSHIP": lambda: walk(at_menu(), "2"),
        "FORM_COMPLETED": lambda: walk(at_form(), texts.FORM_EXAMPLE),
        "CHOOSE_OPTION": lambda: walk(at_menu(), "3"),
    }[start]()
    assert conversation.step == start

    decision = say(conversation, "menu")

    assert_welcome(decision)
    assert "awaiting_question" not in decision.conversation.data


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("word", ["help", "bantuan", "HELP", "/help"])
def test_the_help_word_lists_the_words_and_keeps_the_state(word: str, language: str) -> None:
    conversation = at_form(language)

    decision = say(conversation, word)

    assert only_text(decision) == texts.text(language, "help")
    assert decision.conversation == replace(conversation, updated_at=2.0)


def test_the_help_text_names_the_global_words() -> None:
    for word in ("menu", "bantuan", "ulang", "berhenti", "english"):
        assert word in texts.text("id", "help")
    for word in ("menu", "help", "restart", "stop", "indonesia"):
        assert word in texts.text("en", "help")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("word", ["restart", "ulang", "mulai ulang", "Mulai Ulang", "/restart"])
def test_the_restart_word_clears_the_form_and_welcomes_again(word: str, language: str) -> None:
    conversation = walk(at_form(language), "Sumber: IG\nBisnis: Kopi", "x")

    decision = say(conversation, word)

    assert_welcome(decision, language)
    assert decision.conversation.lead == Lead(state=LeadState.CHOOSE_OPTION)
    assert decision.conversation.language == language


def test_restart_after_a_captured_lead_allows_a_new_form() -> None:
    conversation = walk(at_form(), texts.FORM_EXAMPLE, "restart", "1")

    decision = say(conversation, texts.FORM_EXAMPLE)

    assert [type(event) for event in decision.events] == [LeadCaptured]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("word", ["stop", "berhenti", "unsubscribe", "STOP", "/stop"])
def test_the_stop_word_opts_out_with_one_confirmation(word: str, language: str) -> None:
    decision = say(at_menu(language), word)

    assert only_text(decision) == texts.text(language, "opted_out")
    assert decision.conversation.opted_out is True


@pytest.mark.parametrize("text", ["halo", "1", "menu", "help", "restart", "stop", "english"])
def test_an_opted_out_contact_hears_nothing(text: str) -> None:
    conversation = say(at_menu(), "stop").conversation

    decision = say(conversation, text)

    assert decision.replies == () and decision.events == ()
    assert decision.conversation.opted_out is True


@pytest.mark.parametrize("word", ["start", "mulai", "Mulai", "/start", "/mulai"])
def test_the_start_word_opts_back_in_with_the_welcome(word: str) -> None:
    conversation = walk(at_form(), "stop")

    decision = say(conversation, word)

    assert_welcome(decision)
    assert decision.conversation.opted_out is False


def test_a_first_message_can_be_a_stop_word() -> None:
    decision = say(fresh(), "stop")

    assert decision.conversation.opted_out is True
    assert_welcome(say(decision.conversation, "start"))


def test_telegram_start_with_a_payload_is_the_start_word() -> None:
    assert_welcome(say(fresh(), "/start ref_instagram"))


def test_a_global_word_inside_a_sentence_is_not_a_global_word() -> None:
    decision = say(at_menu(), "menu nya apa saja?")

    assert decision.replies[0].text == texts.text("id", "invalid_option")


@pytest.mark.parametrize("word", ["english", "English", "bahasa inggris", "en", "/english"])
def test_an_english_word_switches_to_the_english_menu(word: str) -> None:
    decision = say(at_form(), word)

    assert decision.conversation.language == "en"
    assert_welcome(decision, "en")


@pytest.mark.parametrize("word", ["indonesia", "bahasa", "Bahasa Indonesia", "id"])
def test_an_indonesian_word_switches_to_the_indonesian_menu(word: str) -> None:
    decision = say(at_menu("en"), word)

    assert decision.conversation.language == "id"
    assert_welcome(decision, "id")


def test_a_language_word_as_first_message_opens_the_menu_in_that_language() -> None:
    assert_welcome(say(fresh(), "english"), "en")


# --- texts -----------------------------------------------------------------------------------


def test_both_languages_have_the_same_messages() -> None:
    assert texts.TEXTS["id"].keys() == texts.TEXTS["en"].keys()


def test_a_missing_text_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(texts.TEXTS["id"], "help")

    assert texts.text("id", "help") == texts.TEXTS["en"]["help"]
    assert texts.text("fr", "ask_question") == texts.TEXTS["en"]["ask_question"]


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(0, "Rp 0"), (500, "Rp 500"), (100_000_000, "Rp 100.000.000"), (1_500_000, "Rp 1.500.000")],
)
def test_rupiah_groups_thousands_with_dots(amount: int, shown: str) -> None:
    assert texts.rupiah(amount) == shown


# --- the registry ----------------------------------------------------------------------------


def test_bots_are_found_by_name() -> None:
    assert isinstance(bot_named("franchise_leads"), FranchiseLeadsBot)
    assert bot_named("demo").name == "franchise_leads"
    assert set(BOTS) >= {"franchise_leads", "demo"}


def test_an_unknown_bot_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownBot) as raised:
        bot_named("shop")

    assert isinstance(raised.value, DomainError)
    assert "'shop'" in str(raised.value)
    assert "demo, franchise_leads" in str(raised.value)


# --- properties ------------------------------------------------------------------------------


SOME_TEXTS = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["1", "2", "3", "menu", "help", "restart", "stop", "start", "english", "bahasa",
         "Sumber: IG", "Budget: 10 juta", texts.FORM_EXAMPLE, "apa", ""]
    ),
)


@given(st.lists(SOME_TEXTS, max_size=12), st.sampled_from([None, "en", "id"]))
def test_any_sequence_of_texts_keeps_the_conversation_consistent(
    messages: list[str], language: str | None
) -> None:
    conversation = fresh(language)
    for now, text in enumerate(messages, start=2):
        before = conversation
        decision = BOT.decide(conversation, turn(text, now=float(now)))
        conversation = decision.conversation

        assert len(decision.replies) <= 1
        assert conversation.updated_at == now
        assert conversation.step in {s.value for s in LeadState}
        assert conversation.step == conversation.lead.state.value
        assert conversation.language in ("id", "en")
        if before.step == "MANUAL_INTERVENTION":
            assert decision == Decision(conversation=replace(before, updated_at=now))
        if before.opted_out and decision.replies:
            assert conversation.opted_out is False
            assert conversation.step == "CHOOSE_OPTION"


@given(st.lists(st.text(), max_size=10))
def test_arbitrary_text_never_raises(messages: list[str]) -> None:
    conversation = fresh()
    for text in messages:
        decision = BOT.decide(conversation, turn(text))
        assert len(decision.replies) <= 1
        conversation = decision.conversation
    assert conversation.step == conversation.lead.state.value

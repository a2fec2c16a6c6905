"""msme_onboarding: name, one of twelve sectors, pincode, mobile, a confirmation that corrects
any field, then ``onboarding.completed`` with the data and the login link; in every language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pack_chat import KEY, LABEL, Chat, bot_for, held, ids, only, plain, right_to_left, said, text_of, why

from domain.events import HandoffRequested
from domain.flows import FlowEvent, validate_pack
from domain.flows.texts import lookup
from domain.messages import ButtonsReply, ListReply

BOT = bot_for("msme_onboarding")
PACK = BOT.current
LANGUAGES = PACK.languages
SECTORS = ["Manufacturing", "Services", "Technology", "Healthcare", "Education", "Agriculture", "Retail",
           "Construction", "Food & Beverage", "Textile", "Automotive", "Other"]
LOGIN = "https://msmebazaar.in/login"


def at_name(language: str = "en") -> Chat:
    chat = Chat(BOT, language)
    chat.say("hello")
    chat.say(choice="register")
    return chat


def at_confirm(language: str = "en") -> Chat:
    return at_name(language).walk("Ravi Kumar", "3", "400 001", "098765 43210")


def sector_title(language: str, sector: str) -> str:
    key = "msme.sector." + sector.lower().replace(" & ", "_")
    return lookup(PACK, language, key)


def test_the_pack_is_valid_and_speaks_english_hindi_and_indonesian() -> None:
    assert validate_pack(PACK) == []
    assert {"en", "hi", "id"} <= set(LANGUAGES)
    sector = PACK.flows["onboarding"].steps["sector"].accepts
    assert [option.id for option in sector.options] == SECTORS


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_welcome_offers_to_register_or_talk_to_the_team(language: str) -> None:
    decision = Chat(BOT, language).say("hello")

    reply = only(decision)
    assert isinstance(reply, ButtonsReply)
    assert ids(decision) == ["register", "team"]
    assert reply.text == said(PACK, language, "msme.welcome")
    assert all(len(button.title) <= 20 for button in reply.buttons)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_onboarding_collects_everything_and_emits_onboarding_completed(language: str) -> None:
    chat = at_name(language)

    sectors = chat.say("Ravi Kumar")
    listed = "\n".join(f"{i}. {sector_title(language, s)}" for i, s in enumerate(SECTORS, 1))
    assert text_of(sectors) == said(PACK, language, "msme.ask_sector", name="Ravi Kumar", options=listed)
    chat.walk("3", "400 001")
    confirm = chat.say("098765 43210")
    assert ids(confirm) == ["confirm", "edit"]
    assert text_of(confirm) == said(PACK, language, "msme.confirm", name="Ravi Kumar", pincode="400001",
                                    phone="+919876543210", **{"sector.title": sector_title(language, "Technology")})

    decision = chat.say(choice="confirm")

    assert decision.events == (FlowEvent(
        name="onboarding.completed", contact_key=KEY, contact_label=LABEL, at=chat.now,
        fields={"name": "Ravi Kumar", "sector": "Technology", "pincode": "400001", "phone": "+919876543210",
                "login_link": LOGIN, "user_type": "MSME"}),)
    assert text_of(decision) == said(PACK, language, "msme.done", name="Ravi Kumar", phone="+919876543210",
                                     marketplace="MSMEBazaar", login_url=LOGIN)
    assert LOGIN in text_of(decision)


def test_the_english_confirmation_reads_as_the_marketplace_writes() -> None:
    assert text_of(at_confirm().say("hmm")).endswith(
        "Please check your details:\n\n👤 Name: Ravi Kumar\n🏭 Sector: Technology\n📍 Pincode: 400001\n"
        "📱 Mobile: +919876543210\n\nIs everything correct?")


@pytest.mark.parametrize(("typed", "sector"), [
    ("1", "Manufacturing"), ("12", "Other"), ("९", "Food & Beverage"), ("Food & Beverage", "Food & Beverage"),
    ("food", "Food & Beverage"), ("we run a restaurant", "Food & Beverage"), ("software", "Technology"),
    ("tecnology", "Technology"), ("kirana shop", "Retail"), ("खेती", "Agriculture"), ("वस्त्र", "Textile"),
    ("Kesehatan", "Healthcare"), ("garments", "Textile"), ("automobile", "Automotive"), ("construction", "Construction"),
])
def test_a_sector_is_chosen_by_number_or_words_in_any_language(typed: str, sector: str) -> None:
    chat = at_name().walk("Ravi Kumar")

    decision = chat.say(typed)

    assert decision.conversation.data["sector"] == sector
    assert decision.conversation.step == "onboarding.pincode"


@pytest.mark.parametrize("typed", ["98765 43210", "+91 98765 43210", "098765-43210", "919876543210", "९८७६५४३२१०"])
def test_the_mobile_number_is_normalised_to_plus_91(typed: str) -> None:
    chat = at_name().walk("Ravi Kumar", "3", "400001")

    assert chat.say(typed).conversation.data["phone"] == "+919876543210"


# --- correcting a field -----------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("field", "step", "answer", "key", "value"), [
    ("edit_name", "name", "Sunita Sharma", "name", "Sunita Sharma"),
    ("edit_sector", "sector", "10", "sector", "Textile"),
    ("edit_pincode", "pincode", "560 001", "pincode", "560001"),
    ("edit_phone", "phone", "91234 56789", "phone", "+919123456789"),
])
def test_any_field_can_be_corrected_and_the_confirmation_comes_back(
    language: str, field: str, step: str, answer: str, key: str, value: str
) -> None:
    chat = at_confirm(language)
    edit = chat.say(choice="edit")
    assert isinstance(only(edit), ListReply)
    assert ids(edit) == ["edit_name", "edit_sector", "edit_pincode", "edit_phone", "edit_none"]

    assert chat.say(choice=field).conversation.step == f"onboarding.{step}"
    back = chat.say(answer)

    assert back.conversation.step == "onboarding.confirm"
    assert back.conversation.data[key] == value
    assert "_return" not in back.conversation.data
    assert ids(back) == ["confirm", "edit"]
    (event,) = chat.say(choice="confirm").events
    assert event.fields[key] == value


def test_nothing_to_change_goes_back_to_the_confirmation() -> None:
    chat = at_confirm()
    chat.say("no")

    assert chat.say("Nothing, all good").conversation.step == "onboarding.confirm"


def test_a_corrected_field_that_is_invalid_is_asked_again_before_returning() -> None:
    chat = at_confirm()
    chat.walk("change", "pincode")

    again = chat.say("12345")
    assert again.conversation.step == "onboarding.pincode"
    assert chat.say("110001").conversation.step == "onboarding.confirm"


# --- every validation failure, in every language ----------------------------------------------

Case = Callable[[str], tuple[Chat, str, str]]


def _welcome(language: str) -> tuple[Chat, str, str]:
    chat = Chat(BOT, language)
    chat.say("hello")
    return chat, "what is this?", said(PACK, language, "msme.welcome_retry")


def _at(steps: tuple[str, ...], bad: str, expected: Callable[[str], str]) -> Case:
    def case(language: str) -> tuple[Chat, str, str]:
        return at_name(language).walk(*steps), bad, expected(language)
    return case


def _sector_retry(language: str) -> str:
    listed = "\n".join(f"{i}. {sector_title(language, s)}" for i, s in enumerate(SECTORS, 1))
    return said(PACK, language, "msme.sector_retry", options=listed)


FULL = ("Ravi Kumar", "3", "400001", "9876543210")
FAILURES: dict[str, Case] = {
    "welcome": _welcome,
    "name_too_short": _at((), "R", lambda lang: why(PACK, lang, "name.too_short")),
    "name_digits": _at((), "12345", lambda lang: why(PACK, lang, "name.too_short")),
    "sector_number": _at(FULL[:1], "13", _sector_retry),
    "sector_words": _at(FULL[:1], "xyz", _sector_retry),
    "pincode_short": _at(FULL[:2], "12345", lambda lang: why(PACK, lang, "pincode.invalid")),
    "pincode_zero": _at(FULL[:2], "012345", lambda lang: why(PACK, lang, "pincode.invalid")),
    "phone_short": _at(FULL[:3], "12345", lambda lang: why(PACK, lang, "phone.invalid")),
    "phone_landline": _at(FULL[:3], "022 2345 6789", lambda lang: why(PACK, lang, "phone.not_indian_mobile")),
    "phone_foreign": _at(FULL[:3], "+1 212 555 0100", lambda lang: why(PACK, lang, "phone.not_indian_mobile")),
    "confirmation": _at(FULL, "perhaps", lambda lang: why(PACK, lang, "choice.invalid")),
    "edit": _at((*FULL, "2"), "address", lambda lang: why(PACK, lang, "choice.invalid")),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("failure", FAILURES)
def test_each_invalid_answer_is_explained_in_the_language_and_asked_again(failure: str, language: str) -> None:
    chat, bad, expected = FAILURES[failure](language)
    before = chat.step

    decision = chat.say(bad)

    assert decision.conversation.step == before
    assert decision.conversation.data["_invalid"] == "1"
    assert text_of(decision).startswith(expected)
    assert decision.events == ()


def test_hindi_explanations_are_hindi() -> None:
    chat = at_name("hi").walk("Ravi Kumar", "3")

    assert text_of(chat.say("12345")).startswith("कृपया अपना पिनकोड भेजें: छह अंक, जैसे 400001।")


def test_three_invalid_pincodes_hand_the_registration_to_the_team() -> None:
    chat = at_name().walk("Ravi Kumar", "3", "1", "2")

    decision = chat.say("3")

    assert [type(event) for event in decision.events] == [HandoffRequested]
    assert text_of(decision) == said(PACK, "en", "escalation")
    assert held(chat.conversation) and chat.say("400001").replies == ()


def test_talk_to_our_team_hands_over() -> None:
    chat = Chat(BOT, "hi")
    chat.say("नमस्ते")

    decision = chat.say(choice="team")

    assert text_of(decision) == said(PACK, "hi", "msme.human", marketplace="MSMEBazaar")
    assert [type(event) for event in decision.events] == [HandoffRequested]


@pytest.mark.parametrize(("first", "language"), [("नमस्ते", "hi"), ("register", "en"), ("daftar", "id"), ("hello", "en")])
def test_the_language_is_read_from_the_first_message(first: str, language: str) -> None:
    assert Chat(BOT).say(first).conversation.language == language


def test_arabic_keeps_pincode_phone_and_option_ids_intact() -> None:
    chat = at_name("ar").walk("رافي كومار", "٣", "400001")

    confirm = chat.say("98765 43210")

    assert right_to_left(text_of(confirm))
    assert ids(confirm) == ["confirm", "edit"]
    for kept in ("400001", "+919876543210", "رافي كومار"):
        assert kept in plain(text_of(confirm))
    (event,) = chat.say("نعم").events
    assert event.fields["sector"] == "Technology" and event.fields["phone"] == "+919876543210"

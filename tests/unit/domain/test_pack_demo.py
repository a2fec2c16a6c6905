"""demo: the default bot, a menu leading into the shop, the onboarding and the factory, in all
seven languages; the included packs run inside it as they run alone."""

from __future__ import annotations

import pytest
from pack_chat import Chat, bot_for, ids, only, plain, right_to_left, said, text_of, why

from adapters.packs.files import builtin_pack
from domain.events import HandoffRequested
from domain.flows import FlowEvent, OrderPlaced, missing_tables, missing_translations, validate_pack
from domain.flows.words import LANGUAGES as SPOKEN
from domain.messages import ButtonsReply

BOT = bot_for("demo")
PACK = BOT.current
LANGUAGES = PACK.languages
MENU = ["demo_shop", "demo_msme", "demo_factory"]


def at_menu(language: str) -> Chat:
    chat = Chat(BOT, language)
    chat.say("hi")
    return chat


def into(option: str, language: str) -> Chat:
    chat = at_menu(language)
    chat.say(choice=option)
    return chat


def test_the_demo_speaks_all_seven_languages_and_includes_the_other_packs() -> None:
    assert validate_pack(PACK) == []
    assert set(LANGUAGES) == set(SPOKEN)
    assert missing_translations(PACK) == {}
    assert PACK.includes == ()
    for name in ("shop_orders", "msme_onboarding", "factory_ops"):
        assert set(builtin_pack(name).flows) <= set(PACK.flows)
    assert (PACK.catalogue, PACK.reference) == ("shop_catalogue", "factory_reference")
    assert len(BOT.catalogue.products) == 8 and missing_tables(PACK, BOT.reference) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_first_message_gets_the_demo_menu(language: str) -> None:
    decision = Chat(BOT, language).say("hi")

    reply = only(decision)
    assert isinstance(reply, ButtonsReply)
    assert ids(decision) == MENU
    assert reply.text == said(PACK, language, "demo.welcome")
    assert all(len(button.title) <= 20 for button in reply.buttons)


@pytest.mark.parametrize(("first", "language"), [("hi", "en"), ("halo", "id"), ("नमस्ते", "hi"), ("hola", "es"),
                                                  ("bonjour", "fr"), ("olá", "pt"), ("مرحبا", "ar")])
def test_the_language_is_read_from_the_first_message(first: str, language: str) -> None:
    decision = Chat(BOT).say(first)

    assert decision.conversation.language == language
    assert only(decision).text == said(PACK, language, "demo.welcome")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shop_takes_an_order_inside_the_demo(language: str) -> None:
    chat = into("demo_shop", language)
    assert chat.step == "shop.menu"
    chat.say(choice="order")

    decision = chat.walk("kopi", "2", "Ana Wijaya", "Jl. Mawar 12").say(choice="confirm")

    (event,) = decision.events
    assert isinstance(event, OrderPlaced) and event.order.total == 90_000
    assert "Rp 90.000" in plain(text_of(decision)) and f"#{event.number}" in plain(text_of(decision))
    chat.say("menu")
    chat.say(choice="demo_shop")
    chat.say(choice="track")
    assert event.number in plain(text_of(chat.say(event.number)))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_business_registers_inside_the_demo(language: str) -> None:
    chat = into("demo_msme", language)
    assert chat.step == "onboarding.welcome"
    chat.say(choice="register")

    decision = chat.walk("Ravi Kumar", "9", "400001", "9876543210").say(choice="confirm")

    (event,) = decision.events
    assert isinstance(event, FlowEvent) and event.name == "onboarding.completed"
    assert event.fields["sector"] == "Food & Beverage" and event.fields["login_link"] == "https://msmebazaar.in/login"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_factory_looks_things_up_inside_the_demo(language: str) -> None:
    chat = into("demo_factory", language)
    assert ids(chat.say("hmm")) == ["defect", "order_status", "maintenance", "sop", "sla", "bom"]
    chat.say("6")

    assert "BOM VB-12 — Valve body" in plain(text_of(chat.say("VB-12")))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("option", "walked", "bad", "code"), [
    ("demo_shop", ("2", "5"), "200", "quantity.over_stock"),
    ("demo_msme", ("1", "Ravi Kumar", "3"), "1234", "pincode.invalid"),
    ("demo_msme", ("1", "Ravi Kumar", "3", "400001"), "555", "phone.invalid"),
])
def test_a_guest_pack_explains_invalid_answers_in_the_demo_language(
    language: str, option: str, walked: tuple[str, ...], bad: str, code: str
) -> None:
    chat = into(option, language).walk(*walked)

    decision = chat.say(bad)

    params = {"stock": "80"} if code == "quantity.over_stock" else {}
    assert text_of(decision).startswith(why(PACK, language, code, **params))
    assert decision.conversation.data["_invalid"] == "1"


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_invalid_menu_choice_is_asked_again_then_handed_to_a_person(language: str) -> None:
    chat = at_menu(language)

    again = chat.say("pizza")
    assert text_of(again) == said(PACK, language, "demo.menu_retry")
    assert ids(again) == MENU
    chat.say("pizza")
    decision = chat.say("pizza")

    assert text_of(decision) == said(PACK, language, "escalation")
    assert [type(event) for event in decision.events] == [HandoffRequested]


@pytest.mark.parametrize("language", LANGUAGES)
def test_menu_inside_a_guest_comes_back_to_the_demo_and_help_is_the_demos(language: str) -> None:
    chat = into("demo_factory", language).walk("4")

    assert text_of(chat.say("help")) == said(PACK, language, "help")
    assert chat.say("menu").conversation.step == "main.menu"


@pytest.mark.parametrize(("first", "step"), [("cek pesanan", "track.ask"), ("register", "onboarding.welcome"),
                                             ("sop", "sop.ask"), ("beli", "order.pick")])
def test_the_guests_triggers_work_in_the_demo(first: str, step: str) -> None:
    assert Chat(BOT).say(first).conversation.step == step


def test_a_language_word_switches_the_question_in_progress() -> None:
    chat = into("demo_msme", "en").walk("1")

    decision = chat.say("español")

    assert decision.conversation.language == "es"
    assert text_of(decision) == said(PACK, "es", "msme.ask_name")


def test_arabic_menus_read_right_to_left_with_ids_and_numbers_intact() -> None:
    chat = at_menu("ar")
    chat.say("1")
    in_stock = ["beras", "minyak", "gula", "kopi", "teh", "mie", "susu"]

    catalogue = chat.say("1")
    retried = chat.say("xyz")

    assert right_to_left(text_of(catalogue)) and right_to_left(text_of(retried))
    assert "1. Beras Pandan Wangi 5 kg — Rp 78.000 (المتوفر: 25)" in plain(text_of(catalogue))
    assert ids(catalogue) == ids(retried) == in_stock

"""shop_orders: an Indonesian shop's catalogue, an order placed PENDING, "where is my order".

Walked through FlowBot with the shipped catalogue, in each language the pack speaks; the
application's part (storing orders, answering an order lookup) is played by ``pack_chat``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from msgspec.structs import replace
from pack_chat import Chat, bot_for, held, ids, only, plain, right_to_left, said, text_of, why

from domain.conversations import Turn
from domain.events import HandoffRequested
from domain.flows import Catalogue, FlowBot, LookupRequested, OrderPlaced, Product, money, validate_pack
from domain.flows.texts import lookup, render
from domain.messages import ButtonsReply, ListReply, TextReply
from domain.orders import OrderItem, OrderState, cancel, complete, confirm

BOT = bot_for("shop_orders")
PACK = BOT.current
LANGUAGES = PACK.languages
MENU = ["catalogue", "order", "track", "human"]
IN_STOCK = ["beras", "minyak", "gula", "kopi", "teh", "mie", "susu"]


def at_menu(language: str = "id") -> Chat:
    chat = Chat(BOT, language)
    chat.say("halo")
    return chat


def at_quantity(language: str = "id") -> Chat:
    chat = at_menu(language)
    chat.say(choice="order")
    chat.say("2")  # Minyak Goreng 2 L, Rp 36.500, 40 in stock
    return chat


def at_confirm(language: str = "id") -> Chat:
    return at_quantity(language).walk("3", "Ana Wijaya", "Jl. Mawar 12, Bandung")


def placed(language: str = "id") -> tuple[Chat, str]:
    chat = at_confirm(language)
    decision = chat.say(choice="confirm")
    (event,) = decision.events
    assert isinstance(event, OrderPlaced)
    return chat, event.number


def test_the_pack_is_valid_indonesian_first_and_names_its_catalogue() -> None:
    assert validate_pack(PACK) == []
    assert (PACK.default_language, PACK.catalogue) == ("id", "shop_catalogue")
    assert {"id", "en"} <= set(LANGUAGES)
    assert [p.id for p in BOT.catalogue.in_stock] == IN_STOCK


# --- the menu and the catalogue -------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_first_message_gets_the_menu_in_one_list(language: str) -> None:
    decision = Chat(BOT, language).say("halo")

    reply = only(decision)
    assert isinstance(reply, ListReply)
    assert ids(decision) == MENU
    assert reply.text == said(PACK, language, "shop.welcome")
    assert all(len(option.title) <= 24 for option in reply.options)


def test_the_first_message_in_indonesian_reads_as_the_shop_writes() -> None:
    decision = Chat(BOT).say("Halo kak")

    assert decision.conversation.language == "id"
    assert text_of(decision).startswith("Halo, selamat datang di Toko Berkah Jaya! 👋")
    assert [o.title for o in only(decision).options] == ["Lihat katalog", "Pesan sekarang", "Cek pesanan",
                                                         "Chat dengan admin"]


def catalogue_line(language: str, number: int, product: Product) -> str:
    values = {"number": str(number), "name": product.name, "price": money(product.price, "IDR"), "stock": str(product.stock)}
    return render(lookup(PACK, language, "catalogue.line"), values)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_shows_prices_and_stock_and_offers_what_is_in_stock(language: str) -> None:
    decision = at_menu(language).say(choice="catalogue")

    assert decision.conversation.step == "order.pick"
    text = plain(text_of(decision))
    for number, product in enumerate(BOT.catalogue.in_stock, 1):
        assert catalogue_line(language, number, product) in text
    sold_out = render(lookup(PACK, language, "catalogue.sold_out"), {"name": "Telur Ayam 1 kg", "price": "Rp 29.000"})
    assert sold_out in text
    reply = only(decision)
    assert isinstance(reply, ListReply) and ids(decision) == IN_STOCK
    assert reply.options[1].description == "Rp 36.500"


def test_the_indonesian_catalogue_numbers_the_products_in_stock() -> None:
    text = text_of(at_menu().say("1"))

    assert "1. Beras Pandan Wangi 5 kg — Rp 78.000 (stok 25)\n2. Minyak Goreng 2 L — Rp 36.500 (stok 40)" in text
    assert "✖️ Telur Ayam 1 kg — Rp 29.000 (stok habis)" in text


@pytest.mark.parametrize("text", ["2", "minyak", "Minyak Goreng 2 L", "MINYAK GORENG", "minyk goreng", "oil", "aceite", "٢"])
def test_a_product_is_chosen_by_number_name_word_or_a_small_typo(text: str) -> None:
    chat = at_menu()
    chat.say(choice="order")

    decision = chat.say(text)

    assert decision.conversation.data["product"] == "minyak"
    assert text_of(decision) == "Minyak Goreng 2 L — Rp 36.500, stok tersedia 40.\nMau pesan berapa?"


# --- the happy path -------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_order_is_placed_pending_with_its_total_and_number(language: str) -> None:
    chat = at_quantity(language)

    asked = chat.say("3")
    assert text_of(asked) == said(PACK, language, "shop.ask_name", quantity="3", product_name="Minyak Goreng 2 L",
                                  total="Rp 109.500")
    chat.walk("Ana Wijaya", "Jl. Mawar 12, Bandung")
    assert chat.step == "order.confirm"

    decision = chat.say(choice="confirm")

    (event,) = decision.events
    assert isinstance(event, OrderPlaced)
    assert event.order.items == (OrderItem(product_id="minyak", name="Minyak Goreng 2 L", unit_price=36_500, quantity=3),)
    assert (event.order.total, event.order.currency, event.order.state) == (109_500, "IDR", OrderState.PENDING)
    assert (event.order.name, event.order.address) == ("Ana Wijaya", "Jl. Mawar 12, Bandung")
    assert len(event.number) == 6 and event.number.isalnum()
    assert text_of(decision) == said(PACK, language, "shop.placed", name="Ana Wijaya", order_number=event.number,
                                     quantity="3", product_name="Minyak Goreng 2 L", total="Rp 109.500",
                                     address="Jl. Mawar 12, Bandung")
    assert f"#{event.number}" in text_of(decision)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_summary_asks_to_confirm_with_three_buttons(language: str) -> None:
    chat = at_quantity(language).walk("3", "Ana Wijaya")

    decision = chat.say("Jl. Mawar 12, Bandung")

    reply = only(decision)
    assert isinstance(reply, ButtonsReply)
    assert ids(decision) == ["confirm", "change", "cancel"]
    assert all(len(button.title) <= 20 for button in reply.buttons)
    assert reply.text == said(PACK, language, "shop.summary", quantity="3", product_name="Minyak Goreng 2 L",
                              price="Rp 36.500", total="Rp 109.500", name="Ana Wijaya", address="Jl. Mawar 12, Bandung")


@pytest.mark.parametrize(("language", "yes"), [("id", "ya"), ("en", "yes"), ("hi", "हाँ"), ("es", "sí"), ("fr", "oui"),
                                               ("pt", "sim"), ("ar", "نعم")])
def test_a_typed_yes_places_the_order(language: str, yes: str) -> None:
    decision = at_confirm(language).say(yes)

    assert [type(event) for event in decision.events] == [OrderPlaced]


def test_after_the_order_the_next_message_starts_afresh() -> None:
    chat, _ = placed()

    decision = chat.say("halo lagi")

    assert decision.conversation.step == "shop.menu"
    assert "product" not in decision.conversation.data


def test_change_goes_back_to_the_products_and_cancel_places_nothing() -> None:
    changed = at_confirm().say(choice="change")
    assert changed.conversation.step == "order.pick"
    assert text_of(changed) == "Baik, kita ulang pesanannya. Mau pesan apa?"

    cancelled = at_confirm().say("batal")
    assert cancelled.events == ()
    assert cancelled.conversation.step == "order.cancelled"
    assert at_confirm().say("tidak").conversation.step == "order.pick"


def test_an_order_the_stock_can_no_longer_fill_is_refused_and_begun_again() -> None:
    chat = at_confirm()
    sold = Catalogue(currency="IDR", products=tuple(replace(p, stock=2) if p.id == "minyak" else p
                                                    for p in BOT.catalogue.products))
    chat.bot = FlowBot([PACK], sold, BOT.reference)

    decision = chat.say(choice="confirm")

    assert decision.events == ()
    assert decision.conversation.step == "order.pick"
    assert text_of(decision).startswith("Maaf, stok kami tinggal 2. Mohon pilih 2 atau kurang.")


# --- where is my order ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_where_is_my_order_follows_the_order_from_pending_to_completed(language: str) -> None:
    chat, number = placed(language)
    chat.say("menu")
    asked = chat.say(choice="track")
    assert text_of(asked) == said(PACK, language, "shop.track_ask")

    for move, state in ((None, "shop.state_pending"), (confirm, "shop.state_confirmed"),
                        (complete, "shop.state_completed")):
        if move is not None:
            chat.orders[number] = move(chat.orders[number])
        decision = chat.say(number)
        assert decision.conversation.step == "track.ask"
        assert text_of(decision) == said(PACK, language, "shop.track_found", **{
            "order.number": number, "order.quantity": "3", "order.product": "Minyak Goreng 2 L",
            "order.total": "Rp 109.500", "order.state": lookup(PACK, language, state)})


def test_a_cancelled_order_says_so() -> None:
    chat, number = placed("en")
    chat.orders[number] = cancel(chat.orders[number])

    decision = chat.walk("where is my order").say(number)

    assert "Status: ✖️ Cancelled" in text_of(decision)


@pytest.mark.parametrize("typed", ["{n}", "#{n}", "{l}", "order {n} please", "pesanan #{l} ya"])
def test_the_order_number_is_found_however_it_is_typed(typed: str) -> None:
    chat, number = placed()
    chat.say("cek pesanan")

    decision = chat.say(typed.format(n=number, l=number.lower()))

    assert f"Pesanan #{number}" in text_of(decision)
    assert "Status: ⏳ Menunggu konfirmasi" in text_of(decision)


def test_an_order_lookup_asks_the_application_and_says_nothing_until_it_answers() -> None:
    chat = at_menu()
    chat.say(choice="track")

    decision = BOT.decide(chat.conversation, Turn(text="7K3Q9D", contact_label="Ana", now=chat.now + 1))

    assert decision.replies == ()
    (request,) = decision.events
    assert (request.table, request.query, request.keys) == ("orders", "7K3Q9D", ("7K3Q9D",))
    assert decision.conversation.data["_lookup"] == "7K3Q9D"
    assert BOT.looked_up(at_menu().conversation, Turn(text="x", contact_label="Ana", now=chat.now + 2), None).replies == ()


# --- every validation failure, in every language ----------------------------------------------


def _bad_menu(language: str) -> tuple[Chat, str, str]:
    return at_menu(language), "xyz", said(PACK, language, "shop.menu_retry")


def _bad_product(language: str) -> tuple[Chat, str, str]:
    chat = at_menu(language)
    chat.say(choice="order")
    return chat, "durian", said(PACK, language, "shop.pick_retry")


def _sold_out(language: str) -> tuple[Chat, str, str]:
    chat, _, expected = _bad_product(language)
    return chat, "telur", expected


def _quantity(code: str, typed: str, **params: str) -> Callable[[str], tuple[Chat, str, str]]:
    def case(language: str) -> tuple[Chat, str, str]:
        return at_quantity(language), typed, why(PACK, language, code, **params)
    return case


def _short_name(language: str) -> tuple[Chat, str, str]:
    return at_quantity(language).walk("3"), "A", why(PACK, language, "name.too_short")


def _empty_address(language: str) -> tuple[Chat, str, str]:
    return at_quantity(language).walk("3", "Ana Wijaya"), "   ", why(PACK, language, "text.empty")


def _unclear_confirmation(language: str) -> tuple[Chat, str, str]:
    return at_confirm(language), "hmm", why(PACK, language, "choice.invalid")


def _unknown_order(language: str) -> tuple[Chat, str, str]:
    chat = at_menu(language)
    chat.say(choice="track")
    return chat, "ZZ9ZZ9", said(PACK, language, "shop.track_not_found", query="ZZ9ZZ9")


FAILURES = {
    "menu": _bad_menu, "product": _bad_product, "sold_out": _sold_out,
    "quantity_text": _quantity("quantity.not_a_number", "banyak"),
    "quantity_zero": _quantity("quantity.not_positive", "0"),
    "quantity_over_stock": _quantity("quantity.over_stock", "41", stock="40"),
    "name": _short_name, "address": _empty_address, "confirmation": _unclear_confirmation, "order_number": _unknown_order,
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
    assert all(isinstance(event, LookupRequested) for event in decision.events)


def test_three_invalid_quantities_hand_the_order_to_a_person_then_silence() -> None:
    chat = at_quantity().walk("banyak", "0")

    decision = chat.say("seribu")

    assert text_of(decision) == said(PACK, "id", "escalation")
    assert [type(event) for event in decision.events] == [HandoffRequested]
    assert held(chat.conversation)
    assert chat.say("3").replies == ()


def test_talk_to_us_hands_the_chat_to_the_shop() -> None:
    decision = at_menu().say("4")

    assert text_of(decision).startswith("Baik, admin kami akan membalas")
    (event,) = decision.events
    assert isinstance(event, HandoffRequested) and event.reason == "requested"


@pytest.mark.parametrize(("first", "step", "language"), [
    ("mau beli minyak", "order.pick", "id"), ("cek pesanan", "track.ask", "id"),
    ("where is my order", "track.ask", "en"), ("¿dónde está mi pedido?", "track.ask", "es"),
    ("I want to buy rice", "order.pick", "en"),
])
def test_a_trigger_in_the_first_message_opens_its_flow(first: str, step: str, language: str) -> None:
    decision = Chat(BOT).say(first)

    assert (decision.conversation.step, decision.conversation.language) == (step, language)


# --- Arabic ------------------------------------------------------------------------------------


def test_arabic_reads_right_to_left_with_its_numbers_and_option_ids_intact() -> None:
    chat = at_menu("ar")
    assert ids(chat.say("xyz")) == MENU
    chat.say(choice="order")
    chat.walk("2", "٣", "أحمد", "شارع 5، دبي")
    summary = chat.say("")  # an empty answer: the summary again, explained
    assert ids(summary) == ["confirm", "change", "cancel"]

    decision = chat.say("1")

    (event,) = decision.events
    text = text_of(decision)
    assert right_to_left(text) and right_to_left(text_of(summary))
    for number in (f"#{event.number}", "Rp 109.500", "3 × Minyak Goreng 2 L"):
        assert number in plain(text)
    assert event.order.total == 109_500
    assert isinstance(only(chat.say("مساعدة")), TextReply)

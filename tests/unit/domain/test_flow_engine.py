"""FlowBot over a small pack written here: a menu, an order from a catalogue, a sign-up, a person."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from domain.conversations import Conversation, Decision, Turn
from domain.events import HandoffRequested
from domain.flows import Catalogue, FlowBot, FlowEvent, NoPack, OrderPlaced, Pack, Product, decode_pack, validate_pack
from domain.flows.detection import detect_language
from domain.flows.texts import lookup, missing_translations
from domain.messages import ButtonsReply, ListReply, MediaReply, reply_options
from domain.orders import OrderItem, OrderState

KEY, LABEL = "whatsapp:+919876543210", "Ravi (+919876543210)"
CATALOGUE = Catalogue(
    currency="IDR",
    products=(
        Product(id="kopi", name="Kopi Susu", price=25_000, stock=5, words=("coffee",)),
        Product(id="teh", name="Teh Manis", price=10_000, stock=0),
        Product(id="roti", name="Roti Bakar", price=15_000, stock=20),
    ),
)

PACK: dict[str, Any] = {
    "name": "shop",
    "version": 1,
    "default_language": "en",
    "languages": ["en", "id", "es", "fr", "pt", "ar", "hi"],
    "values": {"shop": "Warung Ana"},
    "menu": "main",
    "flows": {
        "main": {
            "start": "menu",
            "steps": {
                "menu": {
                    "prompt": {"type": "buttons", "text": "welcome"},
                    "accepts": {"type": "choice", "options": [
                        {"id": "order", "title": "opt_order", "words": ["buy", "beli"], "next": "order.pick"},
                        {"id": "signup", "title": "opt_signup", "next": "signup.name"},
                        {"id": "human", "title": "opt_human", "words": ["person", "agent"], "next": "human"},
                    ]},
                    "retry": "menu_retry",
                },
                "human": {"prompt": {"type": "text", "text": "human"}, "on_complete": [{"type": "handoff"}]},
            },
        },
        "order": {
            "triggers": ["order", "pesan"],
            "start": "pick",
            "steps": {
                "pick": {
                    "prompt": {"type": "list", "text": "pick", "button": "products"},
                    "accepts": {"type": "product", "next": "quantity"},
                },
                "quantity": {
                    "prompt": {"type": "text", "text": "quantity"},
                    "accepts": {"type": "text", "validator": "quantity", "store_as": "quantity",
                                "stock_from": "product", "next": "name"},
                },
                "name": {
                    "prompt": {"type": "text", "text": "ask_name"},
                    "accepts": {"type": "text", "validator": "name", "store_as": "name", "next": "address"},
                },
                "address": {
                    "prompt": {"type": "text", "text": "address"},
                    "accepts": {"type": "text", "store_as": "address", "next": "confirm"},
                },
                "confirm": {
                    "prompt": {"type": "buttons", "text": "confirm"},
                    "accepts": {"type": "choice", "options": [
                        {"id": "yes", "title": "yes", "next": "placed"},
                        {"id": "no", "title": "no", "next": "pick", "next_text": "again"},
                    ]},
                },
                "placed": {
                    "prompt": {"type": "media", "kind": "image", "url": "https://example.com/thanks.png",
                               "caption": "placed"},
                    "on_complete": [{"type": "create_order"}],
                },
            },
        },
        "signup": {
            "triggers": ["register", "daftar"],
            "start": "name",
            "steps": {
                "name": {
                    "prompt": {"type": "text", "text": "ask_name"},
                    "accepts": {"type": "text", "validator": "name", "store_as": "name", "next": "pincode"},
                },
                "pincode": {
                    "prompt": {"type": "text", "text": "pincode"},
                    "accepts": {"type": "text", "validator": "pincode", "store_as": "pincode", "next": "phone"},
                },
                "phone": {
                    "prompt": {"type": "text", "text": "phone"},
                    "accepts": {"type": "text", "validator": "indian_mobile", "store_as": "phone", "next": "staff"},
                },
                "staff": {
                    "prompt": {"type": "text", "text": "staff"},
                    "accepts": {"type": "text", "validator": "number", "store_as": "staff", "next": "whatsapp"},
                },
                "whatsapp": {
                    "prompt": {"type": "text", "text": "whatsapp"},
                    "accepts": {"type": "text", "validator": "yes_no", "store_as": "whatsapp", "next": "done"},
                },
                "done": {
                    "prompt": {"type": "text", "text": "signed_up"},
                    "on_complete": [{"type": "emit_event", "name": "signup.completed",
                                     "fields": {"name": "name", "pincode": "pincode", "phone": "phone"}}],
                },
            },
        },
    },
    "texts": {
        "en": {
            "welcome": "Welcome to {shop}! What would you like?",
            "menu_retry": "Please pick one of these:",
            "opt_order": "Order", "opt_signup": "Sign up", "opt_human": "Talk to a person",
            "human": "A person will answer you soon.",
            "pick": "Which product?", "products": "Products",
            "quantity": "How many {product_name} ({price} each)?",
            "ask_name": "Your name?", "address": "Your address?",
            "confirm": "{quantity} x {product_name} = {total}, to {name}. Confirm?",
            "yes": "Yes", "no": "No", "again": "No problem, pick again:",
            "placed": "Thank you {name}, your order is placed.",
            "pincode": "Your PIN code?", "phone": "Your mobile number?", "staff": "How many staff?",
            "whatsapp": "Is this your WhatsApp number?", "signed_up": "You are registered, {name}.",
            "help": "Type menu, restart or stop.", "opted_out": "You will hear nothing more. Type start.",
            "escalation": "A person will help you from here.",
        },
        "id": {"welcome": "Selamat datang di {shop}!", "opt_order": "Pesan", "help": "Ketik menu.",
               "ask_name": "Nama Anda?"},
        "es": {"welcome": "¡Bienvenido a {shop}!", "help": "Escribe menú."},
        "fr": {"welcome": "Bienvenue chez {shop} !", "help": "Tapez menu."},
        "pt": {"welcome": "Bem-vindo à {shop}!", "help": "Digite menu."},
        "ar": {"welcome": "مرحبا بك في {shop}!", "help": "اكتب قائمة."},
        "hi": {"welcome": "{shop} में आपका स्वागत है!", "help": "मेनू लिखें।"},
    },
}


def pack(version: int = 1, **changes: Any) -> Pack:
    raw = copy.deepcopy(PACK) | {"version": version} | changes
    return decode_pack(msgspec.json.encode(raw))


BOT = FlowBot([pack()], CATALOGUE)
STEPS = BOT.current.step_refs() | {"start"}


def turn(text: str = "", choice_id: str | None = None, now: float = 2.0) -> Turn:
    return Turn(text=text, choice_id=choice_id, contact_label=LABEL, now=now)


def say(conversation: Conversation, text: str = "", choice_id: str | None = None, bot: FlowBot = BOT) -> Decision:
    decision = bot.decide(conversation, turn(text, choice_id))
    assert len(decision.replies) <= 1
    assert decision.conversation.step in bot.current.step_refs() | {"start"}
    return decision


def walk(conversation: Conversation, *messages: str, bot: FlowBot = BOT) -> Conversation:
    for text in messages:
        conversation = say(conversation, text, bot=bot).conversation
    return conversation


def fresh(language: str | None = None, bot: FlowBot = BOT) -> Conversation:
    return bot.start(KEY, now=1.0, language=language)


def text_of(decision: Decision) -> str:
    (reply,) = decision.replies
    return reply.caption if isinstance(reply, MediaReply) else reply.text


def at_menu() -> Conversation:
    return say(fresh("en"), "hi").conversation


def test_the_test_pack_is_valid() -> None:
    assert validate_pack(BOT.current) == []


def test_a_pack_without_leads_keeps_no_lead() -> None:
    assert fresh().lead is None


# --- choices -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "choice_id", "step"),
    [("", "order", "order.pick"), ("1", None, "order.pick"), ("ORDER", None, "order.pick"),
     ("I want to buy", None, "order.pick"), ("ordr", None, "order.pick"), ("2", None, "signup.name"),
     ("Sign up", None, "signup.name"), ("talk to a person please", None, "main.human"),
     ("Pesan", None, "order.pick"), ("٢", None, "signup.name"), ("२", None, "signup.name")],
)
def test_an_option_is_picked_by_id_number_words_title_or_a_small_typo(
    text: str, choice_id: str | None, step: str
) -> None:
    assert say(at_menu(), text, choice_id).conversation.step == step


@pytest.mark.parametrize("text", ["Kopi Susu", "kopi", "kopi suso", "kpoi susu", "coffee", "1", "KOPI SÚSU"])
def test_a_product_is_picked_by_number_name_word_or_a_typo(text: str) -> None:
    picking = say(at_menu(), "1")
    (reply,) = picking.replies
    assert isinstance(reply, ListReply)
    assert [option.id for option in reply.options] == ["kopi", "roti"]  # teh is out of stock
    assert reply.options[0].description == "Rp 25.000"

    decision = say(picking.conversation, text)

    assert decision.conversation.data["product"] == "kopi"
    assert text_of(decision) == "How many Kopi Susu (Rp 25.000 each)?"


def test_a_word_naming_two_options_picks_none() -> None:
    decision = say(at_menu(), "buy or sign up")

    (reply,) = decision.replies
    assert reply.text == "Please pick one of these:"
    assert [b.id for b in reply_options(reply)] == ["order", "signup", "human"]


def test_an_invalid_choice_without_a_retry_text_explains_and_offers_the_options_again() -> None:
    conversation = walk(at_menu(), "1", "kopi", "2", "Ravi", "Jl. Mawar 1")

    decision = say(conversation, "maybe")

    (reply,) = decision.replies
    assert isinstance(reply, ButtonsReply)
    assert reply.text.startswith("Sorry, I couldn't use that answer.")
    assert reply.text.endswith("2 x Kopi Susu = Rp 50.000, to Ravi. Confirm?")


# --- an order ------------------------------------------------------------------------------


def test_an_order_is_placed_pending_with_its_total() -> None:
    conversation = walk(at_menu(), "1", "kopi", "2 pcs", "Ravi Kumar", "Jl. Mawar 1, Bandung")

    decision = say(conversation, "", "yes")

    (reply,) = decision.replies
    assert reply == MediaReply(kind="image", url="https://example.com/thanks.png",
                               caption="Thank you Ravi Kumar, your order is placed.")
    (event,) = decision.events
    assert isinstance(event, OrderPlaced)
    assert event.order.items == (OrderItem(product_id="kopi", name="Kopi Susu", unit_price=25_000, quantity=2),)
    assert (event.order.total, event.order.state, event.order.currency) == (50_000, OrderState.PENDING, "IDR")
    assert (event.order.name, event.order.address) == ("Ravi Kumar", "Jl. Mawar 1, Bandung")
    assert (event.contact_key, event.contact_label, event.at) == (KEY, LABEL, 2.0)


def test_a_quantity_over_the_stock_is_asked_again_politely() -> None:
    conversation = walk(at_menu(), "1", "kopi")

    decision = say(conversation, "9")

    assert text_of(decision) == "Sorry, we only have 5 left. Could you choose 5 or fewer?\n\nHow many Kopi Susu (Rp 25.000 each)?"
    assert decision.conversation.step == "order.quantity"


def test_an_order_the_stock_can_no_longer_fill_is_refused_and_begun_again() -> None:
    conversation = walk(at_menu(), "1", "kopi", "5", "Ravi", "Jl. Mawar 1")
    sold_out = Catalogue(products=(Product(id="kopi", name="Kopi Susu", price=25_000, stock=1),))
    bot = FlowBot([BOT.current], sold_out)

    decision = bot.decide(conversation, turn("yes"))

    assert decision.events == ()
    assert decision.conversation.step == "order.pick"
    assert text_of(decision).startswith("Sorry, we only have 1 left.")


def test_a_trigger_word_at_a_choice_opens_its_flow() -> None:
    assert say(at_menu(), "register").conversation.step == "signup.name"
    assert say(at_menu(), "i'd like to order something").conversation.step == "order.pick"


def test_no_goes_back_with_the_next_text() -> None:
    decision = say(walk(at_menu(), "1", "kopi", "1", "Ravi", "Jl. Mawar 1"), "no")

    assert decision.conversation.step == "order.pick"
    assert text_of(decision) == "No problem, pick again:"


# --- validators ----------------------------------------------------------------------------


def at_signup() -> Conversation:
    return say(at_menu(), "2").conversation


@pytest.mark.parametrize(
    ("walked", "bad", "explained"),
    [((), "R", "Could you tell me your name, using at least two letters?"),
     (("Ravi",), "1234", "Please send your PIN code: six digits, like 400001."),
     (("Ravi", "400 001"), "12345", "That doesn't look like a phone number."),
     (("Ravi", "400001", "98765 43210"), "many", "Sorry, I couldn't use that answer."),
     (("Ravi", "400001", "98765 43210", "12"), "perhaps", "Sorry, I couldn't use that answer.")],
)
def test_a_rejected_answer_is_explained_then_asked_again(walked: tuple[str, ...], bad: str, explained: str) -> None:
    conversation = walk(at_signup(), *walked)

    decision = say(conversation, bad)

    assert text_of(decision).startswith(explained)
    assert decision.conversation.step == conversation.step
    assert decision.conversation.data["_invalid"] == "1"


def test_a_sign_up_stores_clean_values_and_emits_its_event() -> None:
    conversation = walk(at_signup(), "  Ravi   Kumar ", "400 001", "098765 43210", "1.200")

    decision = say(conversation, "हाँ")

    assert decision.conversation.data.items() >= {
        "name": "Ravi Kumar", "pincode": "400001", "phone": "+919876543210", "staff": "1200", "whatsapp": "yes"
    }.items()
    assert decision.events == (
        FlowEvent(name="signup.completed", contact_key=KEY, contact_label=LABEL,
                  fields={"name": "Ravi Kumar", "pincode": "400001", "phone": "+919876543210"}, at=2.0),
    )
    assert text_of(decision) == "You are registered, Ravi Kumar."


def test_after_a_flow_ends_the_next_message_starts_afresh() -> None:
    conversation = walk(at_signup(), "Ravi", "400001", "9876543210", "3", "yes")

    decision = say(conversation, "order please")

    assert decision.conversation.step == "order.pick"
    assert "name" not in decision.conversation.data


# --- invalid answers and people ------------------------------------------------------------


def test_three_invalid_answers_hand_over_once_then_silence_until_release() -> None:
    conversation = walk(at_signup(), "x", "y")

    decision = say(conversation, "z")

    assert text_of(decision) == "A person will help you from here."
    assert decision.events == (
        HandoffRequested(contact_key=KEY, contact_label=LABEL, reason="invalid_answers", last_text="z", at=2.0),
    )
    held = decision.conversation
    for text in ("Ravi", "menu", "help", "stop", "start", "language es"):
        assert say(held, text) == Decision(conversation=replace(held, updated_at=2.0))
    assert BOT.expire(held, now=99.0) == held

    released = BOT.release(held, now=50.0)
    assert released.updated_at == 50.0
    back = say(released, "Ravi")
    assert back.conversation.step == "main.menu"
    assert "_invalid" not in back.conversation.data


def test_a_valid_answer_ends_the_run_of_invalid_ones() -> None:
    conversation = walk(at_signup(), "x", "x", "Ravi", "1", "1")

    assert conversation.data["_invalid"] == "2"
    assert conversation.step == "signup.pincode"


def test_asking_for_a_person_hands_over_with_the_reason_requested() -> None:
    decision = say(at_menu(), "3")

    assert text_of(decision) == "A person will answer you soon."
    (event,) = decision.events
    assert isinstance(event, HandoffRequested) and event.reason == "requested"
    assert say(decision.conversation, "hello?").replies == ()


# --- global words in every language ---------------------------------------------------------


@pytest.mark.parametrize("word", ["help", "ayuda", "aide", "ajuda", "bantuan", "مساعدة", "मदद", "/help"])
def test_help_is_heard_in_every_language_and_changes_nothing(word: str) -> None:
    conversation = walk(at_signup(), "Ravi")

    decision = say(conversation, word)

    assert text_of(decision) == "Type menu, restart or stop."
    assert decision.conversation == replace(conversation, updated_at=2.0)


@pytest.mark.parametrize("word", ["menu", "menú", "Menu principal", "القائمة", "मेनू"])
def test_menu_is_heard_in_every_language(word: str) -> None:
    decision = say(walk(at_signup(), "Ravi"), word)

    assert decision.conversation.step == "main.menu"
    assert "name" not in decision.conversation.data


@pytest.mark.parametrize("word", ["restart", "reiniciar", "recommencer", "ulang"])
def test_restart_clears_the_answers(word: str) -> None:
    decision = say(walk(at_signup(), "Ravi"), word)

    assert decision.conversation.step == "main.menu"
    assert decision.conversation.data == {"_pack": "1"}


@pytest.mark.parametrize(("stop", "start"), [("stop", "start"), ("parar", "começar"), ("arrêter", "commencer"),
                                             ("توقف", "ابدأ"), ("बंद", "शुरू"), ("berhenti", "mulai")])
def test_stop_opts_out_of_everything_until_start(stop: str, start: str) -> None:
    opted = say(walk(at_signup(), "Ravi"), stop)

    assert opted.conversation.opted_out is True
    assert text_of(opted) == "You will hear nothing more. Type start."
    for text in ("hi", "menu", "help", "1", "restart"):
        assert say(opted.conversation, text).replies == ()
    assert BOT.expire(opted.conversation, now=99.0) == opted.conversation
    back = say(opted.conversation, start)
    assert back.conversation.opted_out is False
    assert back.conversation.step == "main.menu"


def test_a_global_word_inside_a_sentence_is_an_answer() -> None:
    decision = say(at_signup(), "Stop Menu")

    assert decision.conversation.data["name"] == "Stop Menu"


# --- languages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "language"),
    [("hola", "es"), ("Buenos días", "es"), ("bonjour", "fr"), ("olá", "pt"), ("oi", "pt"), ("مرحبا", "ar"),
     ("السلام عليكم", "ar"), ("नमस्ते", "hi"), ("namaste ji", "hi"), ("halo", "id"), ("selamat pagi", "id"),
     ("hi", "en"), ("hello", "en"), ("ok", "en"), ("123", "en")],
)
def test_the_language_is_detected_from_the_first_message(first: str, language: str) -> None:
    decision = say(fresh(), first)

    assert decision.conversation.language == language
    assert decision.conversation.step == "main.menu"


def test_the_welcome_is_in_the_detected_language_and_a_missing_text_falls_back_to_english() -> None:
    decision = say(fresh(), "hola")

    (reply,) = decision.replies
    assert reply.text == "¡Bienvenido a Warung Ana!"
    assert [b.title for b in reply.buttons] == ["Order", "Sign up", "Talk to a person"]


def test_the_language_is_only_detected_once_and_not_when_it_is_known() -> None:
    assert say(at_menu(), "hola").conversation.language == "en"
    assert say(fresh("id"), "bonjour").conversation.language == "id"


def test_a_detected_language_the_pack_lacks_keeps_the_default() -> None:
    narrow = FlowBot([pack(languages=["en", "id"], texts={k: PACK["texts"][k] for k in ("en", "id")})])

    assert say(fresh(bot=narrow), "hola", bot=narrow).conversation.language == "en"


@pytest.mark.parametrize("word", ["language id", "bahasa indonesia", "Indonesia", "idioma id", "/id"])
def test_a_language_word_asks_the_current_question_again_in_that_language(word: str) -> None:
    conversation = at_signup()

    decision = say(conversation, word)

    assert decision.conversation.language == "id"
    assert decision.conversation.step == "signup.name"
    assert text_of(decision) == "Nama Anda?"


def test_a_bare_language_word_offers_the_languages_and_the_answer_picks_one() -> None:
    asked = say(at_signup(), "language")

    (reply,) = asked.replies
    assert isinstance(reply, ListReply)
    assert [o.title for o in reply.options][:3] == ["English", "Bahasa Indonesia", "Español"]
    assert say(asked.conversation, "3").conversation.language == "es"
    assert say(asked.conversation, "Français").conversation.language == "fr"
    assert say(asked.conversation, "", "language:ar").conversation.language == "ar"
    not_a_language = say(asked.conversation, "Ravi")
    assert not_a_language.conversation.data["name"] == "Ravi"
    assert "_asked" not in not_a_language.conversation.data


def test_lookup_falls_back_to_english_then_the_key() -> None:
    shop = BOT.current
    assert lookup(shop, "fr", "ask_name") == "Your name?"
    assert lookup(shop, "xx", "welcome") == "Welcome to {shop}! What would you like?"
    assert lookup(shop, "fr", "no_such_key") == "no_such_key"


def test_every_missing_translation_is_listed() -> None:
    missing = missing_translations(BOT.current)

    assert set(missing) == {"id", "es", "fr", "pt", "ar", "hi"}
    assert "opt_order" not in missing["id"] and "opt_order" in missing["es"]
    assert missing["fr"] == sorted(set(PACK["texts"]["en"]) - {"welcome", "help"})


@pytest.mark.parametrize(
    ("text", "language"), [("what is the price", "en"), ("mau info franchise dong", "id"), ("", None), ("ok", None),
                           ("je voudrais commander", "fr"), ("quiero comprar", "es")],
)
def test_detection_is_a_small_heuristic(text: str, language: str | None) -> None:
    assert detect_language(text) == language


# --- versions ------------------------------------------------------------------------------


def test_a_conversation_finishes_its_flow_on_the_version_it_began_on() -> None:
    v2_texts = copy.deepcopy(PACK["texts"])
    v2_texts["en"]["pincode"] = "v2: your PIN code?"
    v2 = pack(2, texts=v2_texts)
    conversation = walk(at_signup(), "Ravi")  # on v1
    bot = FlowBot([BOT.current, v2], CATALOGUE)

    assert text_of(say(conversation, "1", bot=bot)).endswith("\n\nYour PIN code?")
    assert say(conversation, "400001", bot=bot).conversation.data["_pack"] == "1"
    again = say(conversation, "menu", bot=bot).conversation
    assert again.data["_pack"] == "2"
    assert text_of(say(walk(again, "2", "Ravi", bot=bot), "1", bot=bot)).endswith("v2: your PIN code?")


def test_a_conversation_on_a_version_no_longer_given_moves_to_the_newest() -> None:
    conversation = walk(at_signup(), "Ravi")
    bot = FlowBot([pack(3)], CATALOGUE)

    assert bot.pack_for(conversation).version == 3
    assert say(conversation, "400001", bot=bot).conversation.step == "signup.phone"


def test_a_flow_bot_needs_one_pack() -> None:
    with pytest.raises(NoPack):
        FlowBot([])
    with pytest.raises(NoPack):
        FlowBot([pack(), pack(2, name="other")])


# --- expiry --------------------------------------------------------------------------------


def test_expiry_starts_afresh_in_the_same_language() -> None:
    conversation = walk(fresh(), "hola", "2", "Ravi")

    expired = BOT.expire(conversation, now=99.0)

    assert expired == BOT.start(KEY, 99.0, "es")
    assert say(expired, "bonjour").conversation.language == "es"


# --- properties ----------------------------------------------------------------------------

WORDS = st.sampled_from(
    ["1", "2", "3", "kopi", "2 pcs", "Ravi", "400001", "9876543210", "yes", "no", "menu", "help", "restart",
     "stop", "start", "language", "language es", "hola", "order", "register", "", "x"]
)


@given(st.lists(st.one_of(st.text(max_size=40), WORDS), max_size=15), st.sampled_from([None, "en", "hi"]))
def test_no_sequence_of_texts_breaks_the_engine(messages: list[str], language: str | None) -> None:
    conversation = fresh(language)
    for now, text in enumerate(messages, start=2):
        decision = BOT.decide(conversation, turn(text, now=float(now)))
        conversation = decision.conversation
        assert len(decision.replies) <= 1
        assert conversation.step in STEPS
        assert conversation.updated_at == now

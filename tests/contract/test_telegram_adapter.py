"""The Telegram Bot API adapter against python-telegram-bot's own Update shapes and a loopback Bot API.

Webhook bodies come from ``telegram_updates`` (tests/support), which builds them from
python-telegram-bot's objects and serialises them as Telegram posts them; TelegramSender talks
to a ProviderServer standing in for api.telegram.org, which answers ``{"ok": true, "result":
Message}`` as Telegram does (python-telegram-bot parses that result into a Message).
PTB sends method parameters form-encoded, each non-string value as JSON (``reply_markup``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import telegram
from hypothesis import given
from hypothesis import strategies as st
from telegram import Chat

import telegram_updates as tg
from adapters.telegram.bot_api import MalformedUpdate, TelegramSender, parse_update, verify_secret
from application.ports.channels import PermanentFailure, RateLimited, SendReceipt, TemporaryFailure
from domain.contacts import ChatKind, ContactId
from domain.messages import (
    Button,
    ButtonsReply,
    Channel,
    InboundMessage,
    ListReply,
    Location,
    Media,
    MediaReply,
    OutboundMessage,
    Reply,
    SharedContact,
    TextReply,
    reply_text,
)
from provider_server import ProviderServer, RecordedRequest, Response, refused_base_url

# RetryAfter's own constructor reads its deprecated int-valued attribute (PTB 22.2+); not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

SECRET = "s3cr3t_Webhook-Token"
NOW = 1_770_000_000.0
TOKEN = "123456789:AAH-test_token-abc"
ANA_ID = 123456789
ANA = ContactId(channel="telegram", value=f"tg:{ANA_ID}")


def api_path(method: str) -> str:
    return f"/bot{TOKEN}/{method}"


def only(body: bytes) -> InboundMessage:
    (message,) = parse_update(body, now=NOW).messages
    return message


def nothing_in(body: bytes) -> bool:
    return parse_update(body, now=NOW).messages == ()


# --- Secret header -----------------------------------------------------------------------------


def test_the_configured_secret_is_accepted() -> None:
    assert verify_secret(SECRET, SECRET)


@pytest.mark.parametrize("header", [None, "", "s3cr3t", SECRET + "x", SECRET.upper(), "ñandú☃"])
def test_a_missing_or_different_secret_is_rejected(header: str | None) -> None:
    assert not verify_secret(header, SECRET)


def test_nothing_verifies_against_an_empty_secret() -> None:
    assert not verify_secret("", "")
    assert not verify_secret("anything", "")


# --- parse_update: messages --------------------------------------------------------------------


def test_private_text_becomes_one_inbound_message() -> None:
    body = tg.text_update(ANA_ID, "Hi, I want to order", message_id=17, sender=tg.user(ANA_ID, last_name="Souza"))
    assert parse_update(body, now=NOW).messages == (
        InboundMessage(
            channel=Channel.TELEGRAM,
            provider="telegram",
            provider_message_id=f"{ANA_ID}:17",
            contact=ANA,
            chat_kind=ChatKind.USER,
            reply_address=str(ANA_ID),
            received_at=float(tg.DATE),
            text="Hi, I want to order",
            profile_name="Ana Souza",
        ),
    )
    assert only(body).is_from_user and only(body).phone is None


def test_message_ids_are_keyed_by_chat_because_telegram_numbers_them_per_chat() -> None:
    mine = only(tg.text_update(ANA_ID, "a", message_id=5))
    theirs = only(tg.text_update(987654321, "b", message_id=5))
    assert (mine.provider_message_id, theirs.provider_message_id) == (f"{ANA_ID}:5", "987654321:5")


def test_the_same_update_delivered_twice_gives_the_same_message_id() -> None:
    body = tg.text_update(ANA_ID, "again")
    assert only(body).provider_message_id == only(body).provider_message_id


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("/start", "/start"),
        ("/start@MyBot", "/start"),
        ("/start@ChatgateBot promo_42", "/start promo_42"),
        ("/help@MyBot", "/help"),
        ("/menu", "/menu"),
        ("mail me at ana@example.com", "mail me at ana@example.com"),
    ],
)
def test_commands_arrive_as_text_without_the_bot_name(typed: str, text: str) -> None:
    assert only(tg.text_update(ANA_ID, typed)).text == text


def test_profile_name_falls_back_to_the_username() -> None:
    nameless = tg.user(ANA_ID, first_name="", username="ana_s")
    assert only(tg.text_update(ANA_ID, "hi", sender=nameless)).profile_name == "ana_s"


def test_a_message_from_a_bot_is_marked_as_ours() -> None:
    message = only(tg.text_update(ANA_ID, "beep", sender=tg.user(ANA_ID, first_name="Helper", is_bot=True)))
    assert message.from_me and not message.is_from_user


@pytest.mark.parametrize(
    ("chat_type", "chat_id", "kind"),
    [
        (Chat.GROUP, -4001234567, ChatKind.GROUP),
        (Chat.SUPERGROUP, -1001234567890, ChatKind.GROUP),
        (Chat.CHANNEL, -1009876543210, ChatKind.CHANNEL),
    ],
)
def test_group_supergroup_and_channel_chats_are_marked_and_not_from_a_user(
    chat_type: str, chat_id: int, kind: ChatKind
) -> None:
    message = only(tg.group_text_update(ANA_ID, "hello all", chat_id=chat_id, chat_type=chat_type, message_id=3))
    assert (message.chat_kind, message.reply_address) == (kind, str(chat_id))
    assert message.provider_message_id == f"{chat_id}:3"
    assert message.contact == ANA and not message.is_from_user


def test_a_button_press_carries_the_choice_the_label_and_the_ack_token() -> None:
    body = tg.callback_update(ANA_ID, "order_confirm", query_id="4382123456789",
                              buttons=[("Yes, confirm", "order_confirm"), ("Cancel", "order_cancel")])  # fmt: skip
    assert only(body) == InboundMessage(
        channel=Channel.TELEGRAM,
        provider="telegram",
        provider_message_id="cbq:4382123456789",
        contact=ANA,
        reply_address=str(ANA_ID),
        received_at=NOW,
        text="Yes, confirm",
        choice_id="order_confirm",
        profile_name="Ana",
        ack_token="4382123456789",
    )


@pytest.mark.parametrize(
    "body",
    [
        tg.callback_update(ANA_ID, "sku_large", buttons=[("Small", "sku_small")]),
        tg.callback_update(ANA_ID, "sku_large", buttons=None),
        tg.callback_update(ANA_ID, "sku_large", inaccessible=True),
    ],
    ids=["label-not-found", "no-keyboard", "message-too-old"],
)
def test_a_press_whose_label_cannot_be_found_uses_the_data_as_text(body: bytes) -> None:
    message = only(body)
    assert (message.text, message.choice_id, message.reply_address) == ("sku_large", "sku_large", str(ANA_ID))
    assert message.ack_token is not None


def test_a_press_in_a_group_is_marked_as_a_group() -> None:
    group = Chat(id=-1001234567890, type=Chat.SUPERGROUP, title="Owners")
    assert only(tg.callback_update(ANA_ID, "x", chat=group)).chat_kind is ChatKind.GROUP


def test_a_press_under_an_inline_mode_message_is_no_turn() -> None:
    assert nothing_in(tg.callback_update(ANA_ID, "x", inline=True))


@pytest.mark.parametrize("number", ["6281234567890", "+6281234567890", "+62 812-3456-7890"])
def test_sharing_ones_own_contact_gives_the_phone(number: str) -> None:
    message = only(tg.contact_update(ANA_ID, number, contact_user_id=ANA_ID, last_name="Souza"))
    assert message.phone == "+6281234567890"
    assert message.shared_contact == SharedContact(phone="+6281234567890", name="Ana Souza")
    assert message.contact == ANA  # the key stays the Telegram id; the phone links it to WhatsApp


def test_an_own_number_from_abroad_is_read_as_international() -> None:
    assert only(tg.contact_update(ANA_ID, "5511988887777", contact_user_id=ANA_ID)).phone == "+5511988887777"


@pytest.mark.parametrize("contact_user_id", [555000111, None])
def test_someone_elses_contact_is_a_card_and_not_the_users_phone(contact_user_id: int | None) -> None:
    message = only(tg.contact_update(ANA_ID, "0812-3456-7890", contact_user_id=contact_user_id, first_name="Budi",
                                     last_name="Santoso"))  # fmt: skip
    assert message.phone is None
    assert message.shared_contact == SharedContact(phone="+6281234567890", name="Budi Santoso")


def test_a_photo_keeps_its_largest_size_and_its_caption_as_text() -> None:
    message = only(tg.photo_update(ANA_ID, caption="this one please"))
    assert message.media == (Media(kind="image", reference="AgACAgQ-1280x1280", caption="this one please"),)
    assert message.text == "this one please"


def test_the_largest_photo_size_wins_in_any_order() -> None:
    message = only(tg.photo_update(ANA_ID, sizes=((800, 600), (90, 60), (320, 240))))
    assert message.media[0].reference == "AgACAgQ-800x600" and message.text == ""


def test_document_voice_and_location_are_translated() -> None:
    assert only(tg.document_update(ANA_ID, caption="my ID")).media == (
        Media(kind="document", reference="BQACAgQ-doc", mime_type="application/pdf", caption="my ID",
              filename="ktp-scan.pdf"),
    )  # fmt: skip
    assert only(tg.voice_update(ANA_ID)).media == (
        Media(kind="audio", reference="AwACAgQ-voice", mime_type="audio/ogg"),
    )
    assert only(tg.location_update(ANA_ID)).location == Location(latitude=-6.2, longitude=106.816666)


def test_an_edited_message_is_no_new_turn() -> None:
    assert nothing_in(tg.edited_update(ANA_ID, "Hi, I want to order two"))


def test_updates_that_are_not_messages_are_no_turn() -> None:
    assert nothing_in(tg.my_chat_member_update(ANA_ID))
    assert nothing_in(json.dumps({"update_id": 1}).encode())
    news = Chat(id=-1009876543210, type=Chat.CHANNEL, title="News")
    post = telegram.Message(7, tg.when(), news, text="news", sender_chat=news)
    assert nothing_in(tg.encode(telegram.Update(update_id=2, channel_post=post)))


def test_a_sender_that_is_not_a_user_id_is_skipped() -> None:
    assert nothing_in(tg.text_update(ANA_ID, "hi", sender=tg.user(0)))


def test_parsing_with_a_bot_attached_makes_no_request() -> None:
    bot = telegram.Bot(TOKEN, base_url=refused_base_url() + "/bot")
    assert only(tg.text_update(ANA_ID, "hi")).text == "hi"
    assert parse_update(tg.text_update(ANA_ID, "hi"), now=NOW, bot=bot).messages[0].text == "hi"


# --- parse_update: malformed bodies ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"update_id": 1, "message": {',
        b"\xff\xfe",
        b"[]",
        b'"update"',
        b'{"message": {"message_id": 1}}',
        b'{"update_id": "900000001"}',
        b'{"update_id": true}',
        b'{"update_id": 1, "message": "hello"}',
        b'{"update_id": 1, "message": {"message_id": 1}}',
        b'{"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": 5}}',
        b'{"update_id": 1, "callback_query": []}',
    ],
)
def test_a_body_that_is_not_a_readable_update_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedUpdate):
        parse_update(body, now=NOW)


def mutated(body: bytes, *path: str | int, value: Any) -> bytes:
    data = json.loads(body)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "body",
    [
        mutated(tg.photo_update(ANA_ID, caption="c"), "message", "caption", value=5),
        mutated(tg.text_update(ANA_ID, "hi"), "message", "chat", "id", value="abc"),
        mutated(tg.text_update(ANA_ID, "hi"), "message", "message_id", value=None),
        mutated(tg.text_update(ANA_ID, "hi"), "message", "date", value=10**30),
        mutated(tg.callback_update(ANA_ID, "x"), "callback_query", "data", value=["x"]),
    ],
    ids=["caption-int", "chat-id-text", "no-message-id", "date-overflow", "data-list"],
)
def test_an_update_with_a_field_of_the_wrong_type_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedUpdate):
        parse_update(body, now=NOW)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
FIELDS = st.sampled_from(["message_id", "date", "chat", "from", "text", "photo", "contact", "id", "type",
                          "is_bot", "first_name", "data", "message", "user_id", "phone_number", "caption"])  # fmt: skip
SHAPES = st.recursive(JSON, lambda inner: st.dictionaries(FIELDS, inner, max_size=5), max_leaves=20)


@given(st.sampled_from(["message", "callback_query", "edited_message"]), SHAPES)
def test_any_update_shape_parses_or_is_malformed_never_anything_else(kind: str, content: Any) -> None:
    body = json.dumps({"update_id": 1, kind: content}).encode()
    try:
        batch = parse_update(body, now=NOW)
    except MalformedUpdate:
        return
    assert all(isinstance(m, InboundMessage) for m in batch.messages)


# --- TelegramSender against a loopback Bot API -------------------------------------------------


def params(request: RecordedRequest) -> dict[str, Any]:
    """The method's parameters as Telegram reads them (PTB sends JSON values in a form)."""
    assert request.form is not None, request.headers.get("Content-Type")
    fields: dict[str, Any] = {name: values[0] for name, values in request.form.items()}
    if "reply_markup" in fields:
        fields["reply_markup"] = json.loads(fields["reply_markup"])
    return fields


def method_of(request: RecordedRequest) -> str:
    return request.path.rsplit("/", 1)[-1]


def bot_api() -> Callable[[RecordedRequest], Response]:
    """Answers like Telegram: True for answerCallbackQuery, else the new Message, ids from 501."""
    ids = itertools.count(501)

    def answer(request: RecordedRequest) -> Response:
        if method_of(request) == "answerCallbackQuery":
            return Response(200, {"ok": True, "result": True})
        fields = params(request)
        content = {name: fields[name] for name in ("text", "caption") if name in fields}
        return Response(200, {"ok": True, "result": tg.sent_message(fields["chat_id"], next(ids), **content)})

    return answer


def telegram_error(status: int, description: str, **parameters: Any) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Response(status, body)


@pytest.fixture
def api(provider_server: ProviderServer) -> ProviderServer:
    provider_server.default = bot_api()
    return provider_server


@pytest.fixture
async def sender(api: ProviderServer) -> AsyncIterator[TelegramSender]:
    sender = TelegramSender(token=TOKEN, api_base=api.base_url, timeout=2.0)
    await sender.initialize()
    yield sender
    await sender.shutdown()


def outbound(reply: Reply, *, address: str = str(ANA_ID), reply_to: str | None = None) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=1,
        channel=Channel.TELEGRAM,
        provider="telegram",
        contact_key=ANA.key,
        address=address,
        reply=reply,
        reply_to=reply_to,
    )


def keyboard(*buttons: tuple[str, str]) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": text, "callback_data": data}] for text, data in buttons]}


HI = TextReply(text="Hi")


async def test_initialize_and_shutdown_make_no_request(api: ProviderServer) -> None:
    sender = TelegramSender(token=TOKEN, api_base=api.base_url)
    await sender.initialize()
    await sender.shutdown()
    await sender.initialize()  # the container may restart its resources
    await sender.send(outbound(HI))
    await sender.shutdown()
    assert [method_of(r) for r in api.requests] == ["sendMessage"]


async def test_text_goes_to_send_message_with_the_token_in_the_path_and_no_parse_mode(
    sender: TelegramSender, api: ProviderServer
) -> None:
    receipt = await sender.send(outbound(TextReply(text="Hello <b>Ana</b> *5* _x_")))
    (request,) = api.requests
    assert (request.method, request.path) == ("POST", api_path("sendMessage"))
    assert params(request) == {"chat_id": str(ANA_ID), "text": "Hello <b>Ana</b> *5* _x_"}
    assert receipt == SendReceipt(provider_message_id="501")


async def test_long_text_is_split_in_order_and_the_receipt_names_the_first(
    sender: TelegramSender, api: ProviderServer
) -> None:
    text = "\n\n".join(f"Paragraph {n}. " + "word " * 299 + "word" for n in range(6))
    receipt = await sender.send(outbound(TextReply(text=text)))
    texts = [params(r)["text"] for r in api.requests]
    assert len(texts) > 1 and all(len(t) <= 4096 for t in texts)
    assert "\n\n".join(texts) == text
    assert receipt.provider_message_id == "501"


async def test_buttons_become_an_inline_keyboard_one_button_per_row(
    sender: TelegramSender, api: ProviderServer
) -> None:
    buttons = (
        Button(id="order_confirm", title="Yes, confirm"),
        Button(id="order_change", title="Change"),
        Button(id="order_cancel", title="Cancel"),
        Button(id="order_help", title="Talk to a person"),
    )
    await sender.send(outbound(ButtonsReply(text="Confirm your order?", buttons=buttons, footer="Reply within 1 h")))
    (request,) = api.requests
    assert params(request) == {
        "chat_id": str(ANA_ID),
        "text": "Confirm your order?\n\nReply within 1 h",
        "reply_markup": keyboard(*((b.title, b.id) for b in buttons)),
    }


async def test_a_list_becomes_the_same_inline_keyboard(sender: TelegramSender, api: ProviderServer) -> None:
    rows = tuple(Button(id=f"sku_{i}", title=f"Pizza {i}", description=f"{i} slices") for i in range(12))
    await sender.send(outbound(ListReply(text="Pick a size", button_label="See sizes", options=rows)))
    fields = params(api.requests[0])
    assert fields["text"] == "Pick a size"
    assert fields["reply_markup"] == keyboard(*((r.title, r.id) for r in rows))


async def test_a_pressed_button_comes_back_as_its_option(sender: TelegramSender, api: ProviderServer) -> None:
    options = (Button(id="budget_low", title="Below fifty million rupiah, paid in instalments"),
               Button(id="budget_high", title="Above"))  # fmt: skip
    await sender.send(outbound(ButtonsReply(text="Budget?", buttons=options)))
    sent = params(api.requests[0])["reply_markup"]["inline_keyboard"]
    pressed = tg.callback_update(ANA_ID, sent[0][0]["callback_data"],
                                 buttons=[(b["text"], b["callback_data"]) for (b,) in sent])  # fmt: skip
    message = only(pressed)
    assert message.choice_id == "budget_low"
    assert message.text == sent[0][0]["text"] == "Below fifty million rupiah, paid in…"


async def test_an_id_of_exactly_64_bytes_is_a_button(sender: TelegramSender, api: ProviderServer) -> None:
    wide = "é" * 32  # 64 bytes of UTF-8
    await sender.send(outbound(ButtonsReply(text="Pick", buttons=(Button(id=wide, title="Wide"),))))
    assert params(api.requests[0])["reply_markup"] == keyboard(("Wide", wide))


@pytest.mark.parametrize(
    "options",
    [
        (Button(id="ok", title="Fine"), Button(id="é" * 33, title="Too wide")),  # 66 bytes
        (Button(id="x" * 65, title="Too long"),),
        (Button(id="same", title="One"), Button(id="same", title="Two")),
        (Button(id="", title="No id"),),
        (Button(id="a", title="  "),),
        tuple(Button(id=f"o{i}", title=f"Option {i}") for i in range(101)),
    ],
    ids=["over-64-bytes", "over-64-chars", "repeated-id", "empty-id", "blank-title", "over-100"],
)
async def test_options_that_cannot_be_buttons_become_numbered_text(
    sender: TelegramSender, api: ProviderServer, options: tuple[Button, ...]
) -> None:
    reply = ButtonsReply(text="Pick one", buttons=options)
    await sender.send(outbound(reply))
    sent = [params(r) for r in api.requests]
    assert all("reply_markup" not in fields for fields in sent)
    assert "\n".join(fields["text"] for fields in sent) == reply_text(reply).strip()


async def test_a_long_text_with_buttons_puts_the_keyboard_on_the_last_part(
    sender: TelegramSender, api: ProviderServer
) -> None:
    text = "\n\n".join("word " * 500 for _ in range(3)).strip()
    await sender.send(outbound(ButtonsReply(text=text, buttons=(Button(id="ok", title="OK"),))))
    sent = [params(r) for r in api.requests]
    assert len(sent) > 1 and "reply_markup" in sent[-1] and all("reply_markup" not in f for f in sent[:-1])


async def test_the_button_press_is_answered_before_the_reply(sender: TelegramSender, api: ProviderServer) -> None:
    receipt = await sender.send(outbound(HI, reply_to="4382123456789"))
    assert [(method_of(r), params(r)) for r in api.requests] == [
        ("answerCallbackQuery", {"callback_query_id": "4382123456789"}),
        ("sendMessage", {"chat_id": str(ANA_ID), "text": "Hi"}),
    ]
    assert receipt.provider_message_id == "501"


async def test_a_press_too_old_to_answer_does_not_stop_the_reply(sender: TelegramSender, api: ProviderServer) -> None:
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    api.script(api_path("answerCallbackQuery"), [telegram_error(400, too_old)])
    receipt = await sender.send(outbound(HI, reply_to="4382123456789"))
    assert [method_of(r) for r in api.requests] == ["answerCallbackQuery", "sendMessage"]
    assert receipt.provider_message_id == "501"


async def test_a_throttled_answer_to_a_press_is_retried_later_with_the_reply(
    sender: TelegramSender, api: ProviderServer
) -> None:
    throttled = telegram_error(429, "Too Many Requests: retry after 3", retry_after=3)
    api.script(api_path("answerCallbackQuery"), [throttled])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI, reply_to="4382123456789"))
    assert caught.value.retry_after == 3.0
    assert [method_of(r) for r in api.requests] == ["answerCallbackQuery"]


async def test_image_and_document_go_by_url_with_their_caption(sender: TelegramSender, api: ProviderServer) -> None:
    menu, invoice = "https://cdn.example.com/menu.jpg", "https://cdn.example.com/i/42.pdf"
    await sender.send(outbound(MediaReply(kind="image", url=menu, caption="Today's menu")))
    await sender.send(outbound(MediaReply(kind="document", url=invoice, caption="Your invoice", filename="i.pdf")))
    assert [(method_of(r), params(r)) for r in api.requests] == [
        ("sendPhoto", {"chat_id": str(ANA_ID), "photo": menu, "caption": "Today's menu"}),
        ("sendDocument", {"chat_id": str(ANA_ID), "document": invoice, "caption": "Your invoice"}),
    ]


async def test_a_caption_past_1024_characters_follows_as_text(sender: TelegramSender, api: ProviderServer) -> None:
    caption = "word " * 300
    reply = MediaReply(kind="image", url="https://cdn.example.com/a.jpg", caption=caption)
    receipt = await sender.send(outbound(reply))
    (photo, text) = api.requests
    assert (method_of(photo), "caption" in params(photo)) == ("sendPhoto", False)
    assert (method_of(text), params(text)["text"]) == ("sendMessage", caption.strip())
    assert receipt.provider_message_id == "501"


@pytest.mark.parametrize("url", ["/etc/passwd", "file:///etc/passwd", "AgACAgQ-file-id"])
async def test_media_that_is_not_a_web_url_is_refused_without_a_request(
    sender: TelegramSender, api: ProviderServer, url: str
) -> None:
    with pytest.raises(PermanentFailure):
        await sender.send(outbound(MediaReply(kind="document", url=url)))
    assert api.requests == []


async def test_an_empty_reply_is_refused_without_a_request(sender: TelegramSender, api: ProviderServer) -> None:
    with pytest.raises(PermanentFailure):
        await sender.send(outbound(TextReply(text="   ")))
    assert api.requests == []


# --- TelegramSender: failures ------------------------------------------------------------------


async def test_flood_control_is_rate_limited_with_telegrams_retry_after(
    sender: TelegramSender, api: ProviderServer
) -> None:
    api.script(api_path("sendMessage"), [telegram_error(429, "Too Many Requests: retry after 7", retry_after=7)])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI))
    assert (caught.value.retry_after, caught.value.code) == (7.0, "429")
    assert isinstance(caught.value.__cause__, telegram.error.RetryAfter)


@pytest.mark.parametrize(
    ("status", "description", "code"),
    [
        (403, "Forbidden: bot was blocked by the user", "403"),
        (400, "Bad Request: chat not found", "400"),
        (401, "Unauthorized", "401"),
        (404, "Not Found", "401"),
    ],
)
async def test_refusals_are_permanent_with_the_status_as_code(
    sender: TelegramSender, api: ProviderServer, status: int, description: str, code: str
) -> None:
    api.script(api_path("sendMessage"), [telegram_error(status, description)])
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI))
    # PTB drops Telegram's "Bad Request: " prefix and capitalises the rest.
    assert caught.value.code == code and description.split(": ")[-1].lower() in caught.value.reason.lower()
    assert TOKEN not in caught.value.reason


async def test_a_migrated_group_is_permanent_and_names_the_new_chat(
    sender: TelegramSender, api: ProviderServer
) -> None:
    api.script(api_path("sendMessage"), [
        telegram_error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                       migrate_to_chat_id=-1001234567890),
    ])  # fmt: skip
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI, address="-4001234567"))
    assert caught.value.code == "400" and "-1001234567890" in caught.value.reason


@pytest.mark.parametrize(
    "answer",
    [
        telegram_error(500, "Internal Server Error"),
        Response(502, body="<html>Bad Gateway</html>"),
        telegram_error(429, "Too Many Requests"),  # no retry_after: a plain failure to retry
        Response(200, body="<html>captive portal</html>"),
        Response(200, {}),
    ],
    ids=["500", "502-html", "429-without-hint", "200-not-json", "200-without-result"],
)
async def test_server_trouble_is_temporary(sender: TelegramSender, api: ProviderServer, answer: Response) -> None:
    api.script(api_path("sendMessage"), [answer])
    with pytest.raises(TemporaryFailure):
        await sender.send(outbound(HI))


async def test_connection_refused_is_temporary() -> None:
    sender = TelegramSender(token=TOKEN, api_base=refused_base_url())
    await sender.initialize()
    try:
        with pytest.raises(TemporaryFailure) as caught:
            await sender.send(outbound(HI))
    finally:
        await sender.shutdown()
    assert isinstance(caught.value.__cause__, telegram.error.NetworkError)
    assert TOKEN not in caught.value.reason


async def test_a_timeout_is_temporary(api: ProviderServer) -> None:
    api.script(api_path("sendMessage"), [Response(200, {"ok": True, "result": True}, delay=1.0)])
    sender = TelegramSender(token=TOKEN, api_base=api.base_url, timeout=0.2)
    await sender.initialize()
    try:
        with pytest.raises(TemporaryFailure) as caught:
            await sender.send(outbound(HI))
    finally:
        await sender.shutdown()
    assert isinstance(caught.value.__cause__, telegram.error.TimedOut)


async def test_a_failure_part_way_through_a_split_text_raises(sender: TelegramSender, api: ProviderServer) -> None:
    api.script(api_path("sendMessage"), [bot_api(), telegram_error(500, "Internal Server Error")])
    with pytest.raises(TemporaryFailure):
        await sender.send(outbound(TextReply(text="word " * 2000)))
    assert len(api.requests) == 2

"""The Meta WhatsApp Cloud API adapter against Meta's documented shapes and a loopback Graph API.

Webhook bodies are the exact bytes of ``payloads/meta/*.json`` (see the README there), signed
the way Meta signs them; MetaSender talks to a ProviderServer standing in for graph.facebook.com.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.whatsapp.meta import (
    MalformedWebhook,
    MetaSender,
    parse_webhook,
    shorten,
    split_text,
    verification_challenge,
    verify_signature,
)
from adapters.whatsapp.meta import payloads
from application.ports.channels import PermanentFailure, RateLimited, SendReceipt, TemporaryFailure
from domain.contacts import ChatKind, ContactId
from domain.messages import (
    Button,
    ButtonsReply,
    Channel,
    DeliveryState,
    DeliveryStatus,
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

PAYLOADS = Path(__file__).parent / "payloads" / "meta"
SECRET = "app-secret-123"
NOW = 1_770_000_000.0
PHONE_NUMBER_ID = "106540352242922"
TOKEN = "EAAG-test-token"
MESSAGES_PATH = f"/v21.0/{PHONE_NUMBER_ID}/messages"
ANA = ContactId(channel="whatsapp", value="+5511988887777")


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(*values: dict, field: str = "messages") -> bytes:
    changes = [{"field": field, "value": {"messaging_product": "whatsapp", **value}} for value in values]
    body = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]}
    return json.dumps(body).encode()


# --- Signature and handshake ---------------------------------------------------------------


def test_signature_matches_the_documented_vector() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    header = "sha256=20e391a99a86fc5adf7e3a453236d20c906360291977896cf2f671e03bb95703"
    assert verify_signature(body, header, SECRET)


def test_signature_over_the_raw_bytes_of_a_payload_is_accepted() -> None:
    body = payload("text_message")
    assert verify_signature(body, sign(body), SECRET)


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha256"])
def test_missing_or_empty_signature_is_rejected(header: str | None) -> None:
    assert not verify_signature(payload("text_message"), header, SECRET)


def test_signature_made_with_another_secret_is_rejected() -> None:
    body = payload("text_message")
    assert not verify_signature(body, sign(body, "someone-elses-secret"), SECRET)


def test_signature_of_a_tampered_body_is_rejected() -> None:
    body = payload("text_message")
    tampered = body.replace(b"Hi, I want to order", b"Hi, I want a refund")
    assert not verify_signature(tampered, sign(body), SECRET)


def test_signature_without_the_sha256_prefix_is_rejected() -> None:
    body = payload("text_message")
    digest = sign(body).removeprefix("sha256=")
    assert not verify_signature(body, digest, SECRET)
    assert not verify_signature(body, "sha1=" + digest, SECRET)
    assert not verify_signature(body, "SHA256=" + digest, SECRET)


@pytest.mark.parametrize("garbage", ["sha256=not-hex-at-all", "sha256=ñandú☃", "sha256=" + "0" * 64])
def test_garbled_signature_is_rejected_without_raising(garbage: str) -> None:
    assert not verify_signature(payload("text_message"), garbage, SECRET)


def test_uppercase_hex_digest_is_accepted() -> None:
    body = payload("text_message")
    assert verify_signature(body, "sha256=" + sign(body).removeprefix("sha256=").upper(), SECRET)


def test_no_body_verifies_against_an_empty_app_secret() -> None:
    body = payload("text_message")
    assert not verify_signature(body, sign(body, ""), "")


def test_handshake_echoes_the_challenge_when_the_token_matches() -> None:
    assert verification_challenge("subscribe", "our-token", "1158201444", "our-token") == "1158201444"


@pytest.mark.parametrize(
    ("mode", "token", "challenge", "ours"),
    [
        ("subscribe", "wrong-token", "1158201444", "our-token"),
        ("unsubscribe", "our-token", "1158201444", "our-token"),
        (None, "our-token", "1158201444", "our-token"),
        ("subscribe", None, "1158201444", "our-token"),
        ("subscribe", "our-token", None, "our-token"),
        ("subscribe", "", "1158201444", ""),
        ("subscribe", "ñ", "1158201444", "our-token"),
    ],
)
def test_handshake_refuses_anything_else(
    mode: str | None, token: str | None, challenge: str | None, ours: str
) -> None:
    assert verification_challenge(mode, token, challenge, ours) is None


# --- Payload Structs -------------------------------------------------------------------------

PAYLOAD_FILES = sorted(path.stem for path in PAYLOADS.glob("*.json"))


@pytest.mark.parametrize("name", PAYLOAD_FILES)
def test_every_payload_file_decodes_into_the_payload_structs(name: str) -> None:
    notification = msgspec.json.decode(payload(name), type=payloads.Notification)
    assert notification.object == "whatsapp_business_account"
    change = notification.entry[0].changes[0]
    value = msgspec.json.decode(change.value, type=payloads.Value)
    assert value.metadata == payloads.Metadata(
        display_phone_number="15550001111", phone_number_id=PHONE_NUMBER_ID
    )
    for raw in value.messages + value.message_echoes:
        message = msgspec.json.decode(raw, type=payloads.Message)
        assert message.id.startswith("wamid.")
        assert getattr(message, message.type) is not None, f"{message.type} content missing"
    for raw in value.statuses:
        assert isinstance(msgspec.json.decode(raw, type=payloads.Status), payloads.Status)
    for raw in value.contacts:
        assert isinstance(msgspec.json.decode(raw, type=payloads.Contact).profile, payloads.Profile)


def test_interactive_and_media_structs_carry_their_fields() -> None:
    def first_message(name: str) -> payloads.Message:
        change = msgspec.json.decode(payload(name), type=payloads.Notification).entry[0].changes[0]
        value = msgspec.json.decode(change.value, type=payloads.Value)
        return msgspec.json.decode(value.messages[0], type=payloads.Message)

    button = first_message("button_reply")
    assert button.interactive == payloads.Interactive(
        type="button_reply", button_reply=payloads.Reply(id="order_confirm", title="Yes, confirm")
    )
    assert button.context == payloads.Context(id="wamid.OUR_BUTTONS=", from_="15550001111")
    chosen = first_message("list_reply").interactive
    assert chosen is not None and chosen.list_reply == payloads.Reply(
        id="sku_large", title="Large pizza", description="8 slices"
    )
    image = first_message("image_with_caption").image
    assert image is not None and (image.id, image.mime_type, image.caption) == (
        "1013859600285441",
        "image/jpeg",
        "this one please",
    )


# --- parse_webhook: messages -----------------------------------------------------------------


def test_text_message_becomes_one_inbound_message() -> None:
    batch = parse_webhook(payload("text_message"), now=NOW)
    assert batch.statuses == ()
    assert batch.messages == (
        InboundMessage(
            channel=Channel.WHATSAPP,
            provider="meta",
            provider_message_id="wamid.AAA=",
            contact=ANA,
            reply_address="5511988887777",
            received_at=1760000000.0,
            text="Hi, I want to order",
            profile_name="Ana",
            phone="+5511988887777",
            # The payload names the BSUID too: kept, so that a BSUID-only message finds Ana.
            aliases=(ContactId(channel="whatsapp", value="bsuid:BR.1502576394655843"),),
        ),
    )
    assert batch.messages[0].is_from_user


@pytest.mark.parametrize(
    ("name", "text", "choice_id"),
    [
        ("button_reply", "Yes, confirm", "order_confirm"),
        ("list_reply", "Large pizza", "sku_large"),
        ("template_button", "Track my order", "track_42"),
    ],
)
def test_a_tapped_option_gives_its_id_and_title(name: str, text: str, choice_id: str) -> None:
    (message,) = parse_webhook(payload(name), now=NOW).messages
    assert (message.text, message.choice_id, message.contact) == (text, choice_id, ANA)


def test_image_keeps_its_media_id_and_caption_also_as_text() -> None:
    (message,) = parse_webhook(payload("image_with_caption"), now=NOW).messages
    assert message.media == (
        Media(kind="image", reference="1013859600285441", mime_type="image/jpeg", caption="this one please"),
    )
    assert message.text == "this one please"


def test_document_keeps_its_filename() -> None:
    (message,) = parse_webhook(payload("document"), now=NOW).messages
    assert message.media == (
        Media(
            kind="document",
            reference="2024859600285442",
            mime_type="application/pdf",
            caption="my ID",
            filename="ktp-scan.pdf",
        ),
    )


def test_location_and_shared_contact_are_translated() -> None:
    (place,) = parse_webhook(payload("location"), now=NOW).messages
    assert place.location == Location(
        latitude=-6.2, longitude=106.816666, name="Monas", address="Gambir, Central Jakarta"
    )
    (card,) = parse_webhook(payload("contacts_shared"), now=NOW).messages
    assert card.shared_contact == SharedContact(phone="+6281234567890", name="Budi Santoso")


def test_user_known_only_by_business_scoped_id_is_keyed_and_answered_by_it() -> None:
    (message,) = parse_webhook(payload("bsuid_only_message"), now=NOW).messages
    assert message.contact == ContactId(channel="whatsapp", value="bsuid:US.13491208655302741918")
    assert message.reply_address == "US.13491208655302741918"
    assert (message.phone, message.profile_name, message.text) == (None, "Zed", "hello, no phone here")


def test_message_echo_from_the_business_app_is_marked_as_ours() -> None:
    (echo,) = parse_webhook(payload("smb_message_echo"), now=NOW).messages
    assert echo.from_me and not echo.is_from_user
    assert (echo.contact, echo.provider_message_id) == (ANA, "wamid.ECHO=")


def test_message_from_our_own_number_is_marked_as_ours() -> None:
    body = envelope(
        {
            "metadata": {"display_phone_number": "+1 555-000-1111", "phone_number_id": PHONE_NUMBER_ID},
            "messages": [{"from": "15550001111", "id": "wamid.SELF=", "timestamp": "1", "type": "text",
                          "text": {"body": "hi"}}],
        }
    )  # fmt: skip
    (message,) = parse_webhook(body, now=NOW).messages
    assert message.from_me and not message.is_from_user


def test_group_message_is_marked_as_a_group() -> None:
    (message,) = parse_webhook(payload("group_message"), now=NOW).messages
    assert message.chat_kind is ChatKind.GROUP and not message.is_from_user
    assert message.contact == ANA


def test_batch_keeps_every_message_and_status_in_order_with_the_right_profile() -> None:
    batch = parse_webhook(payload("batch_two_messages_and_status"), now=NOW)
    assert [(m.provider_message_id, m.contact.value, m.profile_name, m.text) for m in batch.messages] == [
        ("wamid.BATCH1=", "+5511988887777", "Ana", "first"),
        ("wamid.BATCH2=", "+6281234567890", "Budi", "kedua"),
    ]
    assert batch.statuses == (
        DeliveryStatus(
            provider="meta",
            provider_message_id="wamid.OURS_EARLIER=",
            state=DeliveryState.DELIVERED,
            at=1760000299.0,
        ),
    )


def test_every_entry_and_change_is_read_and_other_fields_ignored() -> None:
    text = {"from": "5511988887777", "timestamp": "5", "type": "text", "text": {"body": "x"}}
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "1", "changes": [
                {"field": "message_template_status_update", "value": {"event": "APPROVED", "messages": 3}},
                {"field": "messages", "value": {"messages": [dict(text, id="wamid.E1C2=")]}},
            ]},
            {"id": "2", "changes": [
                {"field": "messages", "value": {"messages": [dict(text, id="wamid.E2=")]}},
            ]},
        ],
    }  # fmt: skip
    batch = parse_webhook(json.dumps(body).encode(), now=NOW)
    assert [m.provider_message_id for m in batch.messages] == ["wamid.E1C2=", "wamid.E2="]


def test_missing_or_garbled_timestamp_falls_back_to_now() -> None:
    body = envelope(
        {"messages": [
            {"from": "5511988887777", "id": "wamid.T1=", "type": "text", "text": {"body": "a"}},
            {"from": "5511988887777", "id": "wamid.T2=", "timestamp": "soon", "type": "text",
             "text": {"body": "b"}},
        ]}
    )  # fmt: skip
    assert [m.received_at for m in parse_webhook(body, now=NOW).messages] == [NOW, NOW]


def test_reactions_and_system_notices_are_not_user_input() -> None:
    body = envelope(
        {"messages": [
            {"from": "5511988887777", "id": "wamid.R=", "timestamp": "1", "type": "reaction",
             "reaction": {"message_id": "wamid.OURS=", "emoji": "👍"}},
            {"from": "5511988887777", "id": "wamid.S=", "timestamp": "1", "type": "system",
             "system": {"body": "changed number", "type": "user_changed_number", "wa_id": "5511900000000"}},
            {"from": "5511988887777", "id": "wamid.U=", "timestamp": "1", "type": "unsupported",
             "errors": [{"code": 131051}]},
        ]}
    )  # fmt: skip
    (message,) = parse_webhook(body, now=NOW).messages
    assert (message.provider_message_id, message.text) == ("wamid.U=", "")


def test_one_unreadable_message_does_not_spoil_the_batch() -> None:
    good = {"from": "5511988887777", "timestamp": "1", "type": "text", "text": {"body": "still here"}}
    body = envelope(
        {
            "contacts": [{"wa_id": "5511988887777", "profile": "not-an-object"}, {"wa_id": "6281234567890"}],
            "messages": [
                dict(good, id="wamid.OK1="),
                {"from": "5511988887777", "id": "wamid.BAD=", "type": "location",
                 "location": {"latitude": "north", "longitude": None}},
                {"id": "wamid.NOBODY=", "timestamp": "1", "type": "text", "text": {"body": "who am I"}},
                {"from": "not-a-number", "id": "wamid.GARBLED=", "type": "text", "text": {"body": "?"}},
                "not even an object",
                dict(good, id="wamid.OK2="),
            ],
            "statuses": [{"status": "sent"}, {"id": "wamid.OURS=", "status": "sent", "timestamp": "2"}],
        }
    )  # fmt: skip
    batch = parse_webhook(body, now=NOW)
    assert [m.provider_message_id for m in batch.messages] == ["wamid.OK1=", "wamid.OK2="]
    assert [s.provider_message_id for s in batch.statuses] == ["wamid.OURS="]


# --- parse_webhook: statuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "state", "at", "error_code"),
    [
        ("status_sent", DeliveryState.SENT, 1760000170.0, None),
        ("status_delivered", DeliveryState.DELIVERED, 1760000175.0, None),
        ("status_read", DeliveryState.READ, 1760000180.0, None),
        ("status_failed", DeliveryState.FAILED, 1760000200.0, "131047"),
    ],
)
def test_status_update_becomes_a_delivery_status(
    name: str, state: DeliveryState, at: float, error_code: str | None
) -> None:
    batch = parse_webhook(payload(name), now=NOW)
    assert batch.messages == ()
    (status,) = batch.statuses
    assert (status.provider, status.state, status.at, status.error_code) == ("meta", state, at, error_code)
    assert status.provider_message_id.startswith("wamid.OURS")


def test_unknown_status_values_are_ignored() -> None:
    body = envelope({"statuses": [{"id": "wamid.V=", "status": "played", "timestamp": "1"},
                                  {"id": "wamid.W=", "status": "warp-speed", "timestamp": "1"}]})  # fmt: skip
    assert parse_webhook(body, now=NOW).statuses == ()


# --- parse_webhook: malformed bodies -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"object":"whatsapp_business_account","entry":[',
        b"[]",
        b'"whatsapp_business_account"',
        b'{"entry":[]}',
        b'{"object":"whatsapp_business_account"}',
        b'{"object":"whatsapp_business_account","entry":{}}',
        b'{"object":"page","entry":[]}',
        b'{"object":"whatsapp_business_account","entry":[{"changes":"many"}]}',
    ],
)
def test_body_that_is_not_a_whatsapp_notification_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        parse_webhook(body, now=NOW)


def test_empty_notification_is_an_empty_batch() -> None:
    assert parse_webhook(b'{"object":"whatsapp_business_account","entry":[]}', now=NOW).messages == ()


# --- MetaSender against a loopback Graph API ----------------------------------------------


def accepted(request: RecordedRequest) -> Response:
    """What Meta answers to an accepted send: a fresh wamid per request."""
    number = request.json.get("to") or request.json.get("recipient")
    return Response(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": number, "wa_id": number}],
            "messages": [{"id": sent_id(request)}],
        },
    )


def sent_id(request: RecordedRequest) -> str:
    return f"wamid.SENT{request.received_at:.9f}="


def graph_error(status: int, code: int, **headers: str) -> Response:
    error = {"message": f"(#{code}) something", "type": "OAuthException", "code": code, "fbtrace_id": "Az1"}
    return Response(status, {"error": error}, headers=headers)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def graph(provider_server: ProviderServer) -> ProviderServer:
    """The loopback Graph API, accepting every send unless a test scripts otherwise."""
    provider_server.default = accepted
    return provider_server


@pytest.fixture
def sender(graph: ProviderServer, session: aiohttp.ClientSession) -> MetaSender:
    return MetaSender(
        session,
        api_base=graph.url("/v21.0"),
        phone_number_id=PHONE_NUMBER_ID,
        access_token=TOKEN,
        timeout=2.0,
    )


def outbound(reply: Reply, *, address: str = "5511988887777", reply_to: str | None = None) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=1,
        channel=Channel.WHATSAPP,
        provider="meta",
        contact_key="whatsapp:+5511988887777",
        address=address,
        reply=reply,
        reply_to=reply_to,
    )


def options(count: int) -> tuple[Button, ...]:
    return tuple(Button(id=f"opt_{i}", title=f"Option {i}") for i in range(1, count + 1))


def interactive(kind: str, body: str, action: dict, **extra: dict) -> dict:
    """The whole request body of an interactive message to Ana."""
    content = {"type": kind, "body": {"text": body}, **extra, "action": action}
    return {**RECIPIENT, "type": "interactive", "interactive": content}


# Every send's first message carries its outbox job's tracker, echoed in its status webhooks.
RECIPIENT = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511988887777",
             "biz_opaque_callback_data": "chatgate:1"}
HI = TextReply(text="Hi")


async def test_text_is_posted_as_meta_expects_with_the_bearer_token(
    sender: MetaSender, graph: ProviderServer
) -> None:
    receipt = await sender.send(outbound(TextReply(text="Hello!")))
    (request,) = graph.requests
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {**RECIPIENT, "type": "text", "text": {"body": "Hello!", "preview_url": False}}
    assert receipt == SendReceipt(provider_message_id=sent_id(request))


async def test_text_with_a_link_asks_for_a_preview(sender: MetaSender, graph: ProviderServer) -> None:
    await sender.send(outbound(TextReply(text="Menu: https://example.com/menu")))
    assert graph.requests[0].json["text"]["preview_url"] is True


async def test_three_buttons_become_reply_buttons(sender: MetaSender, graph: ProviderServer) -> None:
    buttons = (
        Button(id="order_confirm", title="Yes, confirm"),
        Button(id="order_change", title="Change"),
        Button(id="order_cancel", title="Cancel"),
    )
    reply = ButtonsReply(text="Confirm your order?", footer="Reply within 1 h", buttons=buttons)
    await sender.send(outbound(reply))
    assert graph.requests[0].json == interactive(
        "button",
        "Confirm your order?",
        {"buttons": [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in buttons]},
        footer={"text": "Reply within 1 h"},
    )


async def test_four_buttons_become_a_list(sender: MetaSender, graph: ProviderServer) -> None:
    await sender.send(outbound(ButtonsReply(text="Pick one", buttons=options(4))))
    rows = [{"id": f"opt_{i}", "title": f"Option {i}"} for i in range(1, 5)]
    assert graph.requests[0].json == interactive(
        "list", "Pick one", {"button": "Menu", "sections": [{"rows": rows}]}
    )


async def test_eleven_buttons_become_numbered_text(sender: MetaSender, graph: ProviderServer) -> None:
    reply = ButtonsReply(text="Pick one", buttons=options(11))
    await sender.send(outbound(reply))
    (request,) = graph.requests
    assert request.json["text"]["body"] == reply_text(reply)


async def test_list_of_ten_rows_is_one_section(sender: MetaSender, graph: ProviderServer) -> None:
    rows = tuple(Button(id=f"sku_{i}", title=f"Pizza {i}", description=f"{i} slices") for i in range(10))
    await sender.send(outbound(ListReply(text="Pick a size", button_label="See sizes", options=rows)))
    expected_rows = [{"id": r.id, "title": r.title, "description": r.description} for r in rows]
    assert graph.requests[0].json == interactive(
        "list", "Pick a size", {"button": "See sizes", "sections": [{"rows": expected_rows}]}
    )


async def test_list_of_eleven_rows_becomes_numbered_text(sender: MetaSender, graph: ProviderServer) -> None:
    reply = ListReply(text="Pick a size", button_label="See sizes", options=options(11))
    await sender.send(outbound(reply))
    assert graph.requests[0].json == {
        **RECIPIENT,
        "type": "text",
        "text": {"body": reply_text(reply), "preview_url": False},
    }


async def test_long_button_title_is_shortened_but_kept(sender: MetaSender, graph: ProviderServer) -> None:
    buttons = (Button(id="budget_low", title="Below fifty million rupiah"), Button(id="high", title="Above"))
    await sender.send(outbound(ButtonsReply(text="Budget?", buttons=buttons)))
    sent = graph.requests[0].json["interactive"]["action"]["buttons"]
    assert [b["reply"] for b in sent] == [
        {"id": "budget_low", "title": "Below fifty million…"},
        {"id": "high", "title": "Above"},
    ]


async def test_buttons_alike_once_shortened_become_a_list_showing_them_whole(
    sender: MetaSender, graph: ProviderServer
) -> None:
    buttons = (
        Button(id="a", title="Franchise package Jakarta"),
        Button(id="b", title="Franchise package Bandung"),
    )
    await sender.send(outbound(ButtonsReply(text="Which branch?", buttons=buttons)))
    content = graph.requests[0].json["interactive"]
    assert content["type"] == "list"
    assert content["action"]["sections"][0]["rows"] == [
        {"id": "a", "title": "Franchise package…", "description": "Franchise package Jakarta"},
        {"id": "b", "title": "Franchise package…", "description": "Franchise package Bandung"},
    ]


async def test_long_list_label_and_row_texts_are_shortened(sender: MetaSender, graph: ProviderServer) -> None:
    row = Button(id="x", title="An extraordinarily large pizza", description="word " * 30)
    reply = ListReply(text="Pick", button_label="Choose your favourite size", options=(row,))
    await sender.send(outbound(reply))
    action = graph.requests[0].json["interactive"]["action"]
    (sent,) = action["sections"][0]["rows"]
    assert len(action["button"]) <= 20 and action["button"].endswith("…")
    assert len(sent["title"]) <= 24 and len(sent["description"]) <= 72 and sent["id"] == "x"


async def test_long_text_is_split_in_order_and_receipt_names_the_first_part(
    sender: MetaSender, graph: ProviderServer
) -> None:
    text = "\n\n".join(f"Paragraph {n}. " + "word " * 299 + "word" for n in range(6))
    receipt = await sender.send(outbound(TextReply(text=text), reply_to="wamid.THEIRS="))
    bodies = [request.json for request in graph.requests]
    assert len(bodies) > 1 and all(len(b["text"]["body"]) <= 4096 for b in bodies)
    assert "\n\n".join(b["text"]["body"] for b in bodies) == text
    assert bodies[0]["context"] == {"message_id": "wamid.THEIRS="}
    assert all("context" not in b for b in bodies[1:])
    assert receipt.provider_message_id == sent_id(graph.requests[0])


async def test_image_and_document_go_by_link_with_caption(sender: MetaSender, graph: ProviderServer) -> None:
    menu, invoice = "https://cdn.example.com/menu.jpg", "https://cdn.example.com/i/42.pdf"
    await sender.send(outbound(MediaReply(kind="image", url=menu, caption="Today's menu")))
    await sender.send(
        outbound(MediaReply(kind="document", url=invoice, caption="Your invoice", filename="invoice-42.pdf"))
    )
    assert [r.json for r in graph.requests] == [
        {**RECIPIENT, "type": "image", "image": {"link": menu, "caption": "Today's menu"}},
        {
            **RECIPIENT,
            "type": "document",
            "document": {"link": invoice, "caption": "Your invoice", "filename": "invoice-42.pdf"},
        },
    ]


async def test_only_the_first_part_of_a_split_text_carries_the_tracker(
    sender: MetaSender, graph: ProviderServer
) -> None:
    await sender.send(outbound(TextReply(text="word " * 2000)))
    trackers = [r.json.get("biz_opaque_callback_data") for r in graph.requests]
    assert len(trackers) > 1 and trackers[0] == "chatgate:1" and set(trackers[1:]) == {None}


def test_a_status_echoes_the_tracker_of_the_send_it_reports_on() -> None:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
            "display_phone_number": "15550001111", "phone_number_id": "106540352242922"},
            "statuses": [{"id": "wamid.OUT=", "status": "sent", "timestamp": "1760000000",
                          "recipient_id": "5511988887777", "biz_opaque_callback_data": "chatgate:42"}]}}]}]})
    [status] = parse_webhook(body.encode(), now=NOW).statuses
    assert status.tracker == "chatgate:42"


@pytest.mark.parametrize("address", ["bsuid:US.13491208655302741918", "US.13491208655302741918"])
async def test_business_scoped_id_is_sent_as_recipient(
    sender: MetaSender, graph: ProviderServer, address: str
) -> None:
    await sender.send(outbound(HI, address=address))
    body = graph.requests[0].json
    assert body["recipient"] == "US.13491208655302741918" and "to" not in body


async def test_reply_to_quotes_the_users_message(sender: MetaSender, graph: ProviderServer) -> None:
    await sender.send(outbound(TextReply(text="Got it"), reply_to="wamid.AAA="))
    assert graph.requests[0].json["context"] == {"message_id": "wamid.AAA="}


# --- MetaSender: failures --------------------------------------------------------------------


async def test_server_error_is_temporary(sender: MetaSender, graph: ProviderServer) -> None:
    graph.script(MESSAGES_PATH, [Response(500, body="oops")])
    with pytest.raises(TemporaryFailure):
        await sender.send(outbound(HI))


async def test_generic_meta_error_code_is_temporary_even_on_a_400(
    sender: MetaSender, graph: ProviderServer
) -> None:
    graph.script(MESSAGES_PATH, [graph_error(400, 131000)])
    with pytest.raises(TemporaryFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == "131000"


async def test_http_429_is_rate_limited_with_the_retry_after_hint(
    sender: MetaSender, graph: ProviderServer
) -> None:
    graph.script(MESSAGES_PATH, [Response(429, headers={"Retry-After": "7"})])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI))
    assert caught.value.retry_after == 7.0


async def test_retry_after_may_be_an_http_date(sender: MetaSender, graph: ProviderServer) -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    graph.script(MESSAGES_PATH, [graph_error(429, 131056, **{"Retry-After": later})])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI))
    assert caught.value.retry_after is not None and 25 <= caught.value.retry_after <= 31
    assert caught.value.code == "131056"


@pytest.mark.parametrize("code", [4, 80007, 130429, 131056])
async def test_throughput_codes_are_rate_limited_whatever_the_status(
    sender: MetaSender, graph: ProviderServer, code: int
) -> None:
    graph.script(MESSAGES_PATH, [graph_error(400, code)])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI))
    assert (caught.value.code, caught.value.retry_after) == (str(code), None)


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, 131047), (400, 131026), (400, 131030), (400, 100), (400, 131008), (400, 131009), (401, 190),
     (403, 200), (429, 131047), (500, 131026)],
)  # fmt: skip
async def test_refusals_are_permanent_with_metas_code(
    sender: MetaSender, graph: ProviderServer, status: int, code: int
) -> None:
    graph.script(MESSAGES_PATH, [graph_error(status, code)])
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == str(code)


async def test_client_error_without_a_graph_error_is_permanent(
    sender: MetaSender, graph: ProviderServer
) -> None:
    graph.script(MESSAGES_PATH, [Response(404, body="<html>no</html>")])
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code is None


async def test_connection_refused_is_temporary(session: aiohttp.ClientSession) -> None:
    nobody = refused_base_url()
    sender = MetaSender(session, api_base=nobody, phone_number_id=PHONE_NUMBER_ID, access_token=TOKEN)
    with pytest.raises(TemporaryFailure) as caught:
        await sender.send(outbound(HI))
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)


async def test_timeout_is_temporary(session: aiohttp.ClientSession, graph: ProviderServer) -> None:
    graph.script(MESSAGES_PATH, [Response(200, {}, delay=1.0)])
    sender = MetaSender(
        session,
        api_base=graph.url("/v21.0"),
        phone_number_id=PHONE_NUMBER_ID,
        access_token=TOKEN,
        timeout=0.1,
    )
    with pytest.raises(TemporaryFailure):
        await sender.send(outbound(HI))


async def test_failure_part_way_through_a_split_text_raises(
    sender: MetaSender, graph: ProviderServer
) -> None:
    graph.script(MESSAGES_PATH, [accepted, Response(503)])
    with pytest.raises(TemporaryFailure):
        await sender.send(outbound(TextReply(text="word " * 2000)))
    assert len(graph.requests) == 2


async def test_empty_reply_is_refused_without_a_request(sender: MetaSender, graph: ProviderServer) -> None:
    with pytest.raises(PermanentFailure):
        await sender.send(outbound(TextReply(text="  ")))
    assert graph.requests == []


# --- Splitting and shortening --------------------------------------------------------------


def test_split_prefers_paragraphs_then_sentences_then_words() -> None:
    assert split_text("aaaa\n\nbbbb cc", limit=10) == ["aaaa", "bbbb cc"]
    assert split_text("One two. Three four five", limit=12) == ["One two.", "Three four", "five"]
    assert split_text("abcdefghijkl", limit=5) == ["abcde", "fghij", "kl"]


@given(st.text(alphabet=st.sampled_from("ab .\n"), max_size=400), st.integers(min_value=4, max_value=60))
def test_split_keeps_every_word_in_order_within_the_limit(text: str, limit: int) -> None:
    parts = split_text(text, limit=limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


@given(st.text(max_size=60), st.integers(min_value=2, max_value=30))
def test_shorten_fits_the_limit(text: str, limit: int) -> None:
    short = shorten(text, limit)
    assert len(short) <= limit
    assert short == text.strip() or short.endswith("…")

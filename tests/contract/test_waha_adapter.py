"""The WAHA adapter against WAHA's documented shapes and a loopback WAHA server.

Webhook bodies are the exact bytes of ``payloads/waha/*.json`` (see the README there), signed
the way WAHA signs them (hex HMAC-SHA512 in ``X-Webhook-Hmac``); WahaSender talks to a
ProviderServer standing in for the WAHA server at ``WAHA_URL``.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from adapters.whatsapp.waha import MalformedWebhook, WahaSender, parse_webhook, verify_signature
from adapters.whatsapp.waha import payloads
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

PAYLOADS = Path(__file__).parent / "payloads" / "waha"
KEY = "my-secret-key"
NOW = 1_770_000_000.0
API_KEY = "waha-api-key-123"
ANA = ContactId(channel="whatsapp", value="+5511988887777")
ANA_LID = ContactId(channel="whatsapp", value="lid:140239439958079")
ANA_CHAT = "5511988887777@c.us"


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def sign(body: bytes, key: str = KEY) -> str:
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


def event(name: str, body: Any, **envelope: Any) -> bytes:
    """A WAHA envelope around ``body``, as compact JSON bytes."""
    return json.dumps({"event": name, "session": "default", **envelope, "payload": body}).encode()


def message(**fields: Any) -> dict[str, Any]:
    """A ``message`` payload from Ana's phone, with ``fields`` replaced."""
    return {"id": "false_5511988887777@c.us_3EB0X", "timestamp": 1760000000, "from": ANA_CHAT,
            "fromMe": False, "body": "hello", "hasMedia": False, **fields}  # fmt: skip


def only(body: bytes) -> InboundMessage:
    batch = parse_webhook(body, now=NOW)
    assert batch.statuses == ()
    (inbound,) = batch.messages
    return inbound


# --- Signature -----------------------------------------------------------------------------


def test_signature_matches_the_documented_vector() -> None:
    body = b'{"event":"message","session":"default","engine":"WEBJS"}'
    header = (
        "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8"
        "097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89"
    )
    assert verify_signature(body, header, KEY, algorithm="sha512")


def test_signature_over_the_raw_bytes_of_a_payload_is_accepted() -> None:
    body = payload("text_message")
    assert verify_signature(body, sign(body), KEY, algorithm="sha512")
    assert verify_signature(body, sign(body), KEY)  # without the algorithm header: sha512


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_or_empty_signature_is_rejected(header: str | None) -> None:
    assert not verify_signature(payload("text_message"), header, KEY, algorithm="sha512")


def test_signature_made_with_another_key_is_rejected() -> None:
    body = payload("text_message")
    assert not verify_signature(body, sign(body, "someone-elses-key"), KEY)


def test_signature_of_a_tampered_body_is_rejected() -> None:
    body = payload("text_message")
    tampered = body.replace(b"Hi, I want to order", b"Hi, I want a refund")
    assert not verify_signature(tampered, sign(body), KEY)


@pytest.mark.parametrize("algorithm", ["sha256", "sha1", "md5", "", "sha512 sha256"])
def test_another_algorithm_is_rejected(algorithm: str) -> None:
    body = payload("text_message")
    assert not verify_signature(body, sign(body), KEY, algorithm=algorithm)


def test_algorithm_and_digest_case_do_not_matter() -> None:
    body = payload("text_message")
    assert verify_signature(body, sign(body).upper(), KEY, algorithm="SHA512")


@pytest.mark.parametrize("garbage", ["not-hex-at-all", "ñandú☃", "0" * 128, "sha512=" + "0" * 128])
def test_garbled_signature_is_rejected_without_raising(garbage: str) -> None:
    assert not verify_signature(payload("text_message"), garbage, KEY)


def test_nothing_verifies_against_an_empty_key() -> None:
    body = payload("text_message")
    assert not verify_signature(body, sign(body, ""), "")


# --- Payload Structs -----------------------------------------------------------------------

PAYLOAD_FILES = sorted(path.stem for path in PAYLOADS.glob("*.json"))


@pytest.mark.parametrize("name", PAYLOAD_FILES)
def test_every_payload_file_decodes_into_the_payload_structs(name: str) -> None:
    envelope = msgspec.json.decode(payload(name), type=payloads.Event)
    assert envelope.session == "default" and envelope.id and envelope.id.startswith("evt_")
    assert msgspec.json.decode(envelope.me, type=payloads.Me).id == "14155550000@c.us"
    if envelope.event in ("message", "message.any"):
        body = msgspec.json.decode(envelope.payload, type=payloads.Message)
        assert body.id.startswith(("false_", "true_")) and body.from_
        if body.data:
            assert isinstance(msgspec.json.decode(body.data, type=payloads.EngineData), payloads.EngineData)
    elif envelope.event == "message.ack":
        assert msgspec.json.decode(envelope.payload, type=payloads.Ack).ack == 3


def test_engine_data_structs_carry_the_alternative_forms() -> None:
    def engine_data(name: str) -> payloads.EngineData:
        envelope = msgspec.json.decode(payload(name), type=payloads.Event)
        return msgspec.json.decode(msgspec.json.decode(envelope.payload, type=payloads.Message).data,
                                   type=payloads.EngineData)  # fmt: skip

    noweb = engine_data("text_from_lid_with_phone")
    assert noweb.key == payloads.EngineKey(remoteJid="140239439958079@lid", remoteJidAlt="5511988887777@s.whatsapp.net")
    gows = engine_data("text_from_lid_gows")
    assert gows.Info == payloads.EngineInfo(
        Chat="140239439958079@lid",
        Sender="140239439958079:3@lid",
        SenderAlt="5511988887777:3@s.whatsapp.net",
        PushName="Ana",
    )
    assert engine_data("text_webjs").notifyName == "Budi Santoso"


# --- parse_webhook: messages -----------------------------------------------------------------


def test_text_message_from_a_phone_becomes_one_inbound_message() -> None:
    inbound = only(payload("text_message"))
    assert inbound == InboundMessage(
        channel=Channel.WHATSAPP,
        provider="waha",
        provider_message_id="false_5511988887777@c.us_3EB0A1B2C3",
        contact=ANA,
        reply_address=ANA_CHAT,
        received_at=1760000000.0,
        text="Hi, I want to order",
        profile_name="Ana",
        phone="+5511988887777",
        ack_token="false_5511988887777@c.us_3EB0A1B2C3",  # the reply marks it seen
    )
    assert inbound.is_from_user


def test_message_any_copy_of_a_message_has_the_same_id_so_it_is_deduplicated() -> None:
    first, second = only(payload("text_message")), only(payload("message_any_duplicate"))
    assert second.provider_message_id == first.provider_message_id
    assert second == first


def test_lid_with_a_device_suffix_is_keyed_by_the_lid_and_answered_on_it() -> None:
    inbound = only(payload("text_from_lid_device"))
    assert inbound.contact == ContactId(channel="whatsapp", value="lid:123456789")
    assert (inbound.reply_address, inbound.phone, inbound.profile_name) == ("123456789@lid", None, "Citra")
    assert inbound.is_from_user


@pytest.mark.parametrize("name", ["text_from_lid_with_phone", "text_from_lid_gows"])
def test_lid_tied_to_a_phone_in_engine_data_is_the_same_contact_as_the_phone(name: str) -> None:
    inbound = only(payload(name))
    assert inbound.contact == only(payload("text_message")).contact == ANA
    assert inbound.phone == "+5511988887777"
    assert inbound.reply_address == "140239439958079@lid"  # the chat Ana wrote from
    assert inbound.profile_name == "Ana"


def test_alternative_of_someone_else_does_not_tie_a_lid_to_a_phone() -> None:
    data = {"key": {"remoteJid": "999999999999@lid", "remoteJidAlt": "5511988887777@s.whatsapp.net"},
            "Info": {"Sender": "14155550000@s.whatsapp.net", "SenderAlt": "5511900000000@s.whatsapp.net"}}  # fmt: skip
    inbound = only(event("message", message(**{"from": "140239439958079@lid", "_data": data})))
    assert inbound.contact == ANA_LID


def test_agent_part_of_a_jid_is_dropped() -> None:
    inbound = only(event("message", message(**{"from": "20640312345.1:0@lid"})))
    assert inbound.contact == ContactId(channel="whatsapp", value="lid:20640312345")
    assert inbound.reply_address == "20640312345@lid"


@pytest.mark.parametrize(
    ("sender", "reply_address"),
    [("5511988887777:7@c.us", ANA_CHAT), ("5511988887777@s.whatsapp.net", ANA_CHAT),
     ("5511988887777:7@s.whatsapp.net", ANA_CHAT)],
)  # fmt: skip
def test_device_and_server_forms_of_a_number_are_one_contact(sender: str, reply_address: str) -> None:
    inbound = only(event("message", message(**{"from": sender})))
    assert (inbound.contact, inbound.reply_address) == (ANA, reply_address)


def test_webjs_profile_name_comes_from_notify_name() -> None:
    inbound = only(payload("text_webjs"))
    assert (inbound.contact.value, inbound.profile_name, inbound.text) == (
        "+6281234567890",
        "Budi Santoso",
        "Selamat siang",
    )


def test_own_message_is_marked_as_ours_and_not_from_a_user() -> None:
    inbound = only(payload("from_me"))
    assert inbound.from_me and not inbound.is_from_user
    assert (inbound.contact, inbound.reply_address, inbound.profile_name) == (ANA, ANA_CHAT, None)


def test_own_message_written_from_us_to_the_chat_names_the_chat() -> None:
    body = message(**{"id": "true_5511988887777@c.us_W1", "from": "14155550000@c.us", "to": ANA_CHAT,
                      "fromMe": True})  # fmt: skip
    inbound = only(event("message.any", body, me={"id": "14155550000@c.us", "pushName": "Shop"}))
    assert inbound.from_me and (inbound.contact, inbound.reply_address) == (ANA, ANA_CHAT)


def test_message_from_our_own_number_is_ours_even_without_from_me() -> None:
    inbound = only(event("message", message(**{"from": "14155550000@c.us"}), me={"id": "14155550000@c.us"}))
    assert inbound.from_me and not inbound.is_from_user


def test_group_message_is_marked_as_a_group_with_the_participant_as_contact() -> None:
    inbound = only(payload("group_message"))
    assert inbound.chat_kind is ChatKind.GROUP and not inbound.is_from_user
    assert inbound.contact == ANA  # the participant's LID, tied to her phone by participantAlt
    assert inbound.reply_address == "120363025246125486@g.us"


@pytest.mark.parametrize(
    ("name", "kind", "contact"),
    [
        ("status_broadcast", ChatKind.STATUS, "+6281234567890"),
        ("newsletter", ChatKind.NEWSLETTER, "120363170000000000@newsletter"),
    ],
)
def test_status_posts_and_channel_posts_come_out_marked_to_be_ignored(name: str, kind: ChatKind, contact: str) -> None:
    inbound = only(payload(name))
    assert (inbound.chat_kind, inbound.from_me, inbound.contact.value) == (kind, False, contact)
    assert not inbound.is_from_user


def test_broadcast_list_is_marked_as_a_broadcast() -> None:
    inbound = only(event("message", message(**{"from": "1760000000@broadcast", "author": ANA_CHAT})))
    assert (inbound.chat_kind, inbound.contact) == (ChatKind.BROADCAST, ANA)


def test_group_message_without_participant_still_comes_out_as_a_group() -> None:
    inbound = only(event("message", message(**{"from": "120363025246125486@g.us"})))
    assert inbound.chat_kind is ChatKind.GROUP and not inbound.is_from_user


def test_user_chat_whose_sender_cannot_be_identified_is_skipped() -> None:
    for sender in ("not-a-number@c.us", "0@c.us", "", "me"):
        assert parse_webhook(event("message", message(**{"from": sender})), now=NOW).messages == ()


def test_image_keeps_its_url_and_caption_also_as_text() -> None:
    inbound = only(payload("image_with_caption"))
    assert inbound.media == (
        Media(
            kind="image",
            reference="http://waha:3000/api/files/false_5511988887777@c.us_3EB0E5.jpeg",
            mime_type="image/jpeg",
            caption="this one please",
        ),
    )
    assert inbound.text == "this one please"


def test_document_keeps_its_filename() -> None:
    (media,) = only(payload("document")).media
    assert (media.kind, media.mime_type, media.filename, media.caption) == (
        "document",
        "application/pdf",
        "proposal.pdf",
        None,
    )


def test_media_wahas_did_not_download_is_referenced_by_the_message_id() -> None:
    body = message(hasMedia=True, body="", media={"url": None, "mimetype": "audio/ogg; codecs=opus",
                                                   "filename": None, "error": None})  # fmt: skip
    assert only(event("message", body)).media == (
        Media(kind="audio", reference="false_5511988887777@c.us_3EB0X", mime_type="audio/ogg; codecs=opus"),
    )
    (unknown,) = only(event("message", message(hasMedia=True, body="", media=None))).media
    assert (unknown.kind, unknown.reference) == ("document", "false_5511988887777@c.us_3EB0X")


def test_location_is_translated_and_its_body_is_not_text() -> None:
    inbound = only(payload("location"))
    assert inbound.location == Location(latitude=-6.2, longitude=106.816666, name="Monas, Gambir")
    assert inbound.text == ""


def test_location_written_as_strings_is_read_and_a_broken_one_ignored() -> None:
    place = {"latitude": "-6.2", "longitude": "106.8", "description": None}
    thumbnail = "/9j/4AAQSkZJRgABAQ"  # WEBJS sends the map thumbnail as the body
    inbound = only(event("message", message(location=place, body=thumbnail)))
    assert inbound.location == Location(latitude=-6.2, longitude=106.8) and inbound.text == ""
    broken = only(event("message", message(location={"latitude": "north", "longitude": None})))
    assert broken.location is None and broken.text == "hello"


def test_vcard_becomes_a_shared_contact() -> None:
    inbound = only(payload("vcard"))
    assert inbound.shared_contact == SharedContact(phone="+6281234567890", name="Budi Santoso")
    assert inbound.text == ""


def test_vcard_without_waid_keeps_the_written_number() -> None:
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dewi\\, Sales\r\nTEL;TYPE=CELL:+62 811-000-111\r\nEND:VCARD"
    inbound = only(event("message", message(vCards=[card], body=card)))
    assert inbound.shared_contact == SharedContact(phone="+62 811-000-111", name="Dewi, Sales")


@pytest.mark.parametrize(
    ("data", "body", "text", "choice_id"),
    [
        ({"Message": {"listResponseMessage": {"title": "Large pizza",
                                              "singleSelectReply": {"selectedRowID": "sku_large"}}}},
         "Large pizza", "Large pizza", "sku_large"),
        ({"message": {"listResponseMessage": {"title": "Large pizza",
                                              "singleSelectReply": {"selectedRowId": "sku_large"}}}},
         "", "Large pizza", "sku_large"),
        ({"message": {"buttonsResponseMessage": {"selectedButtonId": "order_confirm",
                                                 "selectedDisplayText": "Yes, confirm"}}},
         "", "Yes, confirm", "order_confirm"),
        ({"listResponse": {"title": "Large pizza", "singleSelectReply": {"selectedRowId": "sku_large"}}},
         "Large pizza", "Large pizza", "sku_large"),
        ({"selectedButtonId": "order_confirm", "type": "buttons_response"}, "Yes, confirm", "Yes, confirm",
         "order_confirm"),
        ({"message": {"listResponseMessage": {"title": "Large pizza"}}}, "Large pizza", "Large pizza", None),
    ],
)  # fmt: skip
def test_a_tapped_option_gives_its_id_where_the_engine_wrote_one(
    data: dict, body: str, text: str, choice_id: str | None
) -> None:
    inbound = only(event("message", message(body=body, _data=data)))
    assert (inbound.text, inbound.choice_id) == (text, choice_id)


def test_gows_list_reply_payload_gives_the_row_id() -> None:
    inbound = only(payload("list_reply_gows"))
    assert (inbound.contact, inbound.text, inbound.choice_id) == (ANA_LID, "Large pizza", "sku_large")


def test_unreadable_engine_data_leaves_the_payload_readable() -> None:
    data = {"key": {"remoteJid": 5511988887777}, "pushName": ["Ana"]}
    inbound = only(event("message", message(_data=data)))
    assert (inbound.contact, inbound.text, inbound.profile_name) == (ANA, "hello", None)


@pytest.mark.parametrize("kind", ["e2e_notification", "notification_template", "gp2", "protocol"])
def test_whatsapp_notices_are_not_user_input(kind: str) -> None:
    body = message(body="", _data={"type": kind})
    assert parse_webhook(event("message", body), now=NOW).messages == ()


def test_timestamps_fall_back_to_the_envelope_then_to_now() -> None:
    def received(sent_at: Any, **envelope: Any) -> float:
        return only(event("message", message(timestamp=sent_at), **envelope)).received_at

    assert received(1710481111.853) == 1710481111.853
    assert received("1760000000") == 1760000000.0
    assert received(1760000000123) == 1760000000.123  # milliseconds
    assert received(None, timestamp=1760000005000) == 1760000005.0
    assert received({"low": 1, "high": 0, "unsigned": False}) == NOW  # an old NOWEB Long
    assert received("soon") == received(True) == received(-5) == received(None) == NOW


def test_the_message_text_is_kept_whole() -> None:
    text = "Nama: Budi\nBisnis: kopi\nBudget: 50 juta\n" * 30
    assert only(event("message", message(body=text))).text == text


# --- parse_webhook: statuses and other events ------------------------------------------------


def test_read_ack_becomes_a_delivery_status() -> None:
    batch = parse_webhook(payload("ack_read"), now=NOW)
    assert batch.messages == ()
    assert batch.statuses == (
        DeliveryStatus(
            provider="waha",
            provider_message_id="true_5511988887777@c.us_3EB0F6",
            state=DeliveryState.READ,
            at=1760000180.0,
        ),
    )


@pytest.mark.parametrize(
    ("ack", "ack_name", "state"),
    [(-1, "ERROR", DeliveryState.FAILED), (1, "SERVER", DeliveryState.SENT),
     (2, "DEVICE", DeliveryState.DELIVERED), (3, "READ", DeliveryState.READ),
     (4, "PLAYED", DeliveryState.READ), (None, "DEVICE", DeliveryState.DELIVERED),
     (None, "played", DeliveryState.READ)],
)  # fmt: skip
def test_ack_levels_map_to_delivery_states(ack: int | None, ack_name: str, state: DeliveryState) -> None:
    body = {"id": "true_5511988887777@c.us_A1", "from": ANA_CHAT, "fromMe": True, "ack": ack, "ackName": ack_name}
    (status,) = parse_webhook(event("message.ack", body), now=NOW).statuses
    assert (status.state, status.at) == (state, NOW)


@pytest.mark.parametrize(
    "body",
    [
        {"id": "true_x_A1", "fromMe": True, "ack": 0, "ackName": "PENDING"},
        {"id": "true_x_A1", "fromMe": True, "ack": 9, "ackName": "WARP"},
        {"id": "true_x_A1", "fromMe": True},
        {"id": "false_x_A1", "fromMe": False, "ack": 3, "ackName": "READ"},
        {"ack": 3},
        "not an object",
    ],
)
def test_acks_that_report_nothing_about_our_messages_are_dropped(body: Any) -> None:
    assert parse_webhook(event("message.ack", body), now=NOW) == parse_webhook(payload("session_status"), now=NOW)


@pytest.mark.parametrize(
    "name",
    ["session.status", "message.ack.group", "message.reaction", "presence.update", "poll.vote", "whatever.new"],
)
def test_other_events_are_an_empty_batch(name: str) -> None:
    batch = parse_webhook(event(name, {"id": "false_x_1", "status": "WORKING"}), now=NOW)
    assert (batch.messages, batch.statuses) == ((), ())


def test_session_status_payload_is_an_empty_batch() -> None:
    batch = parse_webhook(payload("session_status"), now=NOW)
    assert (batch.messages, batch.statuses) == ((), ())


@pytest.mark.parametrize("body", [None, "text", [], {}, {"from": ANA_CHAT}, {"id": 5, "from": ANA_CHAT}])
def test_message_event_whose_payload_cannot_be_read_is_an_empty_batch(body: Any) -> None:
    assert parse_webhook(event("message", body), now=NOW).messages == ()


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'{"event":"message",', b"[]", b'"message"', b"{}", b'{"event":5}',
     b'{"payload":{"id":"x"}}', b'{"event":null}'],
)  # fmt: skip
def test_body_that_is_not_a_waha_event_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        parse_webhook(body, now=NOW)


def test_envelope_with_a_garbled_me_still_parses() -> None:
    inbound = only(event("message", message(), me="not-an-object"))
    assert inbound.contact == ANA and not inbound.from_me


# --- WahaSender against a loopback WAHA server ---------------------------------------------


def accepted(request: RecordedRequest) -> Response:
    """What WAHA answers to an accepted send: the created message with a fresh id."""
    return Response(201, {"id": sent_id(request), "timestamp": 1760000200, "fromMe": True})


def sent_id(request: RecordedRequest) -> str:
    return f"true_{request.json['chatId']}_SENT{request.received_at:.9f}"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def waha(provider_server: ProviderServer) -> ProviderServer:
    """The loopback WAHA server, accepting every send unless a test scripts otherwise."""
    provider_server.default = accepted
    return provider_server


@pytest.fixture
def sender(waha: ProviderServer, session: aiohttp.ClientSession) -> WahaSender:
    return WahaSender(session, base_url=waha.base_url + "/", api_key=API_KEY, timeout=2.0)


def outbound(reply: Reply, *, address: str = ANA_CHAT, reply_to: str | None = None) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=1,
        channel=Channel.WHATSAPP,
        provider="waha",
        contact_key="whatsapp:+5511988887777",
        address=address,
        reply=reply,
        reply_to=reply_to,
    )


def options(count: int) -> tuple[Button, ...]:
    return tuple(Button(id=f"opt_{i}", title=f"Option {i}") for i in range(1, count + 1))


def sent(server: ProviderServer) -> list[tuple[str, Any]]:
    return [(request.path, request.json) for request in server.requests]


HI = TextReply(text="Hi")
TO_ANA = {"session": "default", "chatId": ANA_CHAT}
MENU_URL = "https://cdn.example.com/menu.jpg"
INVOICE_URL = "https://cdn.example.com/i/42.pdf"


async def test_text_is_posted_as_waha_expects_with_the_api_key(sender: WahaSender, waha: ProviderServer) -> None:
    receipt = await sender.send(outbound(TextReply(text="Hello!")))
    (request,) = waha.requests
    assert (request.method, request.path) == ("POST", "/api/sendText")
    assert request.headers["X-Api-Key"] == API_KEY
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {**TO_ANA, "text": "Hello!"}
    assert receipt == SendReceipt(provider_message_id=sent_id(request))


async def test_no_api_key_header_when_none_is_set(session: aiohttp.ClientSession, waha: ProviderServer) -> None:
    sender = WahaSender(session, base_url=waha.base_url, api_key=None, session_name="shop")
    await sender.send(outbound(HI))
    (request,) = waha.requests
    assert "X-Api-Key" not in request.headers
    assert request.json == {"session": "shop", "chatId": ANA_CHAT, "text": "Hi"}


@pytest.mark.parametrize(
    ("address", "chat_id"),
    [(ANA_CHAT, ANA_CHAT), ("140239439958079@lid", "140239439958079@lid"),
     ("140239439958079:12@lid", "140239439958079@lid"), ("5511988887777:3@s.whatsapp.net", ANA_CHAT),
     ("+5511988887777", ANA_CHAT), ("whatsapp:+5511988887777", ANA_CHAT), ("5511988887777", ANA_CHAT),
     ("lid:140239439958079", "140239439958079@lid"), ("120363025246125486@g.us", "120363025246125486@g.us")],
)  # fmt: skip
async def test_the_address_becomes_a_waha_chat_id(
    sender: WahaSender, waha: ProviderServer, address: str, chat_id: str
) -> None:
    await sender.send(outbound(HI, address=address))
    assert waha.requests[0].json["chatId"] == chat_id


async def test_an_address_that_names_no_chat_is_refused_without_a_request(
    sender: WahaSender, waha: ProviderServer
) -> None:
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI, address="tg:12345"))
    assert caught.value.code == "address" and waha.requests == []


async def test_the_answered_message_is_marked_seen_before_the_reply(sender: WahaSender, waha: ProviderServer) -> None:
    answered = "false_5511988887777@c.us_3EB0A1B2C3"
    await sender.send(outbound(TextReply(text="Got it"), reply_to=answered))
    assert sent(waha) == [("/api/sendSeen", {**TO_ANA, "messageIds": [answered]}),
                          ("/api/sendText", {**TO_ANA, "text": "Got it"})]


async def test_a_failure_to_mark_seen_never_stops_the_reply(sender: WahaSender, waha: ProviderServer) -> None:
    waha.script("/api/sendSeen", [Response(500, {"error": "engine busy"})])
    receipt = await sender.send(outbound(TextReply(text="Got it"), reply_to="false_x_Q"))
    assert [path for path, _ in sent(waha)] == ["/api/sendSeen", "/api/sendText"]
    assert receipt.provider_message_id == sent_id(waha.requests[1])


@pytest.mark.parametrize(
    "reply",
    [
        ButtonsReply(text="Confirm your order?", buttons=options(3), footer="Reply within 1 h"),
        ButtonsReply(text="Pick one", buttons=options(11)),
        ListReply(text="Pick a size", button_label="See sizes", options=options(4)),
    ],
)
async def test_menus_go_as_one_numbered_text(sender: WahaSender, waha: ProviderServer, reply: Reply) -> None:
    await sender.send(outbound(reply))
    assert sent(waha) == [("/api/sendText", {**TO_ANA, "text": reply_text(reply)})]
    assert "1. Option 1" in waha.requests[0].json["text"]


async def test_long_text_is_split_in_order_and_receipt_names_the_first_part(
    sender: WahaSender, waha: ProviderServer
) -> None:
    text = "\n\n".join(f"Paragraph {n}. " + "word " * 299 + "word" for n in range(6))
    receipt = await sender.send(outbound(TextReply(text=text)))
    bodies = [request.json for request in waha.requests]
    assert len(bodies) > 1 and all(len(b["text"]) <= 4096 for b in bodies)
    assert "\n\n".join(b["text"] for b in bodies) == text
    assert [r.received_at for r in waha.requests] == sorted(r.received_at for r in waha.requests)
    assert receipt.provider_message_id == sent_id(waha.requests[0])


async def test_image_and_document_go_by_url_with_caption(sender: WahaSender, waha: ProviderServer) -> None:
    await sender.send(outbound(MediaReply(kind="image", url=MENU_URL, caption="Today's menu")))
    await sender.send(
        outbound(MediaReply(kind="document", url=INVOICE_URL, caption="Your invoice", filename="invoice-42.pdf"))
    )
    assert sent(waha) == [
        ("/api/sendImage", {**TO_ANA, "caption": "Today's menu",
                            "file": {"url": MENU_URL, "mimetype": "image/jpeg", "filename": "menu.jpg"}}),
        ("/api/sendFile", {**TO_ANA, "caption": "Your invoice",
                           "file": {"url": INVOICE_URL, "mimetype": "application/pdf",
                                    "filename": "invoice-42.pdf"}}),
    ]  # fmt: skip


async def test_media_without_a_guessable_type_gets_a_safe_mimetype(sender: WahaSender, waha: ProviderServer) -> None:
    await sender.send(outbound(MediaReply(kind="image", url="https://cdn.example.com/render?id=7")))
    await sender.send(outbound(MediaReply(kind="video", url="https://cdn.example.com/")))
    assert sent(waha) == [
        ("/api/sendImage", {**TO_ANA, "file": {"url": "https://cdn.example.com/render?id=7",
                                               "mimetype": "image/jpeg", "filename": "render"}}),
        ("/api/sendFile", {**TO_ANA, "file": {"url": "https://cdn.example.com/",
                                              "mimetype": "application/octet-stream"}}),
    ]  # fmt: skip


async def test_caption_past_1024_characters_follows_the_media_as_text(sender: WahaSender, waha: ProviderServer) -> None:
    caption = "Menu details. " * 100
    await sender.send(outbound(MediaReply(kind="image", url=MENU_URL, caption=caption)))
    (media_path, media_body), *texts = sent(waha)
    assert media_path == "/api/sendImage" and "caption" not in media_body
    assert [path for path, _ in texts] == ["/api/sendText"] * len(texts)
    assert " ".join(body["text"] for _, body in texts).split() == caption.split()


@pytest.mark.parametrize(
    "refusal",
    [
        Response(422, {"statusCode": 422, "error": "Unprocessable Entity",
                       "message": "The feature is available only in Plus version for 'NOWEB' engine."}),
        Response(501, {"statusCode": 501, "error": "Not Implemented",
                       "message": "The method is not implemented by 'GOWS' engine."}),
    ],
)  # fmt: skip
async def test_media_waha_cannot_send_goes_as_its_caption_and_link(
    sender: WahaSender, waha: ProviderServer, refusal: Response
) -> None:
    waha.script("/api/sendImage", [refusal])
    receipt = await sender.send(outbound(MediaReply(kind="image", url=MENU_URL, caption="Today's menu")))
    assert [path for path, _ in sent(waha)] == ["/api/sendImage", "/api/sendText"]
    assert waha.requests[1].json == {**TO_ANA, "text": f"Today's menu\n{MENU_URL}"}
    assert receipt.provider_message_id == sent_id(waha.requests[1])


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"id": "true_5511988887777@c.us_3EB0AA"}, "true_5511988887777@c.us_3EB0AA"),
        ({"id": {"fromMe": True, "remote": ANA_CHAT, "id": "3EB0BB",
                 "_serialized": "true_5511988887777@c.us_3EB0BB"}}, "true_5511988887777@c.us_3EB0BB"),
        ({"key": {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": True, "id": "3EB0CC"},
          "message": {"conversation": "Hi"}, "status": "PENDING"}, "true_5511988887777@c.us_3EB0CC"),
        ({"key": {"id": "3EB0DD"}}, "3EB0DD"),
        ({}, None),
        ({"id": 42}, None),
        ("accepted", None),
    ],
)  # fmt: skip
async def test_receipt_reads_the_id_whatever_the_engine(
    sender: WahaSender, waha: ProviderServer, answer: Any, expected: str | None
) -> None:
    waha.script("/api/sendText", [Response(201, answer)])
    assert (await sender.send(outbound(HI))).provider_message_id == expected


async def test_non_json_success_is_accepted_without_an_id(sender: WahaSender, waha: ProviderServer) -> None:
    waha.script("/api/sendText", [Response(200, body="OK")])
    assert await sender.send(outbound(HI)) == SendReceipt()


async def test_mark_seen_posts_the_message_id(sender: WahaSender, waha: ProviderServer) -> None:
    await sender.mark_seen("140239439958079:12@lid", "false_140239439958079@lid_3EB0LID002")
    await sender.mark_seen("120363025246125486@g.us", "false_120363025246125486@g.us_G1_1402@lid",
                           participant="140239439958079@lid")  # fmt: skip
    assert sent(waha) == [
        ("/api/sendSeen", {"session": "default", "chatId": "140239439958079@lid",
                           "messageIds": ["false_140239439958079@lid_3EB0LID002"]}),
        ("/api/sendSeen", {"session": "default", "chatId": "120363025246125486@g.us",
                           "messageIds": ["false_120363025246125486@g.us_G1_1402@lid"],
                           "participant": "140239439958079@lid"}),
    ]  # fmt: skip
    assert all(r.headers["X-Api-Key"] == API_KEY for r in waha.requests)


async def test_mark_seen_failures_are_the_ports_errors(sender: WahaSender, waha: ProviderServer) -> None:
    waha.script("/api/sendSeen", [Response(503)])
    with pytest.raises(TemporaryFailure):
        await sender.mark_seen(ANA_CHAT, "false_x_1")


# --- WahaSender: failures --------------------------------------------------------------------


def waha_error(status: int, message: str | list[str], error: str) -> Response:
    return Response(status, {"statusCode": status, "message": message, "error": error})


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
async def test_server_errors_are_temporary(sender: WahaSender, waha: ProviderServer, status: int) -> None:
    waha.script("/api/sendText", [waha_error(status, "engine crashed", "Internal Server Error")])
    with pytest.raises(TemporaryFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == str(status) and "engine crashed" in caught.value.reason


async def test_session_not_working_is_temporary(sender: WahaSender, waha: ProviderServer) -> None:
    # Observed answer while a session restarts (devlikeapro/waha#1329).
    answer = {"error": "Session status is not as expected. Try again later or restart the session",
              "session": "default", "status": "STARTING", "expected": ["WORKING"]}  # fmt: skip
    waha.script("/api/sendText", [Response(422, answer)])
    with pytest.raises(TemporaryFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == "session_status" and "STARTING" in caught.value.reason


async def test_session_not_working_does_not_turn_media_into_text(sender: WahaSender, waha: ProviderServer) -> None:
    answer = {"error": "Session status is not as expected", "status": "SCAN_QR_CODE", "expected": ["WORKING"]}
    waha.script("/api/sendImage", [Response(422, answer)])
    with pytest.raises(TemporaryFailure):
        await sender.send(outbound(MediaReply(kind="image", url=MENU_URL)))
    assert len(waha.requests) == 1


async def test_http_429_is_rate_limited_with_the_retry_after_hint(sender: WahaSender, waha: ProviderServer) -> None:
    waha.script("/api/sendText", [Response(429, headers={"Retry-After": "7"})])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI))
    assert (caught.value.retry_after, caught.value.code) == (7.0, "429")


async def test_retry_after_may_be_an_http_date(sender: WahaSender, waha: ProviderServer) -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    waha.script("/api/sendText", [Response(429, headers={"Retry-After": later})])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI))
    assert caught.value.retry_after is not None and 25 <= caught.value.retry_after <= 31


@pytest.mark.parametrize("status", [401, 403])
async def test_bad_api_key_is_a_permanent_auth_failure(sender: WahaSender, waha: ProviderServer, status: int) -> None:
    waha.script("/api/sendText", [waha_error(status, "Unauthorized", "Unauthorized")])
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == "auth"


@pytest.mark.parametrize("status", [400, 404, 422, 501])
async def test_refusals_are_permanent_with_the_status(sender: WahaSender, waha: ProviderServer, status: int) -> None:
    waha.script("/api/sendText", [waha_error(status, ["chatId must be a string"], "Bad Request")])
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == str(status) and "chatId must be a string" in caught.value.reason


async def test_client_error_without_a_json_body_is_permanent(sender: WahaSender, waha: ProviderServer) -> None:
    waha.script("/api/sendText", [Response(404, body="<html>no such session</html>")])
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == "404"


async def test_connection_refused_is_temporary(session: aiohttp.ClientSession) -> None:
    sender = WahaSender(session, base_url=refused_base_url(), api_key=API_KEY)
    with pytest.raises(TemporaryFailure) as caught:
        await sender.send(outbound(HI))
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)


async def test_timeout_is_temporary(session: aiohttp.ClientSession, waha: ProviderServer) -> None:
    waha.script("/api/sendText", [Response(201, {}, delay=1.0)])
    sender = WahaSender(session, base_url=waha.base_url, api_key=API_KEY, timeout=0.1)
    with pytest.raises(TemporaryFailure) as caught:
        await sender.send(outbound(HI))
    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_failure_part_way_through_a_split_text_raises(sender: WahaSender, waha: ProviderServer) -> None:
    waha.script("/api/sendText", [accepted, Response(503)])
    with pytest.raises(TemporaryFailure):
        await sender.send(outbound(TextReply(text="word " * 2000)))
    assert len(waha.requests) == 2


async def test_empty_reply_is_refused_without_a_request(sender: WahaSender, waha: ProviderServer) -> None:
    with pytest.raises(PermanentFailure):
        await sender.send(outbound(TextReply(text="  ")))
    assert waha.requests == []


def test_sender_names_its_provider() -> None:
    assert WahaSender.provider == "waha"

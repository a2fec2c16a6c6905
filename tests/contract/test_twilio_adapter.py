"""The Twilio WhatsApp adapter against Twilio's documented shapes and a loopback Messages API.

Webhook bodies are the exact bytes of ``payloads/twilio/*.txt`` (see the README there), signed
with twilio-python's own ``RequestValidator.compute_signature`` over the exact URL; TwilioSender
talks through twilio's async REST client to a ProviderServer standing in for api.twilio.com.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import msgspec
import pytest
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from adapters.whatsapp.twilio_wa import (
    MalformedWebhook,
    TwilioSender,
    parse_form,
    parse_status_callback,
    parse_webhook,
    verify_signature,
    webhook_url,
    whatsapp_address,
)
from adapters.whatsapp.twilio_wa import payloads
from application.ports.channels import PermanentFailure, RateLimited, SendReceipt, TemporaryFailure
from domain.contacts import ContactId
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
    TextReply,
    WebhookBatch,
    reply_text,
)
from provider_server import ProviderServer, RecordedRequest, Response, refused_base_url

# twilio's AsyncTwilioHttpClient hands aiohttp ``auth=BasicAuth(...)``, which aiohttp 3.14
# deprecates; the request is still made with the right Authorization header. Not ours to fix.
pytestmark = [
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
]

PAYLOADS = Path(__file__).parent / "payloads" / "twilio"
AUTH_TOKEN = "twilio-auth-token-123"
ACCOUNT_SID = "AC00000000000000000000000000000000"
NOW = 1_770_000_000.0
URL = "https://bot.example.com/webhooks/twilio"
STATUS_URL = "https://bot.example.com/webhooks/twilio/status"
OUR_NUMBER = "whatsapp:+14155238886"
ANA_ADDRESS = "whatsapp:+5511988887777"
ANA = ContactId(channel="whatsapp", value="+5511988887777")
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
MEDIA_URL = (
    "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000"
    "/Messages/MM66666666666666666666666666666666/Media/ME77777777777777777777777777777777"
)


def body_of(name: str) -> bytes:
    return (PAYLOADS / f"{name}.txt").read_bytes()


def form_of(name: str) -> dict[str, list[str]]:
    return parse_form(body_of(name))


def sign(url: str, params: Mapping[str, str | list[str]] | MultiDict[str], token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio sends, as twilio-python computes it (over a multidict,
    the shape its ``get_values`` reads repeated keys from)."""
    if not isinstance(params, MultiDict):
        pairs = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
        params = MultiDict(pairs)
    return RequestValidator(token).compute_signature(url, params)


# --- Signature -------------------------------------------------------------------------------

VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_URL_443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def test_signature_matches_twilio_pythons_test_vector() -> None:
    assert sign(VECTOR_URL, VECTOR_PARAMS, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert sign(VECTOR_URL_443, VECTOR_PARAMS, "12345") == "kvajT1Ptam85bY51eRf/AJRuM3w="
    assert verify_signature(VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")


@pytest.mark.parametrize("url", [VECTOR_URL, VECTOR_URL_443])
@pytest.mark.parametrize("signature", ["RSOYDt4T1cUTdK1PDd93/VVr8B8=", "kvajT1Ptam85bY51eRf/AJRuM3w="])
def test_url_with_or_without_the_default_port_is_accepted_as_the_sdk_does(url: str, signature: str) -> None:
    assert verify_signature(url, VECTOR_PARAMS, signature, "12345")


def test_http_url_accepts_port_80_too() -> None:
    params = form_of("text_message")
    assert verify_signature(
        "http://127.0.0.1/webhooks/twilio",
        params,
        sign("http://127.0.0.1:80/webhooks/twilio", params),
        AUTH_TOKEN,
    )


PAYLOAD_NAMES = sorted(path.stem for path in PAYLOADS.glob("*.txt"))


@pytest.mark.parametrize("name", PAYLOAD_NAMES)
def test_signature_over_the_exact_url_and_every_parameter_is_accepted(name: str) -> None:
    params = form_of(name)
    assert verify_signature(URL, params, sign(URL, params), AUTH_TOKEN)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_signature_is_rejected(header: str | None) -> None:
    assert not verify_signature(URL, form_of("text_message"), header, AUTH_TOKEN)


def test_signature_made_with_another_token_is_rejected() -> None:
    params = form_of("text_message")
    assert not verify_signature(URL, params, sign(URL, params, "someone-elses-token"), AUTH_TOKEN)


def test_empty_auth_token_verifies_nothing() -> None:
    params = form_of("text_message")
    assert not verify_signature(URL, params, sign(URL, params, ""), "")


def test_tampered_parameter_is_rejected() -> None:
    params = form_of("text_message")
    signature = sign(URL, params)
    tampered = parse_form(body_of("text_message").replace(b"I+want+to+order", b"I+want+a+refund"))
    assert tampered["Body"] == ["Hi, I want a refund"]
    assert not verify_signature(URL, tampered, signature, AUTH_TOKEN)


def test_parameter_added_after_signing_is_rejected() -> None:
    params = form_of("text_message")
    signature = sign(URL, params)
    assert not verify_signature(URL, {**params, "Extra": ["1"]}, signature, AUTH_TOKEN)


@pytest.mark.parametrize(
    "other_url",
    [
        "http://bot.example.com/webhooks/twilio",
        "https://bot.example.com/webhooks/twilio/status",
        "https://bot.example.com/webhooks/twilio?x=1",
        "https://internal:8000/webhooks/twilio",
    ],
)
def test_signature_for_another_url_is_rejected(other_url: str) -> None:
    params = form_of("text_message")
    assert not verify_signature(other_url, params, sign(URL, params), AUTH_TOKEN)


def test_blank_values_are_signed_so_the_form_must_keep_them() -> None:
    raw = body_of("document_without_caption")
    params = parse_form(raw)
    assert params["Body"] == [""]
    signature = sign(URL, params)
    assert verify_signature(URL, params, signature, AUTH_TOKEN)
    # What a form parser that drops blank values (urllib's default) would hand over.
    dropped = dict(parse_qsl(raw.decode()))
    assert "Body" not in dropped
    assert not verify_signature(URL, dropped, signature, AUTH_TOKEN)


def test_repeated_keys_are_signed_value_by_value_in_any_form_shape() -> None:
    pairs = [("MessageSid", "SM1"), ("MediaUrl", "https://b.example/2"), ("MediaUrl", "https://a.example/1")]
    signature = sign(URL, MultiDict(pairs))
    as_lists = {"MessageSid": ["SM1"], "MediaUrl": ["https://b.example/2", "https://a.example/1"]}
    assert verify_signature(URL, MultiDict(pairs), signature, AUTH_TOKEN)
    assert verify_signature(URL, as_lists, signature, AUTH_TOKEN)
    assert not verify_signature(
        URL, {"MessageSid": "SM1", "MediaUrl": "https://a.example/1"}, signature, AUTH_TOKEN
    )


def test_single_string_values_verify_like_lists() -> None:
    assert verify_signature(
        VECTOR_URL, {k: [v] for k, v in VECTOR_PARAMS.items()}, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"
    )


@pytest.mark.parametrize("garbage", ["not base64 at all", "ñandú☃", "A" * 28])
def test_garbled_signature_is_rejected_without_raising(garbage: str) -> None:
    assert not verify_signature(URL, form_of("text_message"), garbage, AUTH_TOKEN)


def test_url_with_a_garbled_port_is_rejected_without_raising() -> None:
    assert not verify_signature("https://bot.example.com:port/webhooks/twilio", {}, "x", AUTH_TOKEN)


def test_webhook_url_is_public_url_plus_path_plus_raw_query() -> None:
    assert webhook_url("https://bot.example.com/", "/webhooks/twilio") == URL
    assert webhook_url("https://bot.example.com", "/webhooks/twilio", b"") == URL
    assert (
        webhook_url("https://bot.example.com:8443", "/webhooks/twilio/status", b"tenant=a%20b&x=1")
        == "https://bot.example.com:8443/webhooks/twilio/status?tenant=a%20b&x=1"
    )


# --- Payload Structs -------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAYLOAD_NAMES)
def test_every_payload_file_converts_into_the_payload_structs(name: str) -> None:
    flat = {key: values[0] for key, values in form_of(name).items()}
    struct = payloads.StatusForm if name.startswith("status_") else payloads.MessageForm
    fields = msgspec.convert(flat, struct)
    assert fields.MessageSid is not None and fields.MessageSid[:2] in ("SM", "MM")
    assert fields.AccountSid == ACCOUNT_SID


@pytest.mark.parametrize("name", PAYLOAD_NAMES)
def test_every_payload_file_parses_into_one_message_or_one_status(name: str) -> None:
    if name.startswith("status_"):
        batch = parse_status_callback(form_of(name), now=NOW)
        assert (len(batch.messages), len(batch.statuses)) == (0, 1)
    else:
        batch = parse_webhook(form_of(name), now=NOW)
        assert (len(batch.messages), len(batch.statuses)) == (1, 0)
        assert batch.messages[0].is_from_user


# --- parse_webhook ---------------------------------------------------------------------------


def test_text_message_becomes_one_inbound_message() -> None:
    assert parse_webhook(form_of("text_message"), now=NOW) == WebhookBatch(
        messages=(
            InboundMessage(
                channel=Channel.WHATSAPP,
                provider="twilio",
                provider_message_id="SM11111111111111111111111111111111",
                contact=ANA,
                reply_address=ANA_ADDRESS,
                received_at=NOW,
                text="Hi, I want to order",
                profile_name="Ana",
                phone="+5511988887777",
            ),
        )
    )


def test_every_shape_of_form_parses_alike() -> None:
    lists = form_of("text_message")
    expected = parse_webhook(lists, now=NOW)
    multidict = MultiDict((key, value) for key, values in lists.items() for value in values)
    singles = {key: values[0] for key, values in lists.items()}
    assert parse_webhook(multidict, now=NOW) == expected
    assert parse_webhook(singles, now=NOW) == expected


def test_quick_reply_tap_gives_the_button_payload_and_title() -> None:
    (message,) = parse_webhook(form_of("button_reply"), now=NOW).messages
    assert (message.text, message.choice_id, message.contact) == ("Yes, confirm", "order_confirm", ANA)


def test_list_selection_gives_the_item_id_and_title() -> None:
    (message,) = parse_webhook(form_of("list_reply"), now=NOW).messages
    assert (message.text, message.choice_id) == ("Large pizza", "sku_large")


def test_list_id_is_read_before_button_payload_and_body_is_the_last_resort() -> None:
    base = {"MessageSid": "SM1", "From": ANA_ADDRESS, "MessageType": "interactive", "Body": "Large pizza"}
    both = {**base, "ListId": "sku_large", "ButtonPayload": "other"}
    (message,) = parse_webhook(both, now=NOW).messages
    assert message.choice_id == "sku_large"
    (titled,) = parse_webhook(
        {**base, "ListTitle": "Large pizza", "ButtonPayload": "sku_large"}, now=NOW
    ).messages
    assert (titled.text, titled.choice_id) == ("Large pizza", "sku_large")
    (plain,) = parse_webhook(base, now=NOW).messages
    assert (plain.text, plain.choice_id) == ("Large pizza", None)


def test_button_without_button_text_takes_the_body() -> None:
    form = {"MessageSid": "SM1", "From": ANA_ADDRESS, "Body": "Yes", "ButtonPayload": "yes"}
    (message,) = parse_webhook(form, now=NOW).messages
    assert (message.text, message.choice_id) == ("Yes", "yes")


def test_image_keeps_its_url_type_and_caption_also_as_text() -> None:
    (message,) = parse_webhook(form_of("image_with_caption"), now=NOW).messages
    assert message.provider_message_id == "MM66666666666666666666666666666666"
    assert message.media == (
        Media(kind="image", reference=MEDIA_URL, mime_type="image/jpeg", caption="this one please"),
    )
    assert message.text == "this one please"


def test_document_without_caption_has_no_caption() -> None:
    (message,) = parse_webhook(form_of("document_without_caption"), now=NOW).messages
    (media,) = message.media
    assert (media.kind, media.mime_type, media.caption, message.text) == (
        "document",
        "application/pdf",
        None,
        "",
    )
    assert media.reference.endswith("/Media/ME99999999999999999999999999999999")


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("image/jpeg", "image"),
        ("image/webp", "image"),
        ("video/mp4", "video"),
        ("audio/ogg", "audio"),
        ("application/pdf", "document"),
        ("text/vcard", "document"),
        ("", "document"),
    ],
)
def test_media_kind_follows_the_content_type(content_type: str, kind: str) -> None:
    form = {"MessageSid": "MM1", "From": ANA_ADDRESS, "NumMedia": "1", "MediaUrl0": "https://m.example/0",
            "MediaContentType0": content_type}  # fmt: skip
    (message,) = parse_webhook(form, now=NOW).messages
    assert message.media[0].kind == kind


def test_every_media_of_a_message_is_kept_in_order() -> None:
    form = {"MessageSid": "MM1", "From": ANA_ADDRESS, "Body": "both", "NumMedia": "2",
            "MediaUrl0": "https://m.example/0", "MediaContentType0": "image/png",
            "MediaUrl1": "https://m.example/1", "MediaContentType1": "video/mp4"}  # fmt: skip
    (message,) = parse_webhook(form, now=NOW).messages
    assert [(m.reference, m.kind, m.caption) for m in message.media] == [
        ("https://m.example/0", "image", "both"),
        ("https://m.example/1", "video", None),
    ]


def test_location_is_translated() -> None:
    (message,) = parse_webhook(form_of("location"), now=NOW).messages
    assert message.location == Location(
        latitude=-6.2, longitude=106.816666, name="Monas", address="Gambir, Central Jakarta"
    )
    assert (message.text, message.media) == ("", ())


def test_garbled_coordinates_give_no_location() -> None:
    form = {"MessageSid": "SM1", "From": ANA_ADDRESS, "Latitude": "north", "Longitude": "1.0"}
    (message,) = parse_webhook(form, now=NOW).messages
    assert message.location is None


def test_sender_without_wa_id_is_read_from_from() -> None:
    (message,) = parse_webhook(
        {"MessageSid": "SM1", "From": "whatsapp:+6281234567890", "Body": "x"}, now=NOW
    ).messages
    assert (message.contact.value, message.reply_address) == ("+6281234567890", "whatsapp:+6281234567890")


def test_garbled_wa_id_does_not_hide_a_good_from() -> None:
    form = {"MessageSid": "SM1", "WaId": "not-a-number", "From": ANA_ADDRESS}
    (message,) = parse_webhook(form, now=NOW).messages
    assert message.contact == ANA


def test_wa_id_alone_gives_a_whatsapp_reply_address() -> None:
    (message,) = parse_webhook({"MessageSid": "SM1", "WaId": "5511988887777"}, now=NOW).messages
    assert (message.contact, message.reply_address) == (ANA, ANA_ADDRESS)


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"From": ANA_ADDRESS, "Body": "no sid"},
        {"MessageSid": "", "From": ANA_ADDRESS},
        {"MessageSid": "SM1", "Body": "from nobody"},
        {"MessageSid": "SM1", "From": "whatsapp:not-a-number"},
        {"MessageSid": "SM1", "From": "+5511988887777"},  # an SMS, not WhatsApp
        {"MessageSid": "SM1", "From": "messenger:123456"},
    ],
)
def test_form_that_is_not_a_twilio_whatsapp_message_is_malformed(form: dict[str, str]) -> None:
    with pytest.raises(MalformedWebhook):
        parse_webhook(form, now=NOW)


def test_unknown_parameters_are_ignored() -> None:
    form = {**form_of("text_message"), "SomethingNew": ["42"], "ChannelMetadata": ['{"type":"whatsapp"}']}
    assert parse_webhook(form, now=NOW) == parse_webhook(form_of("text_message"), now=NOW)


# --- parse_status_callback -------------------------------------------------------------------


def test_read_status_becomes_a_delivery_status() -> None:
    assert parse_status_callback(form_of("status_read"), now=NOW) == WebhookBatch(
        statuses=(
            DeliveryStatus(
                provider="twilio",
                provider_message_id="SM33333333333333333333333333333333",
                state=DeliveryState.READ,
                at=NOW,
            ),
        )
    )


def test_failed_status_carries_the_error_code() -> None:
    (status,) = parse_status_callback(form_of("status_failed"), now=NOW).statuses
    assert (status.state, status.error_code) == (DeliveryState.FAILED, "63016")


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("queued", DeliveryState.QUEUED),
        ("accepted", DeliveryState.QUEUED),
        ("scheduled", DeliveryState.QUEUED),
        ("sending", DeliveryState.SENT),
        ("sent", DeliveryState.SENT),
        ("delivered", DeliveryState.DELIVERED),
        ("read", DeliveryState.READ),
        ("failed", DeliveryState.FAILED),
        ("undelivered", DeliveryState.FAILED),
        ("canceled", DeliveryState.FAILED),
    ],
)
def test_message_status_maps_to_a_delivery_state(value: str, state: DeliveryState) -> None:
    form = {"MessageSid": "SM9", "MessageStatus": value, "ErrorCode": "30008"}
    (status,) = parse_status_callback(form, now=NOW).statuses
    assert status.state is state
    assert status.error_code == ("30008" if state is DeliveryState.FAILED else None)


@pytest.mark.parametrize("value", ["receiving", "received", "partially_delivered", "warp-speed"])
def test_other_statuses_are_ignored(value: str) -> None:
    assert parse_status_callback({"MessageSid": "SM9", "MessageStatus": value}, now=NOW) == WebhookBatch()


def test_legacy_sms_status_stands_in_for_message_status() -> None:
    (status,) = parse_status_callback({"MessageSid": "SM9", "SmsStatus": "delivered"}, now=NOW).statuses
    assert status.state is DeliveryState.DELIVERED


@pytest.mark.parametrize("form", [{}, {"MessageStatus": "read"}, {"MessageSid": "SM9"}])
def test_form_that_is_not_a_status_callback_is_malformed(form: dict[str, str]) -> None:
    with pytest.raises(MalformedWebhook):
        parse_status_callback(form, now=NOW)


# --- TwilioSender against a loopback Messages API -----------------------------------------


def sent_sid(request: RecordedRequest) -> str:
    """The sid the loopback API gives a request: 34 characters, ``SM`` + 32 hex, one per request."""
    return "SM" + hashlib.md5(repr(request.received_at).encode() + request.body).hexdigest()


def accepted(request: RecordedRequest) -> Response:
    """What Twilio answers to an accepted send: 201 and the new Message resource."""
    form = request.form or {}
    sid = sent_sid(request)
    return Response(
        201,
        {
            "account_sid": ACCOUNT_SID,
            "api_version": "2010-04-01",
            "body": form.get("Body", [""])[0],
            "date_created": "Thu, 20 Aug 2026 10:00:00 +0000",
            "date_sent": None,
            "date_updated": "Thu, 20 Aug 2026 10:00:00 +0000",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From", [""])[0],
            "messaging_service_sid": None,
            "num_media": str(len(form.get("MediaUrl", []))),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"},
            "to": form.get("To", [""])[0],
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
        },
    )


def twilio_error(status: int, code: int, message: str = "something went wrong") -> Response:
    """Twilio's error body for the Messages API."""
    return Response(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


@pytest.fixture
def api(provider_server: ProviderServer) -> ProviderServer:
    """The loopback Messages API, accepting every send unless a test scripts otherwise."""
    provider_server.default = accepted
    return provider_server


@pytest.fixture
async def sender(api: ProviderServer) -> AsyncIterator[TwilioSender]:
    twilio = TwilioSender(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_=OUR_NUMBER, api_base=api.base_url, timeout=5.0
    )
    yield twilio
    await twilio.close()


def outbound(reply: Reply, *, address: str = ANA_ADDRESS) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=1,
        channel=Channel.WHATSAPP,
        provider="twilio",
        contact_key="whatsapp:+5511988887777",
        address=address,
        reply=reply,
    )


HI = TextReply(text="Hi")


async def test_text_is_posted_as_twilio_expects_with_basic_auth(
    sender: TwilioSender, api: ProviderServer
) -> None:
    receipt = await sender.send(outbound(TextReply(text="Hello!")))
    (request,) = api.requests
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request.form == {"To": [ANA_ADDRESS], "From": [OUR_NUMBER], "Body": ["Hello!"]}
    assert receipt == SendReceipt(provider_message_id=sent_sid(request))


@pytest.mark.parametrize(
    "address", ["whatsapp:+5511988887777", "+5511988887777", "5511988887777", " whatsapp:+55 11 98888-7777"]
)
async def test_recipient_is_normalised_to_a_whatsapp_address(
    sender: TwilioSender, api: ProviderServer, address: str
) -> None:
    await sender.send(outbound(HI, address=address))
    assert api.requests[0].form["To"] == [ANA_ADDRESS]


def test_sending_number_is_normalised_too() -> None:
    assert whatsapp_address("+14155238886") == OUR_NUMBER
    assert whatsapp_address(OUR_NUMBER) == OUR_NUMBER
    with pytest.raises(ValueError):
        TwilioSender(
            account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_="whatsapp:nobody", api_base="http://x"
        )


async def test_long_text_is_split_in_order_and_receipt_names_the_first_part(
    sender: TwilioSender, api: ProviderServer
) -> None:
    text = "\n\n".join(f"Paragraph {n}. " + "word " * 120 + "end." for n in range(6))
    receipt = await sender.send(outbound(TextReply(text=text)))
    bodies = [request.form["Body"][0] for request in api.requests]
    assert len(bodies) > 1 and all(len(body) <= 1600 for body in bodies)
    assert "\n\n".join(bodies) == text
    assert [r.received_at for r in api.requests] == sorted(r.received_at for r in api.requests)
    assert all(request.form["To"] == [ANA_ADDRESS] for request in api.requests)
    assert receipt == SendReceipt(provider_message_id=sent_sid(api.requests[0]))


async def test_buttons_are_sent_as_a_numbered_menu(sender: TwilioSender, api: ProviderServer) -> None:
    buttons = (Button(id="order_confirm", title="Yes, confirm"), Button(id="order_cancel", title="Cancel"))
    reply = ButtonsReply(text="Confirm your order?", buttons=buttons, footer="Answer with a number")
    await sender.send(outbound(reply))
    (request,) = api.requests
    assert request.form["Body"] == [reply_text(reply)]
    assert (
        request.form["Body"][0] == "Confirm your order?\n\n1. Yes, confirm\n2. Cancel\n\nAnswer with a number"
    )


async def test_list_is_sent_as_a_numbered_menu(sender: TwilioSender, api: ProviderServer) -> None:
    rows = tuple(Button(id=f"sku_{i}", title=f"Pizza {i}") for i in range(1, 13))
    reply = ListReply(text="Pick a size", button_label="See sizes", options=rows)
    await sender.send(outbound(reply))
    (request,) = api.requests
    assert request.form["Body"] == [reply_text(reply)]
    assert "12. Pizza 12" in request.form["Body"][0]


async def test_image_goes_by_media_url_with_its_caption_as_body(
    sender: TwilioSender, api: ProviderServer
) -> None:
    menu = "https://cdn.example.com/menu.jpg"
    await sender.send(outbound(MediaReply(kind="image", url=menu, caption="Today's menu")))
    (request,) = api.requests
    assert request.form == {
        "To": [ANA_ADDRESS],
        "From": [OUR_NUMBER],
        "Body": ["Today's menu"],
        "MediaUrl": [menu],
    }


async def test_document_caption_goes_first_as_its_own_text(sender: TwilioSender, api: ProviderServer) -> None:
    invoice = "https://cdn.example.com/i/42.pdf"
    await sender.send(
        outbound(MediaReply(kind="document", url=invoice, caption="Your invoice", filename="i.pdf"))
    )
    assert [request.form for request in api.requests] == [
        {"To": [ANA_ADDRESS], "From": [OUR_NUMBER], "Body": ["Your invoice"]},
        {"To": [ANA_ADDRESS], "From": [OUR_NUMBER], "MediaUrl": [invoice]},
    ]


async def test_media_without_caption_has_no_body(sender: TwilioSender, api: ProviderServer) -> None:
    await sender.send(outbound(MediaReply(kind="image", url="https://cdn.example.com/a.png")))
    assert "Body" not in api.requests[0].form


async def test_status_callback_is_sent_when_configured(api: ProviderServer) -> None:
    twilio = TwilioSender(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_=OUR_NUMBER,
        api_base=api.base_url,
        status_callback=STATUS_URL,
    )
    try:
        await twilio.send(outbound(HI))
    finally:
        await twilio.close()
    # The callback names the outbox job, so a send whose answer was lost is recognised.
    assert api.requests[0].form["StatusCallback"] == [f"{STATUS_URL}?outbox=1"]


async def test_no_status_callback_unless_configured(sender: TwilioSender, api: ProviderServer) -> None:
    await sender.send(outbound(HI))
    assert "StatusCallback" not in api.requests[0].form


async def test_api_base_may_carry_a_path_prefix(api: ProviderServer) -> None:
    twilio = TwilioSender(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_=OUR_NUMBER, api_base=api.url("/proxy/")
    )
    try:
        await twilio.send(outbound(HI))
    finally:
        await twilio.close()
    assert api.requests[0].path == "/proxy" + MESSAGES_PATH


async def test_a_sender_handed_an_http_client_leaves_it_open(api: ProviderServer) -> None:
    from twilio.http.async_http_client import AsyncTwilioHttpClient

    http_client = AsyncTwilioHttpClient()
    twilio = TwilioSender(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_=OUR_NUMBER,
        api_base=api.base_url,
        http_client=http_client,
    )
    try:
        await twilio.send(outbound(HI))
        await twilio.close()
        assert not http_client.session.closed
        await twilio.send(outbound(HI))
    finally:
        await http_client.close()
    assert len(api.requests) == 2


async def test_a_closed_sender_opens_a_new_session_when_used_again(
    sender: TwilioSender, api: ProviderServer
) -> None:
    await sender.send(outbound(HI))
    await sender.close()
    await sender.send(outbound(HI))
    assert len(api.requests) == 2


async def test_invalid_recipient_is_refused_without_a_request(
    sender: TwilioSender, api: ProviderServer
) -> None:
    for address in ("bsuid:US.13491208655302741918", "123456789@lid", "nobody"):
        with pytest.raises(PermanentFailure):
            await sender.send(outbound(HI, address=address))
    assert api.requests == []


async def test_empty_reply_is_refused_without_a_request(sender: TwilioSender, api: ProviderServer) -> None:
    with pytest.raises(PermanentFailure):
        await sender.send(outbound(TextReply(text="  ")))
    assert api.requests == []


# --- TwilioSender: failures ------------------------------------------------------------------


async def test_server_error_is_temporary(sender: TwilioSender, api: ProviderServer) -> None:
    api.script(MESSAGES_PATH, [Response(500, body="oops")])
    with pytest.raises(TemporaryFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code is None


async def test_server_error_with_a_twilio_body_is_temporary(
    sender: TwilioSender, api: ProviderServer
) -> None:
    api.script(MESSAGES_PATH, [twilio_error(503, 20503, "Service unavailable")])
    with pytest.raises(TemporaryFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == "20503"


async def test_too_many_requests_is_rate_limited(sender: TwilioSender, api: ProviderServer) -> None:
    api.script(MESSAGES_PATH, [twilio_error(429, 20429, "Too Many Requests")])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI))
    assert (caught.value.code, caught.value.retry_after) == ("20429", None)


async def test_channel_rate_limit_is_rate_limited_whatever_the_status(
    sender: TwilioSender, api: ProviderServer
) -> None:
    api.script(MESSAGES_PATH, [twilio_error(400, 63018)])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == "63018"


async def test_http_429_without_a_twilio_code_is_rate_limited(
    sender: TwilioSender, api: ProviderServer
) -> None:
    api.script(MESSAGES_PATH, [Response(429, body="slow down")])
    with pytest.raises(RateLimited):
        await sender.send(outbound(HI))


async def test_outside_the_24_hour_window_is_permanent(sender: TwilioSender, api: ProviderServer) -> None:
    api.script(
        MESSAGES_PATH, [twilio_error(400, 63016, "Failed to send freeform message outside the window")]
    )
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == "63016"
    assert "63016" in caught.value.reason


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, 63003), (400, 63024), (400, 63007), (400, 63014), (400, 63021), (400, 63030), (400, 63032),
     (400, 21211), (400, 21617), (400, 21658), (401, 20003), (404, 20404), (500, 63016), (429, 63024)],
)  # fmt: skip
async def test_refusals_are_permanent_with_twilios_code(
    sender: TwilioSender, api: ProviderServer, status: int, code: int
) -> None:
    api.script(MESSAGES_PATH, [twilio_error(status, code)])
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == str(code)


async def test_client_error_without_a_twilio_body_is_permanent(
    sender: TwilioSender, api: ProviderServer
) -> None:
    api.script(MESSAGES_PATH, [Response(404, body="<html>no</html>")])
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code is None


async def test_problem_details_error_is_mapped_by_its_code(sender: TwilioSender, api: ProviderServer) -> None:
    problem = {
        "type": "https://www.twilio.com/docs/errors/20429",
        "title": "Too many requests",
        "status": 429,
        "code": 20429,
    }
    api.script(MESSAGES_PATH, [Response(429, problem)])
    with pytest.raises(RateLimited) as caught:
        await sender.send(outbound(HI))
    assert caught.value.code == "20429"


async def test_connection_refused_is_temporary() -> None:
    twilio = TwilioSender(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_=OUR_NUMBER, api_base=refused_base_url()
    )
    try:
        with pytest.raises(TemporaryFailure) as caught:
            await twilio.send(outbound(HI))
    finally:
        await twilio.close()
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)


async def test_timeout_is_temporary(api: ProviderServer) -> None:
    api.script(MESSAGES_PATH, [Response(201, {"sid": "SMlate"}, delay=1.0)])
    twilio = TwilioSender(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_=OUR_NUMBER, api_base=api.base_url, timeout=0.1
    )
    try:
        with pytest.raises(TemporaryFailure):
            await twilio.send(outbound(HI))
    finally:
        await twilio.close()


async def test_failure_part_way_through_a_split_text_raises(
    sender: TwilioSender, api: ProviderServer
) -> None:
    api.script(MESSAGES_PATH, [accepted, twilio_error(503, 20503)])
    with pytest.raises(TemporaryFailure):
        await sender.send(outbound(TextReply(text="word " * 700)))
    assert len(api.requests) == 2


async def test_accepted_send_with_an_unreadable_body_still_counts(
    sender: TwilioSender, api: ProviderServer
) -> None:
    api.script(MESSAGES_PATH, [Response(201, body="not json")])
    assert await sender.send(outbound(HI)) == SendReceipt()

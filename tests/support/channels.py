"""One driver per channel: how a person's message reaches the gateway, signed as that provider
signs it, and how to read the reply that provider's REST API received.

Twilio requests are signed with the twilio library's own ``RequestValidator``; Telegram updates
are python-telegram-bot objects serialised with ``to_dict()``; Meta and WAHA bodies follow
PROVIDERS.md, signed with HMAC-SHA256 and HMAC-SHA512.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

import meta_webhooks
import telegram_updates
from provider_server import ProviderServer, RecordedRequest, Response

_numbers = itertools.count(10_000)
TWILIO_SID = "AC00000000000000000000000000000001"
TWILIO_TOKEN = "e2e-twilio-auth-token"
PUBLIC_URL = "https://bot.example.com"
WAHA_KEY = "e2e-waha-hmac-key"
TELEGRAM_SECRET = "e2e-telegram-secret"


@dataclass(frozen=True)
class Post:
    """A webhook request as the provider makes it."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class MetaDriver:
    name = "meta"
    settings: dict[str, str] = {}
    reply_path = f"/{meta_webhooks.PHONE_NUMBER_ID}/messages"
    picks_by_button = True

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self.who = f"62812{next(_numbers):07d}"

    def _signed(self, body: bytes) -> Post:
        return Post("/webhooks/meta", body, {"Content-Type": "application/json",
                                              "X-Hub-Signature-256": meta_webhooks.sign(body, self._secret)})

    def text(self, words: str) -> Post:
        return self._signed(meta_webhooks.text(self.who, words))

    def choose(self, option_id: str, title: str) -> Post:
        return self._signed(meta_webhooks.button_reply(self.who, option_id, title))

    def script(self, server: ProviderServer) -> None:
        pass  # the gateway fixture already answers the Graph API

    def reply_text(self, request: RecordedRequest) -> str:
        body = request.json
        return body["text"]["body"] if body["type"] == "text" else body["interactive"]["body"]["text"]

    def is_mine(self, request: RecordedRequest) -> bool:
        return request.json.get("to") == self.who

    @property
    def contact(self) -> dict:
        return {"key": f"whatsapp:+{self.who}", "channel": "whatsapp", "phone": f"+{self.who}"}


class TwilioDriver:
    name = "twilio"
    settings = {
        "whatsapp_provider": "twilio", "twilio_account_sid": TWILIO_SID, "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from": "whatsapp:+14155238886", "public_url": PUBLIC_URL, "twilio_api_base": "",
    }
    reply_path = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    picks_by_button = False

    def __init__(self, secret: str) -> None:
        self.who = f"62813{next(_numbers):07d}"

    def text(self, words: str) -> Post:
        sid = "SM" + uuid.uuid4().hex
        params = {
            "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": TWILIO_SID,
            "From": f"whatsapp:+{self.who}", "To": "whatsapp:+14155238886", "WaId": self.who,
            "ProfileName": "Ana", "Body": words, "NumMedia": "0", "MessageType": "text",
            "SmsStatus": "received", "ApiVersion": "2010-04-01",
        }
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{PUBLIC_URL}/webhooks/twilio", params)
        return Post("/webhooks/twilio", urlencode(params).encode(),
                    {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})

    def choose(self, option_id: str, title: str) -> Post:
        raise NotImplementedError("Twilio menus are numbered text: the user answers by number")

    def script(self, server: ProviderServer) -> None:
        def created(request: RecordedRequest) -> Response:
            form = {k: v[0] for k, v in (request.form or {}).items()}
            return Response(201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "account_sid": TWILIO_SID,
                                  "to": form.get("To"), "from": form.get("From"), "body": form.get("Body"),
                                  "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01"})
        server.script(self.reply_path, [created] * 200)

    def reply_text(self, request: RecordedRequest) -> str:
        return request.form["Body"][0]

    def is_mine(self, request: RecordedRequest) -> bool:
        return (request.form or {}).get("To") == [f"whatsapp:+{self.who}"]

    @property
    def contact(self) -> dict:
        return {"key": f"whatsapp:+{self.who}", "channel": "whatsapp", "phone": f"+{self.who}"}


class WahaDriver:
    name = "waha"
    settings = {"whatsapp_provider": "waha", "waha_url": "", "waha_api_key": "e2e-waha-api-key",
                "waha_hmac_key": WAHA_KEY}
    reply_path = "/api/sendText"
    picks_by_button = False

    def __init__(self, secret: str) -> None:
        self.who = f"62814{next(_numbers):07d}"

    def text(self, words: str) -> Post:
        key = uuid.uuid4().hex[:20].upper()
        event = {
            "id": f"evt_{uuid.uuid4().hex}", "timestamp": int(time.time() * 1000), "event": "message",
            "session": "default", "engine": "NOWEB", "me": {"id": "14155550000@c.us", "pushName": "Shop"},
            "payload": {
                "id": f"false_{self.who}@c.us_{key}", "timestamp": int(time.time()), "from": f"{self.who}@c.us",
                "fromMe": False, "source": "app", "to": "14155550000@c.us", "body": words, "hasMedia": False,
                "ack": 1, "ackName": "SERVER",
                "_data": {"key": {"remoteJid": f"{self.who}@s.whatsapp.net", "fromMe": False, "id": key},
                          "pushName": "Ana", "message": {"conversation": words}},
            },
        }
        body = json.dumps(event).encode()
        signature = hmac.new(WAHA_KEY.encode(), body, hashlib.sha512).hexdigest()
        return Post("/webhooks/waha", body, {"Content-Type": "application/json", "X-Webhook-Hmac": signature,
                                             "X-Webhook-Hmac-Algorithm": "sha512"})

    def choose(self, option_id: str, title: str) -> Post:
        raise NotImplementedError("WAHA menus are numbered text: the user answers by number")

    def script(self, server: ProviderServer) -> None:
        def sent(request: RecordedRequest) -> Response:
            return Response(201, {"id": f"true_{request.json['chatId']}_{uuid.uuid4().hex[:20].upper()}"})
        server.script(self.reply_path, [sent] * 200)

    def reply_text(self, request: RecordedRequest) -> str:
        return request.json["text"]

    def is_mine(self, request: RecordedRequest) -> bool:
        return request.json.get("chatId") == f"{self.who}@c.us"

    @property
    def contact(self) -> dict:
        return {"key": f"whatsapp:+{self.who}", "channel": "whatsapp", "phone": f"+{self.who}"}


class TelegramDriver:
    name = "telegram"
    settings = {"telegram_webhook_secret": TELEGRAM_SECRET}
    picks_by_button = True

    def __init__(self, secret: str) -> None:
        from gateway import TELEGRAM_TOKEN

        self.reply_path = f"/bot{TELEGRAM_TOKEN}/sendMessage"
        self.who = 700_000_000 + next(_numbers)
        self._last_keyboard: list[tuple[str, str]] = []

    def _post(self, body: bytes) -> Post:
        return Post("/webhooks/telegram", body, {"Content-Type": "application/json",
                                                 "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})

    def text(self, words: str) -> Post:
        return self._post(telegram_updates.text_update(self.who, words))

    def choose(self, option_id: str, title: str) -> Post:
        return self._post(telegram_updates.callback_update(self.who, option_id, buttons=[(title, option_id)]))

    def script(self, server: ProviderServer) -> None:
        pass  # the gateway fixture answers sendMessage (admin notices share the path)

    def reply_text(self, request: RecordedRequest) -> str:
        return bot_api_fields(request)["text"]

    def is_mine(self, request: RecordedRequest) -> bool:
        return str(bot_api_fields(request).get("chat_id")) == str(self.who)

    @property
    def contact(self) -> dict:
        return {"key": f"telegram:tg:{self.who}", "channel": "telegram", "phone": None}


def bot_api_fields(request: RecordedRequest) -> dict:
    """A Bot API call's parameters: python-telegram-bot posts them form-encoded, others JSON."""
    if request.json is not None:
        return request.json
    return {key: values[0] for key, values in (request.form or {}).items()}


DRIVERS = {driver.name: driver for driver in (MetaDriver, TwilioDriver, WahaDriver, TelegramDriver)}

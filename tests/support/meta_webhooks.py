"""Meta WhatsApp Cloud API webhook bodies, shaped as PROVIDERS.md section 2 documents them.

Composed here (fake ids) so tests can vary the contact, text and message id; the payload files
in tests/contract/payloads/meta are the fixed references the same shapes were taken from.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any

PHONE_NUMBER_ID = "106540352242922"
_ids = itertools.count(1)


def new_wamid() -> str:
    """A fresh message id in Meta's style."""
    return f"wamid.HBgLTEST{time.time_ns()}{next(_ids)}="


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header Meta sends for this body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _envelope(value: dict[str, Any]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
        **value,
    }
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(body, ensure_ascii=False).encode()


def _message(wa_id: str, name: str, message: dict[str, Any]) -> bytes:
    return _envelope({
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "timestamp": str(int(time.time())), **message}],
    })


def text(wa_id: str, body: str, *, wamid: str | None = None, name: str = "Ana", user_id: str | None = None) -> bytes:
    """A text message (``user_id``: the sender's business-scoped id too, as Meta adds it)."""
    message = {"id": wamid or new_wamid(), "type": "text", "text": {"body": body}}
    if user_id is None:
        return _message(wa_id, name, message)
    return _envelope({
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id, "user_id": user_id}],
        "messages": [{"from": wa_id, "from_user_id": user_id, "timestamp": str(int(time.time())), **message}],
    })


def text_from_username(user_id: str, body: str, *, name: str = "Ana") -> bytes:
    """A text from a user Meta identifies only by the business-scoped id (no phone number)."""
    return _envelope({
        "contacts": [{"profile": {"name": name}, "user_id": user_id}],
        "messages": [{"from_user_id": user_id, "id": new_wamid(), "timestamp": str(int(time.time())),
                      "type": "text", "text": {"body": body}}],
    })


def button_reply(wa_id: str, button_id: str, title: str, *, name: str = "Ana") -> bytes:
    """A tap on one of our reply buttons."""
    return _message(wa_id, name, {
        "id": new_wamid(), "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    })


def status(wamid: str, recipient: str, state: str) -> bytes:
    """A delivery status for a message we sent."""
    return _envelope({"statuses": [{
        "id": wamid, "status": state, "timestamp": str(int(time.time())), "recipient_id": recipient,
    }]})


def list_reply(wa_id: str, row_id: str, title: str, *, name: str = "Ana") -> bytes:
    """A choice from one of our list menus."""
    return _message(wa_id, name, {
        "id": new_wamid(), "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": title}},
    })


def image(wa_id: str, caption: str | None = None, *, name: str = "Ana") -> bytes:
    """A picture, with an optional caption."""
    media = {"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "a" * 64}
    if caption is not None:
        media["caption"] = caption
    return _message(wa_id, name, {"id": new_wamid(), "type": "image", "image": media})


def failed_status(wamid: str, recipient: str, code: int) -> bytes:
    """A delivery failure with Meta's error code."""
    return _envelope({"statuses": [{
        "id": wamid, "status": "failed", "timestamp": str(int(time.time())), "recipient_id": recipient,
        "errors": [{"code": code, "title": "Message failed to send"}],
    }]})

"""WAHA (self-hosted WhatsApp Web API): webhook Structs and parsing, the HMAC, WahaSender."""

from .rendering import render_reply
from .sender import WahaSender, chat_id_for
from .webhook import MalformedWebhook, parse_webhook, verify_signature

__all__ = [
    "MalformedWebhook",
    "WahaSender",
    "chat_id_for",
    "parse_webhook",
    "render_reply",
    "verify_signature",
]

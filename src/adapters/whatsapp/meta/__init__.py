"""The Meta WhatsApp Business Cloud API: webhook Structs and parsing, signatures, MetaSender."""

from .rendering import render_reply, shorten, split_text
from .sender import MetaSender, recipient_fields
from .webhook import MalformedWebhook, parse_webhook, verification_challenge, verify_signature

__all__ = [
    "MalformedWebhook",
    "MetaSender",
    "parse_webhook",
    "recipient_fields",
    "render_reply",
    "shorten",
    "split_text",
    "verification_challenge",
    "verify_signature",
]

"""WhatsApp through Twilio: webhook forms and their signature, status callbacks, TwilioSender."""

from .rendering import render_reply
from .sender import TwilioSender, whatsapp_address
from .webhook import (
    MalformedWebhook,
    form_values,
    parse_form,
    parse_status_callback,
    parse_webhook,
    verify_signature,
    webhook_url,
)

__all__ = [
    "MalformedWebhook",
    "TwilioSender",
    "form_values",
    "parse_form",
    "parse_status_callback",
    "parse_webhook",
    "render_reply",
    "verify_signature",
    "webhook_url",
    "whatsapp_address",
]

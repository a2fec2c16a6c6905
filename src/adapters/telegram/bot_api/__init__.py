"""The Telegram Bot API: the webhook secret, Update translation, and TelegramSender.

Built on python-telegram-bot: updates are parsed with ``telegram.Update.de_json`` and sends go
through ``telegram.Bot``; only Chatgate's own Structs leave the package. PROVIDERS.md section 4.
"""

from .rendering import callback_data_fits, render_reply
from .sender import TelegramSender
from .webhook import MalformedUpdate, parse_update, verify_secret

__all__ = [
    "MalformedUpdate",
    "TelegramSender",
    "callback_data_fits",
    "parse_update",
    "render_reply",
    "verify_secret",
]

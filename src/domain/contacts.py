"""Contact identity: one person, one id, whatever format a provider wrote it in.

A provider names one WhatsApp user many ways (``+6281234567890``, ``whatsapp:+62…``,
``6281234567890@c.us``, ``6281234567890:12@s.whatsapp.net``, ``123456789:12@lid``, Meta's
``US.1349…`` business-scoped id); ``whatsapp_contact`` folds them all into one ``ContactId``.
``normalise_phone`` reads a number a person typed, in the local forms of Indonesia and India.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from domain.errors import DomainError


class InvalidContactId(DomainError):
    """The string names no contact we can write to."""


class ChatKind(enum.StrEnum):
    """What kind of chat a message came from; only USER chats are answered."""

    USER = "user"
    GROUP = "group"
    BROADCAST = "broadcast"
    STATUS = "status"
    NEWSLETTER = "newsletter"
    CHANNEL = "channel"


class ContactId(msgspec.Struct, frozen=True, kw_only=True):
    """A contact's canonical identity on one channel.

    ``value`` is an E.164 phone number (``+6281234567890``) where one is known, else a
    prefixed provider id: ``lid:123456789`` (a WhatsApp LID), ``bsuid:US.1349…`` (Meta's
    business-scoped user id), ``tg:123456789`` (a Telegram user), ``sandbox:ana``.
    """

    channel: str
    value: str

    @property
    def key(self) -> str:
        """One string for storage and locks: ``whatsapp:+6281234567890``."""
        return f"{self.channel}:{self.value}"

    @property
    def may_be_alias(self) -> bool:
        """True for the ids a provider may send in place of a known phone (a LID, a BSUID)."""
        return self.value.startswith(("lid:", "bsuid:"))

    @property
    def phone(self) -> str | None:
        """The E.164 number, when the id is one."""
        return self.value if self.value.startswith("+") else None


# --- Phone numbers ---------------------------------------------------------------------------

COUNTRY_CODES: Mapping[str, str] = MappingProxyType({"ID": "62", "IN": "91"})
"""The countries whose local forms ``normalise_phone`` reads, and their calling codes."""

_SEPARATORS = re.compile(r"[\s\-.()\u2010-\u2015]")
_INDONESIA = re.compile(r"62(8\d{8,11}|[1-79]\d{7,11})")
_INDIA = re.compile(r"91[1-9]\d{9}")
_INDIAN_MOBILE = re.compile(r"[6-9]\d{9}")
_INDONESIAN_MOBILE = re.compile(r"8\d{8,11}")
_INTERNATIONAL = re.compile(r"[1-9]\d{7,14}")


def normalise_phone(raw: str, default_country: str = "ID") -> str | None:
    """The E.164 form of a typed phone number, or None when it is not a plausible one."""
    text = _SEPARATORS.sub("", _ascii_digits(raw))
    if text.startswith("+"):
        return _international(text[1:])
    if not text.isascii() or not text.isdigit():
        return None
    if text.startswith("00"):
        return _international(text[2:])
    if text.startswith("0"):
        return _trunk(text[1:], default_country.upper())
    return _national(text, default_country.upper()) or _known_country(text)


def _ascii_digits(raw: str) -> str:
    """The text with full-width forms folded and every decimal digit written 0-9."""
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(str(unicodedata.decimal(char, "")) or char for char in folded)


def _international(digits: str) -> str | None:
    """``+digits`` when the digits (calling code first) make a plausible E.164 number."""
    if digits[:2] in ("62", "91") and digits[2:3] == "0":
        digits = digits[:2] + digits[3:]  # "+62 (0)812…": a trunk 0 written after the code
    if digits.startswith("62"):
        return _e164(digits, _INDONESIA)
    if digits.startswith("91"):
        return _e164(digits, _INDIA)
    return _e164(digits, _INTERNATIONAL)


def _e164(digits: str, plan: re.Pattern[str]) -> str | None:
    """``+digits`` when the digits fit the numbering plan."""
    return f"+{digits}" if digits.isascii() and plan.fullmatch(digits) else None


def _trunk(national: str, country: str) -> str | None:
    """A number dialled with a local trunk 0 (``0812…``; ``091 98765…`` is India's code)."""
    if _INDIA.fullmatch(national) and _INDIAN_MOBILE.fullmatch(national[2:]):
        return f"+{national}"
    code = COUNTRY_CODES.get(country)
    return _international(code + national) if code and national[:1] != "0" else None


def _national(digits: str, country: str) -> str | None:
    """A local number written without its trunk 0, as people in the country write it."""
    if country == "IN" and _INDIAN_MOBILE.fullmatch(digits):
        return f"+91{digits}"
    if country == "ID" and _INDONESIAN_MOBILE.fullmatch(digits):
        return f"+62{digits}"
    return None


def _known_country(digits: str) -> str | None:
    """A number written with a calling code we know but without ``+`` (``62812…``)."""
    return _international(digits) if digits[:2] in ("62", "91") else None


# --- WhatsApp ids ------------------------------------------------------------------------------

_WHATSAPP = "whatsapp"
_TELEGRAM = "telegram"

_BSUID = re.compile(r"[A-Za-z]{2}(\.[A-Za-z0-9]+)+")
_JID = re.compile(r"(?P<user>[0-9]+)(:[0-9]+)?@(?P<server>c\.us|s\.whatsapp\.net|lid)")


def whatsapp_contact(raw: str) -> ContactId:
    """The contact a WhatsApp id names, in any of the forms providers write it."""
    text = raw.strip()
    if text[:9].lower() == "whatsapp:":
        text = text[9:].strip()
    if "@" in text:
        return _from_jid(text)
    if text.startswith("lid:") and text[4:].isascii() and text[4:].isdigit():
        return ContactId(channel=_WHATSAPP, value=text)
    if text.startswith("bsuid:"):
        return _from_bsuid(text[6:])
    if _BSUID.fullmatch(text):
        return _from_bsuid(text)
    return _from_international(text)


def _from_jid(jid: str) -> ContactId:
    """A contact from a WhatsApp Web JID; groups, broadcasts and newsletters are not contacts."""
    match = _JID.fullmatch(jid.lower())
    if match is None:
        raise InvalidContactId(f"not a WhatsApp user: {jid!r}")
    if match["server"] == "lid":
        return ContactId(channel=_WHATSAPP, value=f"lid:{match['user']}")
    return _from_international(match["user"])


def _from_bsuid(bsuid: str) -> ContactId:
    """A contact from Meta's business-scoped user id, kept exactly as Meta wrote it."""
    if not _BSUID.fullmatch(bsuid):
        raise InvalidContactId(f"not a business-scoped user id: {bsuid!r}")
    return ContactId(channel=_WHATSAPP, value=f"bsuid:{bsuid}")


def _from_international(number: str) -> ContactId:
    """A contact from a full international number; no local trunk is guessed."""
    phone = normalise_phone(number if number.startswith("+") else f"+{number}")
    if phone is None:
        raise InvalidContactId(f"not a WhatsApp number: {number!r}")
    return ContactId(channel=_WHATSAPP, value=phone)


def classify_whatsapp_chat(raw: str) -> ChatKind:
    """What kind of chat a WhatsApp chat id names."""
    chat = raw.strip().lower()
    if chat.endswith("@g.us"):
        return ChatKind.GROUP
    if chat == "status@broadcast":
        return ChatKind.STATUS
    if chat.endswith("@broadcast"):
        return ChatKind.BROADCAST
    if chat.endswith("@newsletter"):
        return ChatKind.NEWSLETTER
    return ChatKind.USER


def meta_contact(wa_id: str | None, user_id: str | None) -> ContactId:
    """The contact of a Meta webhook: the phone when Meta shares it, else the scoped id."""
    if wa_id:
        return _from_international(wa_id.strip())
    if user_id:
        return _from_bsuid(user_id.strip())
    raise InvalidContactId("the message names neither a wa_id nor a user_id")


def whatsapp_chat_id(contact: ContactId) -> str:
    """The WAHA chat id to write to: ``6281234567890@c.us`` or ``123456789@lid``."""
    if contact.channel == _WHATSAPP and contact.phone:
        return f"{contact.phone[1:]}@c.us"
    if contact.channel == _WHATSAPP and contact.value.startswith("lid:"):
        return f"{contact.value[4:]}@lid"
    raise InvalidContactId(f"no WhatsApp chat id for {contact.key!r}")


# --- Telegram ------------------------------------------------------------------------------

_TELEGRAM_CHATS: Mapping[str, ChatKind] = MappingProxyType(
    {
        "private": ChatKind.USER,
        "group": ChatKind.GROUP,
        "supergroup": ChatKind.GROUP,
        "channel": ChatKind.CHANNEL,
    }
)


def telegram_contact(user_id: int) -> ContactId:
    """The contact of a Telegram user (a positive id; negative ids are chats)."""
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
        raise InvalidContactId(f"not a Telegram user id: {user_id!r}")
    return ContactId(channel=_TELEGRAM, value=f"tg:{user_id}")


def classify_telegram_chat(chat_type: str) -> ChatKind:
    """What kind of chat a Telegram ``chat.type`` names; an unknown kind is not answered."""
    return _TELEGRAM_CHATS.get(chat_type.strip().lower(), ChatKind.GROUP)


# --- For people ----------------------------------------------------------------------------


def contact_label(contact: ContactId, profile_name: str | None) -> str:
    """How an operator sees the contact: ``Ana (+6281234567890)``, or the id alone."""
    name = " ".join((profile_name or "").split())
    identity = contact.phone or contact.value
    return f"{name} ({identity})" if name else identity

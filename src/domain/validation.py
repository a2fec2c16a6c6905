"""What a user typed, checked: either the clean value or a reason they can read.

Each validator returns ``Accepted(value=…)`` or ``Rejected(code=…, params=…)``; ``code`` is a
stable name (``quantity.over_stock``) and ``explain`` turns it into a polite sentence in the
user's language. ``sanitise`` cleans any text first: it removes what cannot be seen or stored
and keeps every script and emoji intact.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from domain.contacts import normalise_phone


class Accepted(msgspec.Struct, frozen=True, kw_only=True, tag="accepted"):
    """The answer is good; ``value`` is its clean form."""

    value: str | int


class Rejected(msgspec.Struct, frozen=True, kw_only=True, tag="rejected"):
    """The answer is not usable; ``code`` says why, ``params`` fill the explanation."""

    code: str
    params: dict[str, str] = {}


Verdict = Accepted | Rejected


# --- Cleaning ------------------------------------------------------------------------------

_NEWLINES = re.compile(r"\r\n|[\r\x85\u2028\u2029]")
_ALWAYS_INVISIBLE = frozenset("\u200b\u2060\ufeff")
_ZWNJ, _ZWJ = "\u200c", "\u200d"
# Scripts whose spelling needs ZWJ/ZWNJ between letters: Arabic, Syriac, Thaana, NKo and their
# extensions; Devanagari to Sinhala (the Indic scripts); Devanagari Extended; Arabic forms.
_JOINING_SCRIPTS = (
    (0x0600, 0x08FF),
    (0x0900, 0x0DFF),
    (0xA8E0, 0xA8FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFC),
)
_SKIN_TONES = range(0x1F3FB, 0x1F400)


def sanitise(text: str) -> str:
    """The text without control and invisible characters, in NFC, trimmed."""
    while (cleaned := _sanitise_once(text)) != text:
        text = cleaned
    return text


def _sanitise_once(text: str) -> str:
    """One cleaning pass (NFC may give a joiner new neighbours, so ``sanitise`` repeats it)."""
    text = _NEWLINES.sub("\n", text)
    kept = "".join(char for char in text if not _is_unwanted(char))
    kept = unicodedata.normalize("NFC", kept)
    joined = "".join(char for i, char in enumerate(kept) if not _is_stray_joiner(kept, i))
    return unicodedata.normalize("NFC", joined).strip()


def _is_unwanted(char: str) -> bool:
    """Controls (but newline and tab), lone surrogates and zero-width spaces."""
    if char in "\n\t":
        return False
    return char in _ALWAYS_INVISIBLE or unicodedata.category(char) in ("Cc", "Cs")


def _is_stray_joiner(text: str, i: int) -> bool:
    """A ZWJ or ZWNJ that joins nothing: not inside an emoji sequence or a joining script."""
    if text[i] not in (_ZWJ, _ZWNJ):
        return False
    return not (0 < i < len(text) - 1 and _joins(text, i))


def _joins(text: str, i: int) -> bool:
    """True when the joiner at ``i`` sits between two letters of a script that needs it."""
    before, after = text[i - 1], text[i + 1]
    if _in_joining_script(before) and _in_joining_script(after):
        return True
    return text[i] == _ZWJ and _is_emoji_part(before) and unicodedata.category(after) == "So"


def _in_joining_script(char: str) -> bool:
    """A letter or mark of Arabic, Devanagari or a sister script."""
    point = ord(char)
    in_range = any(low <= point <= high for low, high in _JOINING_SCRIPTS)
    return in_range and unicodedata.category(char)[0] in "LM"


def _is_emoji_part(char: str) -> bool:
    """What may end an emoji before a ZWJ: a symbol, a skin tone, or the emoji selector."""
    return unicodedata.category(char) == "So" or char == "\ufe0f" or ord(char) in _SKIN_TONES


# --- Validators ----------------------------------------------------------------------------

NAME_MAX_CHARS = 100
_QUANTITY = re.compile(r"([+-]?)(\d+)\s*(?:[^\W\d_][^\s\d]*)?")
_INDIAN_MOBILE = re.compile(r"\+91[6-9][0-9]{9}")
_PINCODE = re.compile(r"[1-9][0-9]{5}")


def check_message(text: str, max_chars: int) -> Verdict:
    """A message worth reading: not empty, and at most ``max_chars`` characters once cleaned."""
    clean = sanitise(text)
    if not clean:
        return Rejected(code="message.empty")
    if len(clean) > max_chars:
        return Rejected(code="message.too_long", params={"max": str(max_chars)})
    return Accepted(value=clean)


def validate_name(text: str) -> Verdict:
    """A person's name: at least two letters of any script, spaces collapsed."""
    name = " ".join(sanitise(text).split())
    if sum(1 for char in name if unicodedata.category(char)[0] == "L") < 2:
        return Rejected(code="name.too_short")
    if len(name) > NAME_MAX_CHARS:
        return Rejected(code="name.too_long", params={"max": str(NAME_MAX_CHARS)})
    return Accepted(value=name)


def validate_indian_mobile(text: str) -> Verdict:
    """An Indian mobile number, as E.164 (``+919876543210``)."""
    phone = normalise_phone(sanitise(text), default_country="IN")
    if phone is None:
        return Rejected(code="phone.invalid")
    if not _INDIAN_MOBILE.fullmatch(phone):
        return Rejected(code="phone.not_indian_mobile")
    return Accepted(value=phone)


def validate_pincode(text: str) -> Verdict:
    """An Indian PIN code: six digits, the first not 0 (``400 001`` is fine)."""
    digits = "".join(sanitise(text).split())
    if not digits.isdecimal() or len(digits) != 6:
        return Rejected(code="pincode.invalid")
    pincode = "".join(str(unicodedata.decimal(char)) for char in digits)
    if not _PINCODE.fullmatch(pincode):
        return Rejected(code="pincode.invalid")
    return Accepted(value=pincode)


def validate_quantity(text: str, stock: int) -> Verdict:
    """How many to order: a positive whole number (``3``, ``3 pcs``, ``3x``), at most ``stock``."""
    match = _QUANTITY.fullmatch(sanitise(text))
    if match is None:
        return Rejected(code="quantity.not_a_number")
    digits = match[2].lstrip("0") or "0"
    if match[1] == "-" or digits == "0":
        return Rejected(code="quantity.not_positive")
    if stock <= 0:
        return Rejected(code="quantity.out_of_stock")
    if len(digits) > len(str(stock)) or int(digits) > stock:
        return Rejected(code="quantity.over_stock", params={"stock": str(stock)})
    return Accepted(value=int(digits))


# --- Explanations --------------------------------------------------------------------------

_EXPLANATIONS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": {
            "message.empty": "I didn't catch anything there. Could you type your message?",
            "message.too_long": (
                "Sorry, that message is too long for me. "
                "Could you say it in {max} characters or fewer?"
            ),
            "name.too_short": "Could you tell me your name, using at least two letters?",
            "name.too_long": "That name is a little long. Could you keep it to {max} characters?",
            "phone.invalid": (
                "That doesn't look like a phone number. "
                "Could you send the digits, like 98765 43210?"
            ),
            "phone.not_indian_mobile": (
                "Please send an Indian mobile number: ten digits starting with 6, 7, 8 or 9."
            ),
            "pincode.invalid": "Please send your PIN code: six digits, like 400001.",
            "quantity.not_a_number": "Please send the quantity as a whole number, like 3.",
            "quantity.not_positive": "Please send a quantity of at least 1.",
            "quantity.out_of_stock": "Sorry, this item is out of stock right now.",
            "quantity.over_stock": (
                "Sorry, we only have {stock} left. Could you choose {stock} or fewer?"
            ),
            "unknown": "Sorry, I couldn't use that answer. Could you try again?",
        },
        "id": {
            "message.empty": "Pesannya belum terbaca. Boleh diketik ulang?",
            "message.too_long": (
                "Maaf, pesannya terlalu panjang. Boleh dipersingkat menjadi {max} karakter saja?"
            ),
            "name.too_short": "Boleh tahu nama Anda? Mohon tulis minimal dua huruf.",
            "name.too_long": "Namanya agak panjang. Mohon tulis maksimal {max} karakter.",
            "phone.invalid": (
                "Sepertinya itu bukan nomor telepon. Mohon kirim angkanya, misalnya 98765 43210."
            ),
            "phone.not_indian_mobile": (
                "Mohon kirim nomor ponsel India: sepuluh angka yang diawali 6, 7, 8 atau 9."
            ),
            "pincode.invalid": "Mohon kirim kode PIN Anda: enam angka, misalnya 400001.",
            "quantity.not_a_number": "Mohon kirim jumlahnya dalam angka bulat, misalnya 3.",
            "quantity.not_positive": "Mohon kirim jumlah minimal 1.",
            "quantity.out_of_stock": "Maaf, stok barang ini sedang habis.",
            "quantity.over_stock": (
                "Maaf, stok kami tinggal {stock}. Mohon pilih {stock} atau kurang."
            ),
            "unknown": "Maaf, jawaban itu belum bisa kami gunakan. Boleh dicoba lagi?",
        },
    }
)


def explain(rejection: Rejected, language: str) -> str:
    """A polite sentence telling the user what to fix, in their language (else English)."""
    catalogue = _EXPLANATIONS.get(_primary_language(language), _EXPLANATIONS["en"])
    template = catalogue.get(rejection.code, catalogue["unknown"])
    return template.format_map(defaultdict(str, rejection.params))


def _primary_language(language: str) -> str:
    """``id`` from ``id``, ``id-ID`` or ``id_ID``."""
    return language.strip().lower().replace("_", "-").split("-")[0]

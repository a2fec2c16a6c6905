"""The words every pack hears, in every language, and how typed text is compared.

Text is compared folded: case-folded, Latin accents and Arabic vowel marks dropped, digits of
any script written 0-9, spaces collapsed. Devanagari and Arabic letters are kept as they are,
so a word in those scripts is matched exactly (Arabic is written right to left; that is the
channel's concern, and numbers and option ids are left intact).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

from domain.validation import sanitise

LANGUAGES: Mapping[str, str] = MappingProxyType({
    "en": "English",
    "id": "Bahasa Indonesia",
    "hi": "हिन्दी",
    "es": "Español",
    "fr": "Français",
    "pt": "Português",
    "ar": "العربية",
})
"""The languages Chatgate speaks, each named in itself (what the language picker shows)."""

CHOOSE_LANGUAGE: Mapping[str, tuple[str, str]] = MappingProxyType({
    "en": ("Choose a language:", "Language"),
    "id": ("Pilih bahasa:", "Bahasa"),
    "hi": ("भाषा चुनें:", "भाषा"),
    "es": ("Elige un idioma:", "Idioma"),
    "fr": ("Choisissez une langue :", "Langue"),
    "pt": ("Escolha um idioma:", "Idioma"),
    "ar": ("اختر اللغة:", "اللغة"),
})
"""The language picker's text and list button, in each language (the engine's own words)."""


def fold(text: str) -> str:
    """Text as compared: case-folded, without Latin accents or Arabic marks, digits 0-9."""
    decomposed = unicodedata.normalize("NFKD", sanitise(text).casefold())
    kept = "".join(_ascii_digit(char) for char in decomposed if not _is_dropped_mark(char))
    return " ".join(unicodedata.normalize("NFC", kept).split())


def _is_dropped_mark(char: str) -> bool:
    """A combining accent of Latin (U+0300–U+036F) or an Arabic vowel mark (tashkeel)."""
    point = ord(char)
    return 0x0300 <= point <= 0x036F or 0x064B <= point <= 0x065F or point == 0x0670


def _ascii_digit(char: str) -> str:
    """A decimal digit of any script as 0-9; anything else unchanged."""
    value = unicodedata.decimal(char, None)
    return str(value) if value is not None else char


def words(text: str) -> list[str]:
    """The folded words of a text: runs of letters, marks and digits (so Devanagari holds)."""
    out, current = [], []
    for char in fold(text):
        if unicodedata.category(char)[0] in "LMN" or char == "'":
            current.append(char)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return [word.strip("'") for word in out if word.strip("'")]


def phrase(text: str) -> str:
    """A whole message as one comparable phrase: folded words joined by single spaces."""
    return " ".join(words(text))


def command(text: str) -> str:
    """A message read as a command: ``/menu@chatgate_bot`` and ``/start ref`` are ``menu``, ``start``."""
    folded = fold(text)
    if folded.startswith("/"):
        folded = folded[1:].split(" ", 1)[0].split("@", 1)[0]
    return phrase(folded)


# --- the global words ----------------------------------------------------------------------

MENU, HELP, RESTART, STOP, START, LANGUAGE = "menu", "help", "restart", "stop", "start", "language"

_GLOBAL: Mapping[str, tuple[str, ...]] = MappingProxyType({
    MENU: (
        "menu", "main menu", "menu utama", "menú", "menu principal", "menú principal",
        "मेनू", "मेन्यू", "मुख्य मेनू", "قائمة", "القائمة", "القائمة الرئيسية",
    ),
    HELP: (
        "help", "bantuan", "ayuda", "aide", "ajuda", "مساعدة", "مساعده", "मदद", "सहायता",
    ),
    RESTART: (
        "restart", "ulang", "mulai ulang", "mulai lagi", "reiniciar", "empezar de nuevo",
        "recommencer", "redémarrer", "recomeçar", "إعادة", "إعادة البدء", "फिर से शुरू",
        "रीस्टार्ट",
    ),
    STOP: (
        "stop", "berhenti", "unsubscribe", "parar", "detener", "arrêter", "arrêt",
        "توقف", "إيقاف", "रुको", "बंद", "बंद करो",
    ),
    START: (
        "start", "mulai", "empezar", "comenzar", "iniciar", "commencer", "démarrer",
        "começar", "ابدأ", "ابدا", "शुरू", "शुरू करें",
    ),
    LANGUAGE: ("language", "idioma", "langue", "lingua", "لغة", "اللغة", "भाषा"),
})

WORDS: Mapping[str, str] = MappingProxyType(
    {fold(word): kind for kind, spelled in _GLOBAL.items() for word in spelled}
)
"""Every global word, folded, and what it does."""

_LANGUAGE_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("en", "english", "inggris", "bahasa inggris", "inglés", "anglais", "inglês"),
    "id": ("id", "indonesia", "indonesian", "bahasa", "bahasa indonesia"),
    "hi": ("hindi", "हिन्दी", "हिंदी"),  # not the code: "hi" is a greeting
    "es": ("es", "spanish", "español", "espanol", "castellano"),
    "fr": ("fr", "french", "français", "francais"),
    "pt": ("pt", "portuguese", "português", "portugues"),
    "ar": ("ar", "arabic", "العربية", "عربي", "عربى"),
})

LANGUAGE_WORDS: Mapping[str, str] = MappingProxyType(
    {fold(name): code for code, names in _LANGUAGE_NAMES.items() for name in names}
    | {fold(name): code for code, name in LANGUAGES.items()}
)
"""A language's names (and codes), folded, and its code."""


def global_word(text: str) -> tuple[str, str | None] | None:
    """What a message does when it is a global word: ``("menu", None)``, ``("language", "es")``."""
    said = command(text)
    if said in LANGUAGE_WORDS:
        return LANGUAGE, LANGUAGE_WORDS[said]
    kind = WORDS.get(said)
    if kind is not None:
        return kind, None
    head, _, tail = said.partition(" ")
    if tail and (WORDS.get(head) == LANGUAGE or head == "bahasa"):
        return LANGUAGE, LANGUAGE_WORDS.get(tail)
    return None


# --- yes and no ----------------------------------------------------------------------------

_YES = ("yes", "y", "yeah", "yep", "ok", "okay", "ya", "iya", "betul", "benar", "sí", "si",
        "oui", "sim", "نعم", "ايوه", "हाँ", "हां", "haan", "ji", "जी")
_NO = ("no", "n", "nope", "tidak", "nggak", "gak", "bukan", "non", "não", "nao", "لا",
       "नहीं", "नही", "nahi", "nahin")
YES_NO: Mapping[str, str] = MappingProxyType(
    {fold(word): "yes" for word in _YES} | {fold(word): "no" for word in _NO}
)
"""Yes and no in every language, folded."""


# --- typos ---------------------------------------------------------------------------------


def close_enough(typed: str, known: str) -> bool:
    """True for a small typo: one edit in a word of 4-7 letters, two from 8 letters on."""
    if len(known) < 4 or len(typed) < 4:
        return typed == known
    allowed = 1 if len(known) < 8 else 2
    return abs(len(typed) - len(known)) <= allowed and _distance(typed, known, allowed) <= allowed


def _distance(a: str, b: str, cap: int) -> int:
    """Levenshtein distance, stopping early once every path exceeds ``cap``."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(current) > cap:
            return cap + 1
        previous = current
    return previous[-1]


# --- skipping an optional answer -------------------------------------------------------------

_SKIP = ("skip", "no", "none", "nope", "no photo", "lewati", "lewat", "tidak", "tidak ada", "gak", "nggak",
         "tanpa foto", "omitir", "saltar", "ninguna", "sin foto", "passer", "aucune", "sans photo", "pular",
         "nenhuma", "sem foto", "não", "nao", "تخطي", "تخطى", "لا", "بدون", "छोड़ें", "छोड़ो", "नहीं", "skip karo")
SKIP_WORDS: tuple[str, ...] = tuple(dict.fromkeys(phrase(word) for word in _SKIP))
"""What skips an optional answer (a photo), in every language, folded."""

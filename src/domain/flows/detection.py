"""Which language a contact's first message is in: a small heuristic, never a guess on nothing.

Script first (Arabic letters → ``ar``, Devanagari → ``hi``), then a greeting or opening
(``hola``, ``bonjour``, ``olá``/``oi``, ``halo``/``selamat``, ``hi``/``hello``, ``namaste``),
then a majority of everyday words of one language. None when nothing is clear: the pack's
default language (or the contact's) stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.flows.words import fold, words

_OPENINGS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("hi", "hello", "hey", "good morning", "good afternoon", "good evening", "i want",
           "i would", "i'd like", "i am", "i'm"),
    "id": ("halo", "hallo", "hai", "selamat", "permisi", "assalamualaikum", "pagi", "siang",
           "sore", "malam", "saya mau", "mau tanya", "kak", "gan"),
    "es": ("hola", "buenos dias", "buenas", "buen dia", "quiero", "quisiera"),
    "fr": ("bonjour", "bonsoir", "salut", "coucou", "je voudrais", "je veux"),
    "pt": ("ola", "oi", "bom dia", "boa tarde", "boa noite", "eu quero", "queria"),
    "hi": ("namaste", "namaskar", "namaskaar"),
})

_EVERYDAY: Mapping[str, frozenset[str]] = MappingProxyType({
    "en": frozenset("""a about am an and are ask can could do does for from get have hello help
        hey hi how i i'd i'm in information interested is it know like looking me more my need
        of on open own please some start thanks thank that the there this to want what when
        where which who why would you your morning afternoon evening good buy business price
        """.split()),
    "id": frozenset("""saya aku mau ingin tanya apa ada bisa boleh tidak dan atau yang untuk
        dengan dari ini itu berapa harga kak gan dong ya terima kasih info mohon kami kita
        bagaimana gimana kapan dimana daftar pesan pesanan beli cek""".split()),
    "es": frozenset("""hola quiero quisiera el la los las un una de del que por para con como
        cuanto cuesta gracias buenos buenas dias tardes noches necesito tengo informacion
        pedido donde esta mi cual hay tienda hacer""".split()),
    "fr": frozenset("""bonjour je voudrais veux le la les un une des du de que pour avec comment
        combien merci est et vous nous suis commande ma mon ou acheter""".split()),
    "pt": frozenset("""ola oi eu quero queria o a os as um uma do da de que para com como quanto
        custa obrigado obrigada voce bom boa dia tarde noite pedido onde meu minha fazer""".split()),
})


def detect_language(text: str) -> str | None:
    """The language a message is clearly in, or None."""
    return _by_script(text) or _by_opening(text) or _by_everyday_words(text)


def _by_script(text: str) -> str | None:
    """``ar`` for Arabic letters, ``hi`` for Devanagari, whichever comes first."""
    for char in text:
        point = ord(char)
        if 0x0600 <= point <= 0x06FF or 0x0750 <= point <= 0x077F or 0xFB50 <= point <= 0xFEFC:
            return "ar"
        if 0x0900 <= point <= 0x097F:
            return "hi"
    return None


def _by_opening(text: str) -> str | None:
    """The language whose greeting or opening the message starts with."""
    opening = " ".join(words(fold(text))[:2])
    for language, openings in _OPENINGS.items():
        if any(opening == o or opening.startswith(o + " ") for o in openings):
            return language
    return None


def _by_everyday_words(text: str) -> str | None:
    """The language most of the message's words are everyday words of."""
    said = words(fold(text))
    if not said:
        return None
    counts = {language: sum(w in known for w in said) for language, known in _EVERYDAY.items()}
    best = max(counts, key=lambda language: counts[language])
    ties = [language for language, count in counts.items() if count == counts[best]]
    return best if counts[best] * 2 > len(said) and len(ties) == 1 else None

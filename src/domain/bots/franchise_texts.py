"""What the franchise lead bot says, and the words it listens for, in Indonesian and English.

Messages are keyed by name; a key a language lacks falls back to English. Templates take
``{business}`` (the business's name) and, where noted, the values of one reply.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LANGUAGE = "id"
FALLBACK_LANGUAGE = "en"

TEXTS: Mapping[str, Mapping[str, str]] = {
    "id": {
        "welcome": (
            "Halo, selamat datang di {business}!\n"
            "Kami membantu Anda menemukan franchise yang cocok.\n\n"
            "Silakan pilih salah satu:"
        ),
        "menu_footer": "Balas dengan angka 1-3. Ketik bantuan untuk bantuan.",
        "option_franchise": "Cari franchise",
        "option_partnership": "Kemitraan",
        "option_question": "Tanya",
        "invalid_option": "Maaf, pilihan Anda belum kami kenali. Silakan pilih salah satu:",
        "form_request": (
            "Silakan isi data berikut dalam satu pesan:\n\n"
            "Sumber: (dari mana Anda mengenal kami)\n"
            "Bisnis: (jenis franchise yang Anda minati)\n"
            "Budget: (perkiraan modal)\n"
            "Rencana: (kapan Anda ingin mulai)\n\n"
            "Contoh:\n{example}"
        ),
        "form_reminder": (
            "Maaf, kami belum menemukan data formulir di pesan Anda. "
            "Silakan kirim dengan format:\n{example}"
        ),
        "form_partial": (
            "Terima kasih, sudah kami catat:\n{received}\n\n"
            "Masih kurang: {missing}. Silakan kirim data yang kurang."
        ),
        "form_received": (
            "Terima kasih! Data Anda sudah kami terima:\n{summary}\n\n"
            "Tim {business} akan segera menghubungi Anda."
        ),
        "partnership": (
            "Terima kasih atas minat Anda bermitra dengan {business}! "
            "Tim kemitraan kami akan segera menghubungi Anda.\n\n"
            "Ketik menu untuk kembali ke menu utama."
        ),
        "ask_question": "Silakan tulis pertanyaan Anda dalam satu pesan.",
        "question_received": (
            "Terima kasih, pertanyaan Anda sudah kami terima. Tim kami akan segera menjawab.\n\n"
            "Ada lagi yang bisa kami bantu?"
        ),
        "already_received": (
            "Terima kasih, data Anda sudah kami terima dan tim kami akan menghubungi Anda. "
            "Ketik menu untuk kembali ke menu utama."
        ),
        "escalation": (
            "Mohon maaf, kami belum bisa memahami pesan Anda. "
            "Tim kami akan segera menghubungi Anda secara langsung."
        ),
        "help": (
            "Kata yang bisa Anda ketik kapan saja:\n"
            "menu - kembali ke menu utama\n"
            "bantuan - pesan ini\n"
            "ulang - mulai dari awal\n"
            "berhenti - berhenti menerima pesan\n"
            "english - switch to English"
        ),
        "opted_out": (
            "Baik, Anda tidak akan menerima pesan lagi dari kami. "
            "Ketik mulai jika ingin memulai lagi."
        ),
    },
    "en": {
        "welcome": (
            "Hello, welcome to {business}!\n"
            "We help you find the right franchise.\n\n"
            "Please choose one:"
        ),
        "menu_footer": "Reply with 1-3. Type help for help.",
        "option_franchise": "Find a franchise",
        "option_partnership": "Partnership",
        "option_question": "Ask a question",
        "invalid_option": "Sorry, we didn't recognise that choice. Please choose one:",
        "form_request": (
            "Please send the following in one message:\n\n"
            "Sumber: (where you heard of us)\n"
            "Bisnis: (the kind of franchise you want)\n"
            "Budget: (your rough budget)\n"
            "Rencana: (when you plan to start)\n\n"
            "Example:\n{example}"
        ),
        "form_reminder": (
            "Sorry, we couldn't find the form in your message. "
            "Please send it like this:\n{example}"
        ),
        "form_partial": (
            "Thank you, we have noted:\n{received}\n\n"
            "Still missing: {missing}. Please send the rest."
        ),
        "form_received": (
            "Thank you! We have received your details:\n{summary}\n\n"
            "The {business} team will contact you soon."
        ),
        "partnership": (
            "Thank you for your interest in partnering with {business}! "
            "Our partnership team will contact you soon.\n\n"
            "Type menu to return to the main menu."
        ),
        "ask_question": "Please write your question in one message.",
        "question_received": (
            "Thank you, we have received your question. Our team will answer soon.\n\n"
            "Anything else we can help with?"
        ),
        "already_received": (
            "Thank you, we have received your details and our team will contact you. "
            "Type menu to return to the main menu."
        ),
        "escalation": (
            "Sorry, we couldn't understand your messages. "
            "A member of our team will contact you personally."
        ),
        "help": (
            "Words you can type at any time:\n"
            "menu - back to the main menu\n"
            "help - this message\n"
            "restart - start over\n"
            "stop - stop receiving messages\n"
            "indonesia - ganti ke Bahasa Indonesia"
        ),
        "opted_out": (
            "Done: you won't receive any more messages from us. Type start to begin again."
        ),
    },
}

FORM_EXAMPLE = "Sumber: Instagram\nBisnis: Kuliner\nBudget: 100 juta\nRencana: 3 bulan lagi"

FIELD_LABELS: Mapping[str, str] = {
    "sumber": "Sumber",
    "bisnis": "Bisnis",
    "budget": "Budget",
    "rencana": "Rencana",
}
"""The form's field names as the user writes them, the same in both languages."""


def text(language: str, key: str, **values: str) -> str:
    """The message ``key`` in ``language`` (English where that language lacks it), filled in."""
    catalogue = TEXTS.get(language, {})
    template = catalogue.get(key) or TEXTS[FALLBACK_LANGUAGE][key]
    return template.format(**values)


def rupiah(amount: int) -> str:
    """An amount of money the Indonesian way: ``Rp 100.000.000``."""
    return "Rp " + f"{amount:,}".replace(",", ".")


# --- Words the bot listens for --------------------------------------------------------------

START_WORDS = frozenset({"start", "mulai", "/start", "/mulai"})
"""The only words heard while a contact has opted out; otherwise they open the menu."""

MENU_WORDS = frozenset({"menu", "menu utama", "main menu", "/menu"}) | START_WORDS
HELP_WORDS = frozenset({"help", "bantuan", "/help", "/bantuan"})
RESTART_WORDS = frozenset({"restart", "ulang", "mulai ulang", "/restart", "/ulang"})
STOP_WORDS = frozenset({"stop", "berhenti", "unsubscribe", "/stop", "/berhenti"})

LANGUAGE_WORDS: Mapping[str, str] = {
    "english": "en",
    "bahasa inggris": "en",
    "inggris": "en",
    "en": "en",
    "/english": "en",
    "/en": "en",
    "indonesia": "id",
    "bahasa indonesia": "id",
    "bahasa": "id",
    "id": "id",
    "/indonesia": "id",
    "/id": "id",
}

OPTION_TITLES: Mapping[str, str] = {
    "opt_franchise": "option_franchise",
    "opt_partnership": "option_partnership",
    "opt_question": "option_question",
}
"""The menu's button ids, in menu order (option 1, 2, 3), and the key of each one's title."""

OPTION_IDS = tuple(OPTION_TITLES)

OPTION_WORDS: Mapping[str, str] = {
    "1": "opt_franchise",
    "satu": "opt_franchise",
    "one": "opt_franchise",
    "franchise": "opt_franchise",
    "franchisee": "opt_franchise",
    "waralaba": "opt_franchise",
    "2": "opt_partnership",
    "dua": "opt_partnership",
    "two": "opt_partnership",
    "kemitraan": "opt_partnership",
    "mitra": "opt_partnership",
    "partnership": "opt_partnership",
    "partner": "opt_partnership",
    "3": "opt_question",
    "tiga": "opt_question",
    "three": "opt_question",
    "tanya": "opt_question",
    "bertanya": "opt_question",
    "pertanyaan": "opt_question",
    "question": "opt_question",
    "ask": "opt_question",
}
"""Single words that name an option; a message naming two different options names none."""

ENGLISH_OPENINGS = (
    "hi",
    "hello",
    "hey",
    "good morning",
    "good afternoon",
    "good evening",
    "i want",
    "i would",
    "i'd like",
    "i am",
    "i'm",
)

COMMON_ENGLISH_WORDS = frozenset(
    """
    a about am an and are ask can could do does for from get have hello help hey hi how i i'd
    i'm in information interested is it know like looking me more my need of on open own please
    some start thanks thank that the there this to want what when where which who why would you
    your morning afternoon evening good buy business
    """.split()
)
"""Words that are everyday English and not everyday Indonesian."""

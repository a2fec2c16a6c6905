"""Every pack's texts in every language it speaks: what is missing, listed; what must be there, there.

A pack's required languages (every pack: English and Indonesian; the demo and the onboarding:
Hindi too; the demo: all seven) have no missing key. A language beyond those may fall back to
English; the test prints what it lacks (``pytest -s``), so a translator knows what to write.
"""

from __future__ import annotations

import re

import msgspec
import pytest

from adapters.packs.files import builtin_pack, builtin_pack_names
from domain.flows import Pack, decode_pack, missing_translations
from domain.flows.definition import ButtonsPrompt, Choice, ListPrompt
from domain.flows.explanations import EXPLANATIONS
from domain.flows.texts import explanation, lookup, placeholders
from domain.flows.words import LANGUAGES
from domain.validation import Rejected

EVERY = set(LANGUAGES)
REQUIRED = {
    "shop_orders": {"en", "id"},
    "msme_onboarding": {"en", "id", "hi"},
    "factory_ops": {"en", "id"},
    "franchise_leads": {"en", "id"},
    "demo": EVERY,
}
PACKS = {name: builtin_pack(name) for name in builtin_pack_names()}
DOMAIN_CODES = ["message.empty", "message.too_long", "name.too_short", "name.too_long", "phone.invalid",
                "phone.not_indian_mobile", "pincode.invalid", "quantity.not_a_number", "quantity.not_positive",
                "quantity.out_of_stock", "quantity.over_stock", "unknown"]


def test_every_shipped_pack_has_its_required_languages() -> None:
    assert set(PACKS) == set(REQUIRED)
    for name, pack in PACKS.items():
        assert REQUIRED[name] <= set(pack.languages), name


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_missing_translation_is_listed_and_the_required_languages_miss_none(name: str) -> None:
    pack = PACKS[name]
    missing = missing_translations(pack)

    for language in sorted(set(pack.languages) - REQUIRED[name]):
        if missing.get(language):
            print(f"{name}: {language} falls back to English for {', '.join(missing[language])}")
    assert {language: keys for language, keys in missing.items() if language in REQUIRED[name]} == {}


def test_a_missing_translation_falls_back_to_english_and_is_listed() -> None:
    shop = PACKS["shop_orders"]
    texts = {language: dict(found) for language, found in shop.texts.items()}
    del texts["fr"]["shop.welcome"], texts["ar"]["shop.pick"]
    partial = _with_texts(shop, texts)

    assert missing_translations(partial) == {"fr": ["shop.welcome"], "ar": ["shop.pick"]}
    assert lookup(partial, "fr", "shop.welcome") == shop.texts["en"]["shop.welcome"]


def _with_texts(pack: Pack, texts: dict[str, dict[str, str]]) -> Pack:
    return decode_pack(msgspec.json.encode(msgspec.structs.replace(pack, texts=texts)))


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_a_translation_uses_the_same_placeholders_as_the_english(name: str) -> None:
    pack = PACKS[name]
    english = pack.texts["en"]
    for language, texts in pack.texts.items():
        for key, template in texts.items():
            if key in english:
                assert set(placeholders(template)) == set(placeholders(english[key])), (language, key)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_option_titles_fit_whatsapp_buttons_and_list_rows_in_every_language(name: str) -> None:
    pack = PACKS[name]
    for flow in pack.flows.values():
        for step in flow.steps.values():
            limit = 20 if isinstance(step.prompt, ButtonsPrompt) else 24
            if isinstance(step.accepts, Choice):
                for option in step.accepts.options:
                    for language in pack.languages:
                        assert len(lookup(pack, language, option.title)) <= limit, (language, option.title)
            if isinstance(step.prompt, ListPrompt):
                for language in pack.languages:
                    assert len(lookup(pack, language, step.prompt.button)) <= 20, (language, step.prompt.button)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_arabic_texts_write_numbers_in_western_digits(name: str) -> None:
    for key, template in PACKS[name].texts.get("ar", {}).items():
        assert not re.search("[\u0660-\u0669\u06f0-\u06f9]", template), key


@pytest.mark.parametrize("language", sorted(EXPLANATIONS))
def test_the_engine_explains_every_refusal_in_the_languages_the_domain_does_not(language: str) -> None:
    assert set(EXPLANATIONS[language]) == set(DOMAIN_CODES)
    for code in DOMAIN_CODES:
        english = explanation(PACKS["demo"], "en", Rejected(code=code))
        assert explanation(PACKS["demo"], language, Rejected(code=code)) != english
    assert explanation(PACKS["demo"], language, Rejected(code="no.such.code")) == EXPLANATIONS[language]["unknown"]

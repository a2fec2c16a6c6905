"""Validators: clean values for good answers, readable reasons for the rest."""

from __future__ import annotations

import unicodedata

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.validation import (
    Accepted,
    Rejected,
    Verdict,
    check_message,
    explain,
    sanitise,
    validate_indian_mobile,
    validate_name,
    validate_pincode,
    validate_quantity,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
RUNNER = "\U0001f3c3\U0001f3fd\u200d\u2640\ufe0f"  # 🏃🏽‍♀️ (skin tone, then ZWJ)
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈 (variation selector, then ZWJ)
KSSA = "\u0915\u094d\u200d\u0937"  # क्‍ष: half form asked for with ZWJ
KSSA_ZWNJ = "\u0915\u094d\u200c\u0937"  # क्‌ष: explicit virama kept with ZWNJ
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # می‌خواهم

# --- sanitise --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("hi\x00 there", "hi there"),
        ("a\x07b\x1bc\x7fd", "abcd"),
        ("line one\r\nline two\rline three", "line one\nline two\nline three"),
        ("keep\ttabs\nand newlines", "keep\ttabs\nand newlines"),
        ("hi\u200bthere", "hithere"),
        ("\ufeffhello\u2060world", "helloworld"),
        ("  \n padded \t ", "padded"),
        ("a\u200db", "ab"),
        ("a\u200cb", "ab"),
        ("\u200d\U0001f44d", "\U0001f44d"),
        ("\U0001f44d\u200d", "\U0001f44d"),
        ("\ud800lone surrogate", "lone surrogate"),
    ],
)
def test_sanitise_removes_controls_and_invisible_characters(raw, clean):
    assert sanitise(raw) == clean


@pytest.mark.parametrize("text", [FAMILY, RUNNER, RAINBOW_FLAG, "I \u2764\ufe0f it \U0001f525"])
def test_zwj_inside_emoji_sequences_survives(text):
    assert sanitise(text) == text


@pytest.mark.parametrize("text", [KSSA, KSSA_ZWNJ, PERSIAN])
def test_joiners_between_devanagari_or_arabic_letters_survive(text):
    assert sanitise(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "\u0928\u092e\u0938\u094d\u0924\u0947",  # नमस्ते, with a virama and a vowel sign
        "\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627",  # مَرْحَبًا, with harakat
        "Selamat pagi \U0001f60a",
        "caf\u00e9 \u00fcber",
    ],
)
def test_scripts_with_combining_marks_and_emoji_stay_intact(text):
    assert sanitise(text) == text


def test_sanitise_applies_nfc():
    assert sanitise("cafe\u0301") == "caf\u00e9"


def test_removing_an_invisible_character_does_not_leave_text_unnormalised():
    assert sanitise("e\u200b\u0301") == "\u00e9"


def test_zwj_between_a_latin_letter_and_an_emoji_is_stray():
    assert sanitise("a\u200d\U0001f44d") == "a\U0001f44d"


@given(st.text())
def test_sanitise_is_idempotent(text):
    once = sanitise(text)
    assert sanitise(once) == once


@given(st.text(alphabet=st.characters(codec=None)))
def test_sanitise_never_raises_and_leaves_nothing_unwanted(text):
    clean = sanitise(text)
    assert clean == clean.strip()
    assert unicodedata.is_normalized("NFC", clean)
    assert not any(char in "\x00\r\u200b\u2060\ufeff" for char in clean)
    assert all(unicodedata.category(c) not in ("Cc", "Cs") or c in "\n\t" for c in clean)


_JOINING_TEXT = st.text(
    alphabet=st.sampled_from(
        ["\u200c", "\u200d", "\u0915", "\u094d", "\u0301", "\u093c", "\u0645", "\u064e", "e",
         "\U0001f468", "\U0001f3fd", "\ufe0f", "\u200b", " "]
    ),
    max_size=12,
)  # fmt: skip


@given(_JOINING_TEXT)
def test_sanitise_is_idempotent_around_joiners_and_marks(text):
    once = sanitise(text)
    assert sanitise(once) == once


# --- check_message ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\u200b\u200d", "\x00"])
def test_empty_or_invisible_message_is_rejected_as_empty(text):
    assert check_message(text, max_chars=100) == Rejected(code="message.empty")


def test_message_over_the_limit_is_too_long_and_names_the_limit():
    assert check_message("x" * 11, max_chars=10) == Rejected(
        code="message.too_long", params={"max": "10"}
    )


def test_message_at_the_limit_is_accepted_cleaned():
    assert check_message("  " + "x" * 10 + "  ", max_chars=10) == Accepted(value="x" * 10)


def test_message_length_is_counted_after_sanitising():
    assert check_message("ab\u200b\u200bcd" + "\x00" * 50, max_chars=4) == Accepted(value="abcd")


def test_message_length_counts_characters_not_bytes():
    assert check_message("\u0928\u092e\u0938\u094d\u0924\u0947", max_chars=6) == Accepted(
        value="\u0928\u092e\u0938\u094d\u0924\u0947"
    )


# --- validate_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Ana", "Ana"),
        ("  ana   maria\n", "ana maria"),
        ("\u0930\u093e\u092e", "\u0930\u093e\u092e"),  # राम
        ("\u0645\u062d\u0645\u062f", "\u0645\u062d\u0645\u062f"),  # محمد
        ("\u674e\u660e", "\u674e\u660e"),  # 李明
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("Ed", "Ed"),
    ],
)
def test_name_of_two_letters_or_more_in_any_script_is_accepted(raw, name):
    assert validate_name(raw) == Accepted(value=name)


@pytest.mark.parametrize("raw", ["", "A", "1234", "!!", "...", "\U0001f600\U0001f600", "A 1"])
def test_name_with_fewer_than_two_letters_is_too_short(raw):
    assert validate_name(raw) == Rejected(code="name.too_short")


def test_name_over_a_hundred_characters_is_too_long():
    assert validate_name("a" * 101) == Rejected(code="name.too_long", params={"max": "100"})
    assert validate_name("a" * 100) == Accepted(value="a" * 100)


def test_name_length_is_counted_after_collapsing_spaces():
    assert validate_name("ab" + " " * 200 + "cd") == Accepted(value="ab cd")


# --- validate_indian_mobile ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["9876543210", "98765 43210", "+91 98765 43210", "091 98765 43210", "0 98765 43210",
     "919876543210", "+91-98765-43210"],
)  # fmt: skip
def test_indian_mobile_in_any_form_is_accepted_as_e164(raw):
    assert validate_indian_mobile(raw) == Accepted(value="+919876543210")


@pytest.mark.parametrize("raw", ["6000000000", "7012345678", "8123456789"])
def test_indian_mobiles_start_with_six_to_nine(raw):
    assert validate_indian_mobile(raw) == Accepted(value=f"+91{raw}")


@pytest.mark.parametrize("raw", ["+62 812 3456 7890", "+91 11 2345 6789", "+1 555 123 4567"])
def test_real_number_that_is_no_indian_mobile_is_rejected_as_such(raw):
    assert validate_indian_mobile(raw) == Rejected(code="phone.not_indian_mobile")


@pytest.mark.parametrize("raw", ["", "12", "call me", "98765", "5876543210"])
def test_text_that_is_no_phone_number_is_rejected_as_invalid(raw):
    assert validate_indian_mobile(raw) == Rejected(code="phone.invalid")


# --- validate_pincode ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "pincode"),
    [("400001", "400001"), ("400 001", "400001"), (" 110 001 ", "110001"),
     ("\u096a\u0966\u0966\u0966\u0966\u0967", "400001")],
)  # fmt: skip
def test_six_digit_pincode_is_accepted(raw, pincode):
    assert validate_pincode(raw) == Accepted(value=pincode)


@pytest.mark.parametrize(
    "raw", ["", "040001", "40001", "4000011", "40000a", "400-001", "abcdef", "\u00b9\u00b2\u00b3456"]
)
def test_pincode_that_is_not_six_digits_starting_non_zero_is_invalid(raw):
    assert validate_pincode(raw) == Rejected(code="pincode.invalid")


# --- validate_quantity -----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["3", " 3 ", "3 pcs", "3pcs", "3x", "3 X", "+3", "03", "3 buah"])
def test_positive_whole_number_with_a_unit_is_a_quantity(raw):
    assert validate_quantity(raw, stock=10) == Accepted(value=3)


def test_quantity_equal_to_the_stock_is_accepted():
    assert validate_quantity("10", stock=10) == Accepted(value=10)


@pytest.mark.parametrize("raw", ["", "three", "3.5", "3,5", "x3", "3 or 4", "3-4", "3x4", "#3"])
def test_quantity_that_is_not_a_whole_number_is_rejected(raw):
    assert validate_quantity(raw, stock=10) == Rejected(code="quantity.not_a_number")


@pytest.mark.parametrize("raw", ["0", "-3", "000", "-0"])
def test_zero_or_negative_quantity_is_not_positive(raw):
    assert validate_quantity(raw, stock=10) == Rejected(code="quantity.not_positive")


@pytest.mark.parametrize("raw", ["11", "11 pcs", "9" * 5000])
def test_quantity_over_the_stock_names_what_is_left(raw):
    assert validate_quantity(raw, stock=10) == Rejected(
        code="quantity.over_stock", params={"stock": "10"}
    )


def test_nothing_can_be_ordered_when_nothing_is_in_stock():
    assert validate_quantity("1", stock=0) == Rejected(code="quantity.out_of_stock")


# --- Verdicts on the wire --------------------------------------------------------------------


def test_verdicts_round_trip_as_a_tagged_union():
    verdicts = [Accepted(value=3), Accepted(value="+919876543210"), Rejected(code="pincode.invalid")]
    encoded = msgspec.json.encode(verdicts)
    assert msgspec.json.decode(encoded, type=list[Verdict]) == verdicts
    assert b'"type":"rejected"' in encoded


def test_rejections_do_not_share_their_params():
    first, second = Rejected(code="a"), Rejected(code="b")
    assert first.params is not second.params


# --- explain ---------------------------------------------------------------------------------

ALL_REJECTIONS = [
    Rejected(code="message.empty"),
    Rejected(code="message.too_long", params={"max": "1000"}),
    Rejected(code="name.too_short"),
    Rejected(code="name.too_long", params={"max": "100"}),
    Rejected(code="phone.invalid"),
    Rejected(code="phone.not_indian_mobile"),
    Rejected(code="pincode.invalid"),
    Rejected(code="quantity.not_a_number"),
    Rejected(code="quantity.not_positive"),
    Rejected(code="quantity.out_of_stock"),
    Rejected(code="quantity.over_stock", params={"stock": "4"}),
]


@pytest.mark.parametrize("rejection", ALL_REJECTIONS, ids=lambda r: r.code)
@pytest.mark.parametrize("language", ["en", "id"])
def test_every_rejection_has_its_own_sentence_in_english_and_indonesian(rejection, language):
    sentence = explain(rejection, language)
    assert sentence != explain(Rejected(code="no.such.code"), language)
    assert sentence.endswith((".", "?")) and "{" not in sentence


def test_explanation_fills_in_the_stock_left():
    rejection = Rejected(code="quantity.over_stock", params={"stock": "4"})
    assert "4" in explain(rejection, "en")
    assert "4" in explain(rejection, "id")


def test_explanation_fills_in_the_maximum_length():
    rejection = check_message("x" * 20, max_chars=12)
    assert isinstance(rejection, Rejected)
    assert "12" in explain(rejection, "en")
    assert "12" in explain(rejection, "id")


def test_indonesian_explanation_is_not_english():
    rejection = Rejected(code="pincode.invalid")
    assert explain(rejection, "id") != explain(rejection, "en")


@pytest.mark.parametrize("language", ["fr", "", "hi", "xx-YY"])
def test_other_languages_fall_back_to_english(language):
    rejection = Rejected(code="name.too_short")
    assert explain(rejection, language) == explain(rejection, "en")


@pytest.mark.parametrize("language", ["id-ID", "id_ID", "ID", " id "])
def test_regional_language_tags_use_their_language(language):
    rejection = Rejected(code="name.too_short")
    assert explain(rejection, language) == explain(rejection, "id")


def test_unknown_code_still_gets_a_polite_sentence():
    assert explain(Rejected(code="no.such.code"), "en").startswith("Sorry")


def test_missing_params_leave_no_placeholder_behind():
    assert "{" not in explain(Rejected(code="quantity.over_stock"), "en")


# --- Validators never raise ------------------------------------------------------------------


@given(st.text(), st.integers(min_value=-5, max_value=10**6))
def test_validators_never_raise_on_arbitrary_text(text, stock):
    verdicts = [
        check_message(text, max_chars=50),
        validate_name(text),
        validate_indian_mobile(text),
        validate_pincode(text),
        validate_quantity(text, stock=stock),
    ]
    assert all(isinstance(verdict, Accepted | Rejected) for verdict in verdicts)
    assert all(explain(v, "id") for v in verdicts if isinstance(v, Rejected))


@given(st.text())
def test_accepted_values_are_already_clean(text):
    for verdict in (check_message(text, 50), validate_name(text), validate_pincode(text)):
        if isinstance(verdict, Accepted):
            assert verdict.value == sanitise(str(verdict.value))

"""Contact ids: every form a provider or a person writes names one contact."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.contacts import (
    COUNTRY_CODES,
    ChatKind,
    ContactId,
    InvalidContactId,
    classify_telegram_chat,
    classify_whatsapp_chat,
    contact_label,
    meta_contact,
    normalise_phone,
    telegram_contact,
    whatsapp_chat_id,
    whatsapp_contact,
)
from domain.errors import DomainError

ANA = ContactId(channel="whatsapp", value="+6281234567890")
LID = ContactId(channel="whatsapp", value="lid:123456789")


# --- normalise_phone: Indonesia --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "081234567890",
        "0812-3456-7890",
        "0812 3456 7890",
        "0812.3456.7890",
        "(0812) 3456 7890",
        "6281234567890",
        "+6281234567890",
        "+62 812-3456-7890",
        "+62 (0)812 3456 7890",
        "006281234567890",
        "  +62 812 3456 7890  ",
    ],
)
def test_indonesian_number_in_any_written_form_is_one_e164(raw):
    assert normalise_phone(raw) == "+6281234567890"


def test_local_trunk_zero_reads_as_indonesia_by_default():
    assert normalise_phone("0812-3456-7890", default_country="ID") == "+6281234567890"


def test_indonesian_mobile_without_trunk_zero_is_read_in_indonesia():
    assert normalise_phone("812 3456 7890", default_country="ID") == "+6281234567890"


def test_indonesian_landline_with_area_code_is_accepted():
    assert normalise_phone("(021) 5555-1234") == "+622155551234"


def test_indonesian_number_too_short_is_not_a_phone():
    assert normalise_phone("0812345") is None


def test_indonesian_number_too_long_is_not_a_phone():
    assert normalise_phone("+62 812 3456 7890 1234") is None


# --- normalise_phone: India ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "9876543210",
        "98765 43210",
        "+91 98765 43210",
        "+91-98765-43210",
        "091 98765 43210",
        "0 98765 43210",
        "919876543210",
        "0091 98765 43210",
    ],
)
def test_indian_mobile_in_any_written_form_is_one_e164(raw):
    assert normalise_phone(raw, default_country="IN") == "+919876543210"


@pytest.mark.parametrize(
    "raw", ["+91 98765 43210", "091 98765 43210", "919876543210", "0091 98765 43210"]
)
def test_indian_mobile_with_its_calling_code_is_read_whatever_the_default(raw):
    assert normalise_phone(raw, default_country="ID") == "+919876543210"


def test_bare_ten_digits_are_read_in_the_default_country_only():
    assert normalise_phone("9876543210", default_country="IN") == "+919876543210"
    assert normalise_phone("9876543210", default_country="ID") is None


def test_indian_number_with_wrong_length_is_not_a_phone():
    assert normalise_phone("+91 98765 4321") is None
    assert normalise_phone("98765 432101", default_country="IN") is None


def test_indian_ten_digits_starting_below_six_are_not_a_mobile():
    assert normalise_phone("5876543210", default_country="IN") is None


def test_default_country_is_case_insensitive():
    assert normalise_phone("0 98765 43210", default_country="in") == "+919876543210"


def test_countries_with_local_forms_are_listed():
    assert COUNTRY_CODES == {"ID": "62", "IN": "91"}


# --- normalise_phone: elsewhere and garbage ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 (555) 123-4567", "+15551234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+49 30 1234 5678", "+493012345678"),
    ],
)
def test_other_countries_are_kept_as_written_with_plus_or_00(raw, expected):
    assert normalise_phone(raw) == expected


def test_local_number_of_an_unknown_default_country_is_not_guessed():
    assert normalise_phone("020 7946 0958", default_country="GB") is None


def test_bare_digits_without_a_known_calling_code_are_not_guessed():
    assert normalise_phone("15551234567") is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "+",
        "abc",
        "my number is 0812 3456 7890",
        "0812-3456-789O",
        "62+81234567890",
        "++6281234567890",
        "+0123456789",
        "+1234567",
        "+1234567890123456",
        "0812/3456/7890",
    ],
)
def test_text_that_is_not_a_plausible_number_gives_none(raw):
    assert normalise_phone(raw) is None


def test_digits_of_other_scripts_and_full_width_forms_are_read():
    assert normalise_phone("٠٨١٢٣٤٥٦٧٨٩٠") == "+6281234567890"
    assert normalise_phone("＋６２８１２３４５６７８９０") == "+6281234567890"
    assert normalise_phone("९८७६५ ४३२१०", default_country="IN") == "+919876543210"


@given(st.text(), st.sampled_from(["ID", "IN", "GB"]))
def test_normalising_a_phone_twice_equals_normalising_once(raw, country):
    once = normalise_phone(raw, country)
    assert once is None or normalise_phone(once, country) == once


@given(st.from_regex(r"\+?[0-9 ()\-.]{0,20}", fullmatch=True), st.sampled_from(["ID", "IN"]))
def test_normalised_phone_is_e164_or_none(raw, country):
    phone = normalise_phone(raw, country)
    assert phone is None or (phone[0] == "+" and phone[1:].isdigit() and 8 <= len(phone) - 1 <= 15)
    assert phone is None or normalise_phone(phone, country) == phone


# --- whatsapp_contact ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "+6281234567890",
        "whatsapp:+6281234567890",
        "WhatsApp:+6281234567890",
        "6281234567890",
        "6281234567890@c.us",
        "6281234567890@s.whatsapp.net",
        " 6281234567890@s.whatsapp.net ",
        "whatsapp:6281234567890@c.us",
    ],
)
def test_every_provider_form_of_one_number_is_one_contact(raw):
    assert whatsapp_contact(raw) == ANA


def test_jid_with_device_suffix_is_one_contact():
    assert whatsapp_contact("6281234567890:12@s.whatsapp.net") == ANA


def test_lid_is_a_contact_of_its_own_kind():
    assert whatsapp_contact("123456789@lid") == LID


def test_lid_with_device_suffix_is_one_contact():
    assert whatsapp_contact("123456789:12@lid") == whatsapp_contact("123456789@lid") == LID


def test_meta_business_scoped_user_id_is_a_contact():
    contact = whatsapp_contact("US.13491208655302741918")
    assert contact == ContactId(channel="whatsapp", value="bsuid:US.13491208655302741918")
    assert contact.phone is None


def test_parent_business_scoped_user_id_is_kept_exactly_as_written():
    assert whatsapp_contact("US.ENT.11815799212886844830").value == (
        "bsuid:US.ENT.11815799212886844830"
    )


@pytest.mark.parametrize(
    "contact",
    [
        ANA,
        LID,
        ContactId(channel="whatsapp", value="bsuid:BR.1502576394655843"),
        ContactId(channel="whatsapp", value="+919876543210"),
    ],
)
def test_contact_key_and_value_read_back_as_the_same_contact(contact):
    assert whatsapp_contact(contact.key) == contact
    assert whatsapp_contact(contact.value) == contact


def test_wa_id_digits_are_a_full_international_number_without_trunk_guessing():
    assert whatsapp_contact("919876543210").value == "+919876543210"
    with pytest.raises(InvalidContactId):
        whatsapp_contact("081234567890")


@pytest.mark.parametrize(
    "raw",
    [
        "120363025246125486@g.us",
        "status@broadcast",
        "1234567890@broadcast",
        "120363025246125486@newsletter",
        "6281234567890@example.com",
        "abc@c.us",
        "6281234567890:x@s.whatsapp.net",
        "lid:",
        "lid:12a",
        "bsuid:not a bsuid",
        "US.",
        "",
        "whatsapp:",
        "hello",
        "+62",
        "telegram:tg:42",
    ],
)
def test_groups_broadcasts_newsletters_and_garbage_are_not_contacts(raw):
    with pytest.raises(InvalidContactId):
        whatsapp_contact(raw)


def test_invalid_contact_id_is_a_domain_error():
    with pytest.raises(DomainError):
        whatsapp_contact("status@broadcast")


# The national number of an Indonesian mobile, and a WhatsApp device number.
_NATIONAL = st.from_regex(r"8[1-9][0-9]{7,10}", fullmatch=True)
_DEVICE = st.integers(min_value=0, max_value=99)


@given(_NATIONAL, _DEVICE)
def test_every_written_form_of_one_number_yields_one_contact(national, device):
    digits = f"62{national}"
    forms = [
        f"+{digits}",
        f"whatsapp:+{digits}",
        digits,
        f"{digits}@c.us",
        f"{digits}@s.whatsapp.net",
        f"{digits}:{device}@s.whatsapp.net",
    ]
    assert {whatsapp_contact(form) for form in forms} == {
        ContactId(channel="whatsapp", value=f"+{digits}")
    }


@given(st.integers(min_value=1, max_value=10**15), _DEVICE)
def test_every_written_form_of_one_lid_yields_one_contact(lid, device):
    forms = [f"{lid}@lid", f"{lid}:{device}@lid", f"lid:{lid}", f"whatsapp:lid:{lid}"]
    assert {whatsapp_contact(form) for form in forms} == {
        ContactId(channel="whatsapp", value=f"lid:{lid}")
    }


_ANY_WHATSAPP_FORM = st.one_of(
    _NATIONAL.map(lambda national: f"62{national}"),
    st.integers(min_value=1, max_value=10**15).map(lambda lid: f"{lid}@lid"),
    st.from_regex(r"[A-Z]{2}\.[A-Za-z0-9]{1,30}", fullmatch=True),
    st.text(max_size=30),
)


@given(_ANY_WHATSAPP_FORM)
def test_reading_a_contact_back_from_its_key_or_value_changes_nothing(raw):
    try:
        contact = whatsapp_contact(raw)
    except InvalidContactId:
        return
    assert whatsapp_contact(contact.key) == contact
    assert whatsapp_contact(contact.value) == contact


@given(st.text())
def test_whatsapp_contact_raises_only_invalid_contact_id(raw):
    try:
        whatsapp_contact(raw)
    except InvalidContactId:
        pass


# --- classify_whatsapp_chat ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("120363025246125486@g.us", ChatKind.GROUP),
        ("status@broadcast", ChatKind.STATUS),
        ("1234567890@broadcast", ChatKind.BROADCAST),
        ("120363025246125486@newsletter", ChatKind.NEWSLETTER),
        ("6281234567890@c.us", ChatKind.USER),
        ("6281234567890:12@s.whatsapp.net", ChatKind.USER),
        ("123456789@lid", ChatKind.USER),
        ("whatsapp:+6281234567890", ChatKind.USER),
        ("US.13491208655302741918", ChatKind.USER),
    ],
)
def test_whatsapp_chat_id_tells_its_kind(raw, kind):
    assert classify_whatsapp_chat(raw) is kind


def test_whatsapp_chat_kind_ignores_case_and_spaces():
    assert classify_whatsapp_chat(" 1203630@G.US ") is ChatKind.GROUP


# --- meta_contact ----------------------------------------------------------------------------


def test_meta_contact_is_the_phone_when_a_wa_id_is_given():
    assert meta_contact("6281234567890", "US.13491208655302741918") == ANA


def test_meta_contact_is_the_scoped_id_when_the_phone_is_hidden():
    contact = meta_contact(None, "US.13491208655302741918")
    assert contact.value == "bsuid:US.13491208655302741918"


def test_meta_contact_treats_an_empty_wa_id_as_absent():
    assert meta_contact("", "BR.1502576394655843").value == "bsuid:BR.1502576394655843"


@pytest.mark.parametrize(
    ("wa_id", "user_id"), [(None, None), ("", ""), ("not-a-number", None), (None, "nope")]
)
def test_meta_contact_without_a_usable_id_is_invalid(wa_id, user_id):
    with pytest.raises(InvalidContactId):
        meta_contact(wa_id, user_id)


# --- Telegram --------------------------------------------------------------------------------


def test_telegram_user_is_a_prefixed_contact():
    contact = telegram_contact(123456789)
    assert contact == ContactId(channel="telegram", value="tg:123456789")
    assert contact.key == "telegram:tg:123456789"
    assert contact.phone is None


@pytest.mark.parametrize("user_id", [0, -1001234567890, True])
def test_telegram_chat_ids_and_non_ids_are_not_users(user_id):
    with pytest.raises(InvalidContactId):
        telegram_contact(user_id)


@pytest.mark.parametrize(
    ("chat_type", "kind"),
    [
        ("private", ChatKind.USER),
        ("group", ChatKind.GROUP),
        ("supergroup", ChatKind.GROUP),
        ("channel", ChatKind.CHANNEL),
        ("sender", ChatKind.GROUP),
        ("", ChatKind.GROUP),
    ],
)
def test_telegram_chat_type_tells_its_kind_and_unknown_is_not_answered(chat_type, kind):
    assert classify_telegram_chat(chat_type) is kind


# --- whatsapp_chat_id and contact_label ------------------------------------------------------


def test_phone_contact_is_written_to_at_its_c_us_chat():
    assert whatsapp_chat_id(ANA) == "6281234567890@c.us"


def test_lid_contact_is_written_to_at_its_lid_chat():
    assert whatsapp_chat_id(LID) == "123456789@lid"


@given(_NATIONAL)
def test_chat_id_reads_back_as_the_same_contact(national):
    contact = ContactId(channel="whatsapp", value=f"+62{national}")
    assert whatsapp_contact(whatsapp_chat_id(contact)) == contact


@pytest.mark.parametrize(
    "contact",
    [
        ContactId(channel="whatsapp", value="bsuid:US.13491208655302741918"),
        ContactId(channel="telegram", value="tg:42"),
    ],
)
def test_contacts_waha_cannot_address_have_no_chat_id(contact):
    with pytest.raises(InvalidContactId):
        whatsapp_chat_id(contact)


def test_label_names_the_profile_and_the_number():
    assert contact_label(ANA, "Ana") == "Ana (+6281234567890)"


def test_label_without_a_name_is_the_id():
    assert contact_label(ANA, None) == "+6281234567890"
    assert contact_label(LID, "   ") == "lid:123456789"


def test_label_puts_a_multiline_name_on_one_line():
    assert contact_label(telegram_contact(42), " Ana\n Maria ") == "Ana Maria (tg:42)"

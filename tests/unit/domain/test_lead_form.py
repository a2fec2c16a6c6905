"""The lead form parser and the budget reader, on forms as users really write them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.lead_form import FIELDS, LeadForm, merge_forms, parse_budget, parse_lead_form

# --- whole forms --------------------------------------------------------------------------


def test_indonesian_form_from_the_template_parses_every_field() -> None:
    text = (
        "Sumber info: Instagram\n"
        "Bisnis yang diminati: Kopi susu\n"
        "Budget: 100 juta\n"
        "Rencana mulai: Maret 2026"
    )
    assert parse_lead_form(text) == LeadForm(
        sumber="Instagram", bisnis="Kopi susu", budget="100 juta", rencana="Maret 2026",
        budget_amount=100_000_000,
    )


def test_english_form_with_english_labels_parses_every_field() -> None:
    text = (
        "Where did you hear about us?: a friend\n"
        "Business: bubble tea\n"
        "Investment: Rp 250.000.000\n"
        "Timeline: next quarter"
    )
    assert parse_lead_form(text) == LeadForm(
        sumber="a friend", bisnis="bubble tea", budget="Rp 250.000.000", rencana="next quarter",
        budget_amount=250_000_000,
    )


def test_mixed_languages_and_short_aliases_are_understood() -> None:
    text = "source: TikTok\nusaha: laundry\nmodal = 75jt\nplan - tahun depan"
    form = parse_lead_form(text)
    assert (form.sumber, form.bisnis, form.budget, form.rencana) == (
        "TikTok", "laundry", "75jt", "tahun depan",
    )
    assert form.budget_amount == 75_000_000


def test_bullets_are_ignored() -> None:
    text = "- Sumber: Facebook\n• Bisnis: Ayam geprek\n* Budget: 50 juta\n- Rencana: segera"
    form = parse_lead_form(text)
    assert form.is_complete
    assert (form.sumber, form.bisnis) == ("Facebook", "Ayam geprek")


def test_numbered_lines_are_understood() -> None:
    text = "1. Sumber: Google\n2) Bisnis: Martabak\n3.Budget: 1,5 M\n4) Rencana: Juni"
    form = parse_lead_form(text)
    assert (form.sumber, form.bisnis, form.budget, form.rencana) == (
        "Google", "Martabak", "1,5 M", "Juni",
    )
    assert form.budget_amount == 1_500_000_000


def test_whatsapp_bold_labels_are_understood() -> None:
    text = "*Sumber*: IG\n*Bisnis:* Es teh\n*Budget: 30 juta*\n* *Rencana*: minggu depan"
    form = parse_lead_form(text)
    assert (form.sumber, form.bisnis, form.budget, form.rencana) == (
        "IG", "Es teh", "30 juta", "minggu depan",
    )


def test_fields_in_reversed_order_and_any_case_are_understood() -> None:
    text = "RENCANA: 2027\nbudget: 200 jt\nBiSnIs: Barbershop\nsumber: teman"
    assert parse_lead_form(text) == LeadForm(
        sumber="teman", bisnis="Barbershop", budget="200 jt", rencana="2027",
        budget_amount=200_000_000,
    )


def test_partial_form_names_the_missing_fields() -> None:
    form = parse_lead_form("Sumber: Instagram\nBudget: belum tahu")
    assert form.missing == ("bisnis", "rencana")
    assert not form.is_complete
    assert form.budget == "belum tahu"
    assert form.budget_amount is None


def test_empty_value_counts_as_missing() -> None:
    form = parse_lead_form("Sumber: Instagram\nBisnis:\nBudget:   \nRencana: besok")
    assert form.missing == ("bisnis", "budget")


def test_value_continues_on_unlabelled_lines() -> None:
    text = "Bisnis: kopi\nsekaligus roti bakar\n  dan donat\nBudget: 100 juta"
    form = parse_lead_form(text)
    assert form.bisnis == "kopi sekaligus roti bakar dan donat"
    assert form.budget == "100 juta"


def test_value_may_start_on_the_line_after_its_label() -> None:
    form = parse_lead_form("Rencana:\nbulan depan\nkalau lokasi sudah ada")
    assert form.rencana == "bulan depan kalau lokasi sudah ada"


def test_bulleted_continuation_lines_lose_their_bullets() -> None:
    form = parse_lead_form("Bisnis:\n- kopi\n- roti bakar\nBudget: 80jt")
    assert form.bisnis == "kopi roti bakar"


def test_blank_line_ends_a_value_so_a_closing_remark_is_not_joined() -> None:
    form = parse_lead_form("Rencana: bulan depan\n\nTerima kasih kak 🙏")
    assert form.rencana == "bulan depan"


def test_text_before_the_first_label_is_ignored() -> None:
    text = "Halo kak, saya mau isi form ya:\nini datanya\nSumber: YouTube\nBisnis: Sate"
    form = parse_lead_form(text)
    assert (form.sumber, form.bisnis) == ("YouTube", "Sate")


def test_message_without_labels_gives_an_empty_form() -> None:
    assert parse_lead_form("mau tanya dulu kak, harganya berapa?") == LeadForm()


def test_unknown_labels_do_not_become_fields() -> None:
    form = parse_lead_form("Nama: Budi\nKota: Bandung\nBudget: 60 juta")
    assert form == LeadForm(budget="60 juta", budget_amount=60_000_000)


def test_unknown_label_after_a_field_continues_its_value() -> None:
    form = parse_lead_form("Bisnis: Kopi\nNama: Budi")
    assert form.bisnis == "Kopi Nama: Budi"


def test_later_non_empty_value_wins_over_an_earlier_one() -> None:
    form = parse_lead_form("Budget: 50 juta\nBudget: 70 juta\nBudget:")
    assert (form.budget, form.budget_amount) == ("70 juta", 70_000_000)


def test_separator_characters_inside_a_value_are_kept() -> None:
    form = parse_lead_form("Rencana: Q3 - Q4 2026\nBudget = 100-200 juta\nSumber - ref: teman")
    assert form.rencana == "Q3 - Q4 2026"
    assert form.budget == "100-200 juta"
    assert form.sumber == "ref: teman"


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("sumber", "sumber"), ("sumber info", "sumber"), ("tahu dari", "sumber"),
        ("source", "sumber"), ("heard from", "sumber"), ("where did you hear", "sumber"),
        ("bisnis", "bisnis"), ("usaha", "bisnis"), ("jenis usaha", "bisnis"),
        ("bisnis yang diminati", "bisnis"), ("business", "bisnis"), ("franchise", "bisnis"),
        ("brand", "bisnis"),
        ("budget", "budget"), ("modal", "budget"), ("dana", "budget"), ("anggaran", "budget"),
        ("investasi", "budget"), ("investment", "budget"), ("capital", "budget"),
        ("rencana", "rencana"), ("rencana mulai", "rencana"), ("plan", "rencana"),
        ("timeline", "rencana"), ("when", "rencana"),
    ],
)
def test_every_documented_label_names_its_field(label: str, field: str) -> None:
    form = parse_lead_form(f"{label.title()}: isi")
    assert getattr(form, field) == "isi"
    assert [name for name in FIELDS if getattr(form, name)] == [field]


def test_label_with_a_hint_emoji_or_question_mark_is_understood() -> None:
    text = "💰 Budget (Rp): 90 juta\nTahu dari mana?: Instagram\n▪️ Kapan mulai? - 2026"
    form = parse_lead_form(text)
    assert (form.budget, form.sumber, form.rencana) == ("90 juta", "Instagram", "2026")


def test_windows_line_endings_are_understood() -> None:
    form = parse_lead_form("Sumber: IG\r\nBisnis: Kopi\r\n")
    assert (form.sumber, form.bisnis) == ("IG", "Kopi")


def test_budget_amount_is_none_when_no_budget_is_given() -> None:
    assert parse_lead_form("Sumber: IG").budget_amount is None


# --- merging ------------------------------------------------------------------------------


def test_merge_keeps_old_values_the_new_form_lacks() -> None:
    old = LeadForm(sumber="IG", budget="50 juta", budget_amount=50_000_000)
    new = LeadForm(bisnis="Kopi", rencana="Juli")
    assert merge_forms(old, new) == LeadForm(
        sumber="IG", bisnis="Kopi", budget="50 juta", rencana="Juli", budget_amount=50_000_000,
    )


def test_merge_lets_new_values_win() -> None:
    old = LeadForm(sumber="IG", bisnis="Kopi")
    new = LeadForm(sumber="TikTok", bisnis="")
    merged = merge_forms(old, new)
    assert (merged.sumber, merged.bisnis) == ("TikTok", "Kopi")


def test_merge_takes_the_budget_amount_with_the_budget() -> None:
    old = LeadForm(budget="50 juta", budget_amount=50_000_000)
    new = LeadForm(budget="belum tahu", budget_amount=None)
    merged = merge_forms(old, new)
    assert (merged.budget, merged.budget_amount) == ("belum tahu", None)


def test_merge_leaves_a_field_both_forms_lack_missing() -> None:
    merged = merge_forms(LeadForm(sumber=""), LeadForm(sumber=""))
    assert merged.sumber is None
    assert merged.missing == FIELDS


# --- budgets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("100 juta", 100_000_000),
        ("100jt", 100_000_000),
        ("100 jt", 100_000_000),
        ("100 Juta", 100_000_000),
        ("Rp 100.000.000", 100_000_000),
        ("Rp100,000,000", 100_000_000),
        ("Rp. 100.000.000,-", 100_000_000),
        ("IDR 100.000.000", 100_000_000),
        ("100.000.000,00", 100_000_000),
        ("100000000", 100_000_000),
        ("1,5 M", 1_500_000_000),
        ("1.5 miliar", 1_500_000_000),
        ("1,5 milyar", 1_500_000_000),
        ("2 M", 2_000_000_000),
        ("2M", 2_000_000_000),
        ("500 ribu", 500_000),
        ("500rb", 500_000),
        ("500k", 500_000),
        ("2,5 juta", 2_500_000),
        ("2.5jt", 2_500_000),
        ("2.500 juta", 2_500_000_000),
        ("100 million", 100_000_000),
        ("sekitar 50 jutaan", 50_000_000),
        ("kurang lebih 75jt", 75_000_000),
        ("di bawah 100jtan", 100_000_000),
        ("100-200 juta", 100_000_000),
        ("100 - 200 jt", 100_000_000),
        ("100 s/d 200 juta", 100_000_000),
        ("100 sampai 200 juta", 100_000_000),
        ("1-2 M", 1_000_000_000),
        ("500 rb - 1 jt", 500_000),
        ("Rp 50.000.000 - Rp 100.000.000", 50_000_000),
        ("100", 100),
    ],
)
def test_budget_is_read_in_rupiah(text: str, amount: int) -> None:
    assert parse_budget(text) == amount


@pytest.mark.parametrize(
    "text",
    ["$10,000", "10.000 USD", "€ 5000", "SGD 20k", "belum tahu", "seratus juta", "", "  ",
     "fleksibel kak", "ratusan juta"],
)
def test_budget_is_none_when_no_rupiah_amount_is_written(text: str) -> None:
    assert parse_budget(text) is None


def test_absurdly_long_number_is_no_budget() -> None:
    assert parse_budget("9" * 5000) is None


# --- properties ---------------------------------------------------------------------------


@given(st.text())
def test_parse_lead_form_never_raises(text: str) -> None:
    form = parse_lead_form(text)
    assert isinstance(form, LeadForm)


@given(st.text())
def test_parse_budget_never_raises(text: str) -> None:
    amount = parse_budget(text)
    assert amount is None or amount >= 0


_NUMBERISH = st.from_regex(
    r"\A(Rp ?)?[0-9]{1,4}([.,][0-9]{1,3}){0,4} ?(juta|jt|rb|ribu|k|M|miliar|milyar)?"
    r"( ?- ?[0-9]{1,4})?\Z",
    fullmatch=True,
)


@given(_NUMBERISH)
def test_parse_budget_never_raises_on_budget_like_text(text: str) -> None:
    amount = parse_budget(text)
    assert amount is not None and amount >= 0


_LABELS = {
    "sumber": ["sumber", "sumber info", "tahu dari", "source", "heard from", "where did you hear"],
    "bisnis": ["bisnis", "usaha", "jenis usaha", "bisnis yang diminati", "business",
               "franchise", "brand"],
    "budget": ["budget", "modal", "dana", "anggaran", "investasi", "investment", "capital"],
    "rencana": ["rencana", "rencana mulai", "plan", "timeline", "when"],
}
_VALUES = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters=":*"
    ),
    min_size=1,
).map(str.strip).filter(bool)


@st.composite
def _labelled_line(draw: st.DrawFn, field: str) -> tuple[str, str]:
    label = draw(st.sampled_from(_LABELS[field]))
    label = "".join(
        ch.upper() if upper else ch.lower()
        for ch, upper in zip(label, draw(st.lists(st.booleans(), min_size=len(label),
                                                  max_size=len(label))), strict=True)
    )
    separator = draw(st.sampled_from([":", ": ", " : ", "=", " = ", " - ", "-"]))
    bullet = draw(st.sampled_from(["", "- ", "• ", "* ", "1. ", "2) ", "3.", "  "]))
    head = draw(st.sampled_from([
        f"{label}{separator}", f"*{label}*{separator}", f"*{label}{separator.rstrip()}* ",
    ]))
    value = draw(_VALUES)
    return f"{bullet}{head}{value}", value


@st.composite
def _well_formed_form(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    order = draw(st.permutations(FIELDS))
    lines, expected = [], {}
    for field in order:
        line, value = draw(_labelled_line(field))
        lines.append(line)
        expected[field] = value
    return "\n".join(lines), expected


@given(_well_formed_form())
def test_well_formed_form_parses_back_to_its_values(case: tuple[str, dict[str, str]]) -> None:
    text, expected = case
    form = parse_lead_form(text)
    assert {name: getattr(form, name) for name in FIELDS} == expected
    assert form.budget_amount == parse_budget(expected["budget"])

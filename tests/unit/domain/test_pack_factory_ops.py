"""factory_ops: six menus over the operator's reference data (orders, machines, SOPs, SLA
tickets, BOMs); a defect report with an optional photo, a maintenance request; every language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pack_chat import KEY, LABEL, Chat, bot_for, held, ids, only, plain, right_to_left, said, text_of, why

from domain.events import HandoffRequested
from domain.flows import FlowBot, FlowEvent, Reference, missing_tables, validate_pack
from domain.flows.texts import lookup
from domain.messages import ButtonsReply, ListReply

BOT = bot_for("factory_ops")
PACK = BOT.current
LANGUAGES = PACK.languages
MENU = ["defect", "order_status", "maintenance", "sop", "sla", "bom"]
DUE_2001 = 1_784_104_200.0  # SLA-2001 is due 2026-07-15T14:00+05:30


def at_menu(language: str = "en") -> Chat:
    chat = Chat(BOT, language)
    chat.say("hello")
    return chat


def opened(option: str, language: str = "en") -> Chat:
    chat = at_menu(language)
    chat.say(choice=option)
    return chat


def test_the_pack_is_valid_and_its_reference_data_has_every_table() -> None:
    assert validate_pack(PACK) == []
    assert PACK.reference == "factory_reference"
    assert missing_tables(PACK, BOT.reference) == []
    assert [p.field for p in missing_tables(PACK, Reference())].count("accepts.table") == 6


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_menu_lists_the_six_menus(language: str) -> None:
    decision = Chat(BOT, language).say("hello")

    reply = only(decision)
    assert isinstance(reply, ListReply)
    assert ids(decision) == MENU
    assert reply.text == said(PACK, language, "factory.welcome")
    assert all(len(option.title) <= 24 for option in reply.options)


# --- a defect ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("photo", [True, False])
def test_a_defect_is_reported_with_order_type_severity_and_an_optional_photo(language: str, photo: bool) -> None:
    chat = opened("defect", language)

    typed = chat.say("ord-1001")
    assert isinstance(only(typed), ListReply)
    assert text_of(typed) == said(PACK, language, "factory.defect_type",
                                  **{"order.id": "ORD-1001", "order.product": "CP-200 pump housing"})
    assert ids(typed) == ["dimensional", "surface", "material", "assembly", "welding", "other"]
    severity = chat.say(choice="surface")
    assert ids(severity) == ["minor", "major", "critical"]
    asked = chat.say(choice="major")
    assert isinstance(only(asked), ButtonsReply) and ids(asked) == ["skip"]

    decision = chat.say(media=True) if photo else chat.say(choice="skip")

    assert decision.events == (FlowEvent(
        name="defect.reported", contact_key=KEY, contact_label=LABEL, at=chat.now,
        fields={"order": "ORD-1001", "product": "CP-200 pump housing", "defect_type": "surface", "severity": "major",
                "photo": "attached" if photo else ""}),)
    assert decision.conversation.step == "factory.menu"
    assert ids(decision) == MENU
    assert text_of(decision) == said(PACK, language, "factory.defect_done", **{
        "order.id": "ORD-1001", "order.product": "CP-200 pump housing",
        "defect_type.title": lookup(PACK, language, "factory.type_surface"),
        "severity.title": lookup(PACK, language, "factory.severity_major")})


@pytest.mark.parametrize("skip", ["skip", "Skip", "no photo", "lewati", "छोड़ें", "omitir", "passer", "pular", "تخطي", "no"])
def test_the_photo_is_skipped_by_a_skip_word_in_any_language(skip: str) -> None:
    chat = opened("defect").walk("1001", "1", "1")

    (event,) = chat.say(skip).events
    assert event.fields["photo"] == ""


def test_the_menu_is_answered_again_after_a_report() -> None:
    chat = opened("defect").walk("1001", "1", "1", "skip")

    assert chat.say("4").conversation.step == "sop.ask"


# --- lookups -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_order_status_shows_the_record_with_its_status_in_the_language(language: str) -> None:
    chat = opened("order_status", language)

    decision = chat.say("ORD-1002")

    assert decision.conversation.step == "order_status.ask"
    assert text_of(decision) == said(PACK, language, "factory.status_found", **{
        "order.id": "ORD-1002", "order.product": "GB-45 gearbox cover", "order.customer": "Shakti Tractors",
        "order.quantity": "300", "order.progress": "90%", "order.due": "2026-07-18",
        "order.status": lookup(PACK, language, "factory.order_quality_check")})


@pytest.mark.parametrize("typed", ["ORD-1001", "ord 1001", "#ord1001", "1001", "order ORD-1001 please", "١٠٠١"])
def test_an_id_is_found_however_it_is_typed(typed: str) -> None:
    assert "ORD-1001 — CP-200 pump housing" in text_of(opened("order_status").say(typed))


def test_one_lookup_after_another_replaces_the_record() -> None:
    chat = opened("order_status").walk("1001")

    decision = chat.say("1004")

    assert "Status: 🚚 Dispatched" in text_of(decision)
    assert decision.conversation.data["order.customer"] == "Deccan Motors"


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_sop_is_shown_with_its_steps_numbered(language: str) -> None:
    decision = opened("sop", language).say("SOP-102")

    text = plain(text_of(decision))
    assert "SOP-102 — Lockout tagout" in text
    assert "1. Tell the line leader and the operators on the machine.\n2. Switch the machine off at its controls." in text


@pytest.mark.parametrize("typed", ["lockout tagout", "Lockout", "first article inspection"])
def test_an_sop_is_found_by_its_name(typed: str) -> None:
    assert "— " in text_of(opened("sop").say(typed))
    assert opened("sop").say(typed).conversation.data["sop"] in ("SOP-102", "SOP-103")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_sla_ticket_counts_down_from_now_and_says_when_it_is_breached(language: str) -> None:
    chat = opened("sla", language)
    chat.now = DUE_2001 - 3 * 3600 - 20 * 60 - 1  # the turn lands 3 h 20 min before the deadline

    left = chat.say("SLA-2001")
    chat.now = DUE_2001 + 26 * 3600 + 5 * 60 - 1
    breached = chat.say("2001")
    resolved = chat.say("SLA-2003")

    status = lookup(PACK, language, "factory.sla_in_progress")
    expected = said(PACK, language, "factory.sla_found", **{
        "ticket.id": "SLA-2001", "ticket.title": "Spindle vibration on CNC-01", "ticket.status": status,
        "ticket.remaining": plain(said(PACK, language, "factory.sla_left", hours="3", minutes="20"))})
    assert text_of(left) == expected
    overdue = plain(said(PACK, language, "factory.sla_overdue", hours="26", minutes="05"))
    assert overdue in plain(text_of(breached))
    assert plain(lookup(PACK, language, "factory.sla_none")) in plain(text_of(resolved))
    assert plain(lookup(PACK, language, "factory.sla_resolved")) in plain(text_of(resolved))


@pytest.mark.parametrize("typed", ["CP-200", "cp200", "pump housing", "Centrifugal pump housing"])
def test_a_bom_is_found_by_product_code_or_name(typed: str) -> None:
    text = text_of(opened("bom").say(typed))

    assert text.startswith("🧩 BOM CP-200 — Centrifugal pump housing (rev. C)\n\n1. CI-220 cast iron body × 1\n")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_maintenance_request_names_the_machine_the_issue_and_the_urgency(language: str) -> None:
    chat = opened("maintenance", language)

    issue = chat.say("cnc-02")
    assert text_of(issue) == said(PACK, language, "factory.maint_issue", **{
        "machine.name": "Vertical machining centre Haas VF-2", "machine.id": "CNC-02", "machine.line": "Line A"})
    urgency = chat.say("coolant pump leaking")
    assert ids(urgency) == ["can_wait", "today", "line_down"]

    decision = chat.say(choice="line_down")

    assert decision.events == (FlowEvent(
        name="maintenance.requested", contact_key=KEY, contact_label=LABEL, at=chat.now,
        fields={"machine": "CNC-02", "machine_name": "Vertical machining centre Haas VF-2", "line": "Line A",
                "issue": "coolant pump leaking", "urgency": "line_down"}),)
    assert decision.conversation.step == "factory.menu"


def test_the_operator_replaces_the_reference_data() -> None:
    theirs = Reference(tables=BOT.reference.tables | {
        "sops": ({"id": "WI-7", "name": "Torque check", "steps": ["Zero the wrench.", "Check 5 bolts."]},)})
    chat = opened("sop")
    chat.bot = FlowBot([PACK], BOT.catalogue, theirs)

    assert "WI-7 — Torque check\n\n1. Zero the wrench.\n2. Check 5 bolts." in text_of(chat.say("wi-7"))
    assert chat.say("SOP-101").conversation.data["_invalid"] == "1"


# --- every validation failure, in every language ----------------------------------------------

Case = Callable[[str], tuple[Chat, str, str]]


def _in(option: str, walked: tuple[str, ...], bad: str, expected: Callable[[str], str]) -> Case:
    def case(language: str) -> tuple[Chat, str, str]:
        chat = at_menu(language) if option == "menu" else opened(option, language)
        return chat.walk(*walked), bad, expected(language)
    return case


def _missing(key: str, query: str) -> Callable[[str], str]:
    return lambda language: said(PACK, language, key, query=query)


FAILURES: dict[str, Case] = {
    "menu": _in("menu", (), "coffee", lambda lang: said(PACK, lang, "factory.menu_retry")),
    "defect_order": _in("defect", (), "ORD-9999", _missing("factory.order_not_found", "ORD-9999")),
    "defect_type": _in("defect", ("1001",), "purple", lambda lang: why(PACK, lang, "choice.invalid")),
    "severity": _in("defect", ("1001", "1"), "very", lambda lang: why(PACK, lang, "choice.invalid")),
    "photo": _in("defect", ("1001", "1", "2"), "it is bent", lambda lang: said(PACK, lang, "factory.photo_retry")),
    "order_status": _in("order_status", (), "ORD-12", _missing("factory.order_not_found", "ORD-12")),
    "machine": _in("maintenance", (), "LATHE-9", _missing("factory.machine_not_found", "LATHE-9")),
    "issue": _in("maintenance", ("CNC-01",), " ", lambda lang: why(PACK, lang, "text.empty")),
    "urgency": _in("maintenance", ("CNC-01", "noise"), "whenever", lambda lang: why(PACK, lang, "choice.invalid")),
    "sop": _in("sop", (), "SOP-999", _missing("factory.sop_not_found", "SOP-999")),
    "sla": _in("sla", (), "SLA-1", _missing("factory.sla_not_found", "SLA-1")),
    "bom": _in("bom", (), "XX-1", _missing("factory.bom_not_found", "XX-1")),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("failure", FAILURES)
def test_each_invalid_answer_is_explained_in_the_language_and_asked_again(failure: str, language: str) -> None:
    chat, bad, expected = FAILURES[failure](language)
    before = chat.step

    decision = chat.say(bad)

    assert decision.conversation.step == before
    assert decision.conversation.data["_invalid"] == "1"
    assert text_of(decision).startswith(expected)
    assert decision.events == ()


def test_three_unknown_ids_hand_the_chat_to_the_supervisor() -> None:
    chat = opened("sop").walk("x1", "x2")

    decision = chat.say("x3")

    assert text_of(decision) == said(PACK, "en", "escalation")
    assert [type(event) for event in decision.events] == [HandoffRequested]
    assert held(chat.conversation)


def test_an_empty_message_at_a_lookup_is_not_a_search_for_nothing() -> None:
    decision = opened("bom").say("", media=True)

    assert text_of(decision).startswith(why(PACK, "en", "text.empty"))


@pytest.mark.parametrize(("first", "step"), [("defect", "defect.order"), ("sop", "sop.ask"), ("bom please", "bom.ask"),
                                             ("machine down", "maintenance.machine"), ("order status", "order_status.ask")])
def test_a_trigger_opens_its_menu_directly(first: str, step: str) -> None:
    assert Chat(BOT).say(first).conversation.step == step


def test_arabic_keeps_ids_numbers_and_the_records_own_words() -> None:
    chat = opened("order_status", "ar")

    decision = chat.say("ORD-1001")

    text = text_of(decision)
    assert right_to_left(text)
    for kept in ("ORD-1001 — CP-200 pump housing", "120", "65%", "2026-07-24"):
        assert kept in plain(text)
    assert ids(chat.say("القائمة")) == MENU

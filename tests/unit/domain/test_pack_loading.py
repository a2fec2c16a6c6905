"""Packs with their data: included packs merged, catalogues and reference data read and checked,
the new answer kinds checked, order numbers and records, right-to-left text."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from adapters.packs.files import (
    PackFileError,
    builtin_catalogue,
    builtin_data,
    builtin_pack,
    builtin_pack_names,
    builtin_reference,
    load_catalogue,
    load_pack,
    load_reference,
)
from domain.flows import InvalidPack, Problem, Reference, compose, decode_pack, order_number, order_record, validate_pack
from domain.flows.reference import find, remaining
from domain.flows.texts import RLM, directed
from domain.orders import OrderItem, place_order

SHOP = json.loads(Path(__file__).parents[3].joinpath("src/domain/packs/shop_orders.json").read_text())


def test_the_built_in_packs_are_the_files_with_flows_not_the_data_beside_them() -> None:
    assert builtin_pack_names() == ["demo", "factory_ops", "franchise_leads", "msme_onboarding", "shop_orders"]
    with pytest.raises(PackFileError, match="the built-in packs are: demo, factory_ops"):
        builtin_pack("shop_catalogue_typo")


def test_a_pack_names_the_data_it_runs_with() -> None:
    catalogue, reference = builtin_data(builtin_pack("shop_orders"))
    assert catalogue == builtin_catalogue("shop_catalogue") and reference is None
    assert builtin_data(builtin_pack("factory_ops")) == (None, builtin_reference("factory_reference"))
    assert builtin_data(builtin_pack("franchise_leads")) == (None, None)


def test_the_composed_demo_is_stored_and_decoded_as_a_self_contained_pack() -> None:
    demo = builtin_pack("demo")

    again = decode_pack(msgspec.json.encode(demo))

    assert again == demo and validate_pack(again) == []


# --- includes -------------------------------------------------------------------------------


def host(**changes: Any) -> dict[str, Any]:
    tree = {
        "name": "host", "version": 3, "languages": ["en"], "menu": "main", "includes": ["shop_orders"],
        "flows": {"main": {"start": "menu", "steps": {"menu": {
            "prompt": {"type": "buttons", "text": "hello"},
            "accepts": {"type": "choice", "options": [{"id": "shop", "title": "go", "next": "shop.menu"}]},
        }}}},
        "texts": {"en": {"hello": "Hello", "go": "Shop", "help": "Help", "opted_out": "Bye", "escalation": "A person",
                         "shop.welcome": "Our own welcome"}},
    }
    return tree | changes


def write(folder: Path, name: str, tree: dict[str, Any]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(tree), encoding="utf-8")
    return path


def test_an_included_pack_is_found_beside_the_file_else_among_the_built_in_ones(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, "host", host()))

    assert {"main", "shop", "order", "track"} <= set(pack.flows)
    assert pack.includes == () and pack.catalogue == "shop_catalogue" and pack.version == 3
    assert pack.texts["en"]["shop.welcome"] == "Our own welcome"  # the host's own text wins
    assert pack.texts["en"]["help"] == "Help" and set(pack.texts) == {"en"}

    local = copy.deepcopy(SHOP)
    local["values"] = {"shop": "Warung Sebelah"}
    write(tmp_path, "shop_orders", local)
    assert load_pack(tmp_path / "host.json").values["shop"] == "Warung Sebelah"


def test_an_include_loop_or_a_missing_include_is_named(tmp_path: Path) -> None:
    write(tmp_path, "a", host(name="a", includes=["b"]))
    write(tmp_path, "b", host(name="b", includes=["a"]))
    with pytest.raises(PackFileError, match="a → b → a is a loop"):
        load_pack(tmp_path / "a.json")
    with pytest.raises(PackFileError, match="no built-in pack"):
        load_pack(write(tmp_path, "c", host(name="c", includes=["nowhere"])))


def test_a_pack_still_naming_includes_is_a_problem() -> None:
    problems = validate_pack(decode_pack(msgspec.json.encode(host())))

    assert any(p.field == "includes" for p in problems)


def test_clashing_flows_texts_values_or_data_files_are_named() -> None:
    shop = builtin_pack("shop_orders")
    other = msgspec.structs.replace(shop, name="other", values={"shop": "Another"}, catalogue="elsewhere",
                                    texts={"en": {"shop.pick": "Different"}})
    plain_host = decode_pack(msgspec.json.encode(host(includes=[])))

    with pytest.raises(InvalidPack) as raised:
        compose(plain_host, [shop, other])

    fields = {(p.flow, p.field) for p in raised.value.problems}
    assert {("shop", ""), ("", "texts.en.shop.pick"), ("", "values.shop"), ("", "catalogue")} <= fields


# --- catalogues and reference data ----------------------------------------------------------


def test_a_catalogue_and_reference_data_are_read_from_json_or_yaml(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("currency: INR\nproducts:\n  - {id: tea, name: Chai, price: 20, stock: 5}\n")
    (tmp_path / "r.yml").write_text("tables:\n  sops:\n    - {id: WI-1, name: Start, steps: [One, Two]}\n")

    assert load_catalogue(tmp_path / "c.yaml").products[0].name == "Chai"
    assert load_reference(tmp_path / "r.yml").find("sops", "wi1") == {"id": "WI-1", "name": "Start", "steps": ["One", "Two"]}


@pytest.mark.parametrize(("content", "message"), [
    ('{"products": [{"id": "a", "name": "A", "price": 1, "stock": 1}, {"id": "a", "name": "B", "price": 1, "stock": 1}]}',
     "products[1].id: 'a' is empty or used twice"),
    ('{"products": [{"id": "a", "name": "A", "price": -1, "stock": 1}]}', "products[0]: price and stock are 0 or more"),
    ('{"products": [{"id": "a", "name": "A", "price": 1, "stok": 1}]}', "unknown field `stok`"),
    ('{"products": [', "not valid JSON"),
])
def test_an_unusable_catalogue_is_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "catalogue.json"
    path.write_text(content)

    with pytest.raises(PackFileError, match="catalogue.json") as raised:
        load_catalogue(path)

    assert message in str(raised.value)


@pytest.mark.parametrize(("tables", "message"), [
    ({"sops": [{"name": "no id"}]}, "tables.sops[0].id: every record needs an id"),
    ({"sops": [{"id": "SOP-1"}, {"id": "sop 1"}]}, "tables.sops[1].id: 'sop 1' is used twice"),
    ({"sops": [{"id": "SOP-1", "steps": [1, 2]}]}, "Expected `str`"),
])
def test_unusable_reference_data_is_named(tmp_path: Path, tables: dict[str, Any], message: str) -> None:
    path = tmp_path / "reference.json"
    path.write_text(json.dumps({"tables": tables}))

    with pytest.raises(PackFileError) as raised:
        load_reference(path)

    assert message in str(raised.value)


def test_a_missing_data_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PackFileError, match="cannot be read"):
        load_reference(tmp_path / "gone.json")
    with pytest.raises(PackFileError, match="ends in .json, .yaml or .yml"):
        load_catalogue(tmp_path / "catalogue.csv")


RECORDS = ({"id": "ORD-1001", "name": "Pump"}, {"id": "ORD-2001", "name": "Pump housing"}, {"id": "SLA-1001"})


@pytest.mark.parametrize(("query", "found"), [
    ("ORD-1001", "ORD-1001"), ("ord 1001", "ORD-1001"), ("#ord-1001!", "ORD-1001"), ("2001", "ORD-2001"),
    ("1001", None), ("pump", "ORD-1001"), ("housing", "ORD-2001"), ("pu", None), ("the ORD-2001 one", "ORD-2001"),
    ("", None), ("   ", None),
])
def test_a_record_is_found_by_id_digits_or_name(query: str, found: str | None) -> None:
    record = find(RECORDS, query)

    assert (record or {}).get("id") == found


def test_a_deadline_is_hours_and_minutes_away_or_past() -> None:
    due = "2026-07-15T14:00:00+05:30"
    at = 1_784_104_200.0

    assert remaining(due, at - 3 * 3600 - 20 * 60) == (3, 20, False)
    assert remaining(due, at + 61) == (0, 1, True)
    assert remaining("2026-07-15T08:30:00", at) == (0, 0, False)  # no zone: UTC
    assert remaining("soon", at) is None


def test_an_order_number_is_short_readable_and_the_same_for_the_same_turn() -> None:
    number = order_number("whatsapp:+6281", 1.5)

    assert number == order_number("whatsapp:+6281", 1.5) != order_number("whatsapp:+6281", 2.5)
    assert len(number) == 6 and set(number) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_an_order_record_says_what_a_contact_may_see() -> None:
    order = place_order([OrderItem(product_id="kopi", name="Kopi", unit_price=45_000, quantity=2)],
                        name="Ana", address="Jl. Mawar 1", currency="IDR")

    assert order_record("7K3Q9D", order) == {"id": "7K3Q9D", "number": "7K3Q9D", "state": "PENDING", "product": "Kopi",
                                             "quantity": "2", "total": "Rp 90.000", "name": "Ana"}
    assert Reference(tables={"orders": (order_record("7K3Q9D", order),)}).find("orders", "#7k3q9d") is not None


# --- the new answer kinds, checked ------------------------------------------------------------


def small(step: dict[str, Any], texts: dict[str, str] | None = None, **more_steps: Any) -> list[Problem]:
    tree = {
        "name": "small", "version": 1, "languages": ["en"], "menu": "main",
        "flows": {"main": {"start": "ask", "steps": {"ask": step, **more_steps}}},
        "texts": {"en": {"ask": "Ask", "gone": "Gone {query}", "help": "H", "opted_out": "O", "escalation": "E",
                         **(texts or {})}},
    }
    return validate_pack(decode_pack(msgspec.json.encode(tree)))


LOOKUP = {"type": "lookup", "table": "sops", "store_as": "sop", "next": "ask", "not_found": "gone"}


def test_a_lookup_step_is_valid_when_its_texts_exist() -> None:
    assert small({"prompt": {"type": "text", "text": "ask"}, "accepts": LOOKUP}) == []


@pytest.mark.parametrize(("accepts", "field"), [
    (LOOKUP | {"not_found": "nope"}, "accepts.not_found"),
    (LOOKUP | {"labels": {"status": {"OPEN": "nope"}}}, "accepts.labels.status.OPEN"),
    (LOOKUP | {"countdown": {"field": "due", "left": "nope", "overdue": "gone"}}, "accepts.countdown.left"),
    (LOOKUP | {"table": ""}, "accepts.table"),
    (LOOKUP | {"store_as": "sop.x"}, "accepts.store_as"),
    ({"type": "media", "store_as": "photo", "next": "ask", "skip": "nope"}, "accepts.skip"),
])
def test_a_lookup_or_media_answer_naming_a_missing_text_or_a_bad_name_is_a_problem(accepts: dict, field: str) -> None:
    problems = small({"prompt": {"type": "text", "text": "ask"}, "accepts": accepts})

    assert [p.field for p in problems] == [field]


def test_buttons_over_a_media_answer_need_its_skip_option() -> None:
    media = {"type": "media", "store_as": "photo", "next": "ask"}

    assert [p.field for p in small({"prompt": {"type": "buttons", "text": "ask"}, "accepts": media})] == ["prompt"]
    assert small({"prompt": {"type": "buttons", "text": "ask"}, "accepts": media | {"skip": "ask"}}) == []


def test_a_return_to_nowhere_is_a_problem() -> None:
    choice = {"type": "choice", "options": [{"id": "a", "title": "ask", "next": "ask", "return_to": "nowhere"}]}

    problems = small({"prompt": {"type": "text", "text": "ask"}, "accepts": choice})

    assert [(p.field, p.message) for p in problems] == [("accepts.options[0].return_to", "no step 'nowhere'")]


def test_an_event_may_carry_a_found_records_field_but_not_one_of_an_unknown_answer() -> None:
    emit = {"type": "emit_event", "name": "x", "fields": {"ok": "sop.name", "bad": "machine.name"}}

    problems = small({"prompt": {"type": "text", "text": "ask"}, "accepts": LOOKUP, "on_complete": [emit]})

    assert [p.field for p in problems] == ["on_complete[0].fields.bad"]


# --- right to left ------------------------------------------------------------------------------


def test_arabic_lines_open_with_a_right_to_left_mark_once_and_others_are_untouched() -> None:
    text = "1. Beras — Rp 78.000\n\nمرحبا"

    once = directed(text, "ar")

    assert once == f"{RLM}1. Beras — Rp 78.000\n\n{RLM}مرحبا"
    assert directed(once, "ar") == once
    assert directed(text, "en") == text == directed(text, "hi")

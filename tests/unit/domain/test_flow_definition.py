"""Packs as data: decoding (JSON and YAML) and every Problem, named by flow, step and field."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from domain.errors import DomainError
from domain.flows import InvalidPack, Pack, Problem, decode_pack, validate_pack
from domain.flows.definition import Choice, CreateLead, FormAnswer, TextPrompt
from domain.leads import LeadState

VALID: dict[str, Any] = {
    "name": "tiny",
    "version": 1,
    "default_language": "en",
    "languages": ["en", "id"],
    "menu": "main",
    "flows": {
        "main": {
            "start": "menu",
            "steps": {
                "menu": {
                    "lead_state": "CHOOSE_OPTION",
                    "prompt": {"type": "buttons", "text": "welcome", "footer": "footer"},
                    "accepts": {"type": "choice", "options": [
                        {"id": "form", "title": "opt_form", "words": ["franchise"], "next": "form"},
                        {"id": "ask", "title": "opt_ask", "next": "ask.question"},
                    ]},
                },
                "form": {
                    "lead_state": "FORM_SENT",
                    "prompt": {"type": "text", "text": "form"},
                    "accepts": {"type": "form", "partial": "partial", "next": "done"},
                    "on_complete": [{"type": "create_lead"}],
                },
                "done": {"prompt": {"type": "text", "text": "done"}},
            },
        },
        "ask": {
            "triggers": ["question"],
            "start": "question",
            "steps": {
                "question": {
                    "prompt": {"type": "text", "text": "question"},
                    "accepts": {"type": "text", "store_as": "question", "next": "main.menu"},
                    "on_complete": [{"type": "emit_event", "name": "question.received",
                                     "fields": {"question": "question"}}],
                },
            },
        },
    },
    "texts": {
        "en": {"welcome": "Hi {name}", "footer": "Reply 1-2", "opt_form": "Form", "opt_ask": "Ask",
               "form": "Send the form", "partial": "Missing: {form_missing}", "done": "Thanks",
               "question": "Your question?", "help": "Help", "opted_out": "Bye", "escalation": "A person"},
        "id": {"welcome": "Halo"},
    },
}

YAML = b"""
name: tiny
version: 2
languages: [en]
menu: main
flows:
  main:
    start: hello
    steps:
      hello:
        prompt: {type: text, text: hello}
texts:
  en: {hello: "Hello!", help: Help, opted_out: Bye, escalation: A person}
"""


def raw(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(VALID) | changes


def encode(tree: dict[str, Any]) -> bytes:
    return msgspec.json.encode(tree)


def problems_of(tree: dict[str, Any]) -> list[Problem]:
    return validate_pack(decode_pack(encode(tree)))


def step_of(tree: dict[str, Any], flow: str, step: str) -> dict[str, Any]:
    return tree["flows"][flow]["steps"][step]


# --- decoding ------------------------------------------------------------------------------


def test_a_valid_pack_decodes_into_structs_and_has_no_problem() -> None:
    pack = decode_pack(encode(VALID))

    assert isinstance(pack, Pack)
    menu = pack.flows["main"].steps["menu"]
    assert isinstance(menu.accepts, Choice)
    assert menu.lead_state is LeadState.CHOOSE_OPTION
    assert [option.next for option in menu.accepts.options] == ["form", "ask.question"]
    assert isinstance(pack.flows["main"].steps["form"].accepts, FormAnswer)
    assert pack.flows["main"].steps["form"].on_complete == (CreateLead(),)
    assert pack.step("ask.question") is not None and pack.step("ask.nowhere") is None
    assert validate_pack(pack) == []


def test_a_pack_decodes_from_yaml_too() -> None:
    pack = decode_pack(YAML, "yaml")

    assert (pack.version, pack.default_language) == (2, "en")
    assert pack.flows["main"].steps["hello"].prompt == TextPrompt(text="hello")
    assert validate_pack(pack) == []


def test_malformed_json_is_one_problem() -> None:
    with pytest.raises(InvalidPack) as raised:
        decode_pack(b'{"name": "tiny",')

    (problem,) = raised.value.problems
    assert problem.message.startswith("not valid JSON")
    assert isinstance(raised.value, DomainError)


def test_malformed_yaml_is_one_problem() -> None:
    with pytest.raises(InvalidPack) as raised:
        decode_pack(b"flows: [", "yaml")

    assert raised.value.problems[0].message.startswith("not valid YAML")


def test_a_wrong_type_at_the_top_names_the_field() -> None:
    with pytest.raises(InvalidPack) as raised:
        decode_pack(encode(raw(version="one")))

    assert raised.value.problems == [Problem(field="version", message="Expected `int`, got `str`")]


def test_a_typo_in_a_step_names_the_flow_the_step_and_the_field() -> None:
    tree = raw()
    step_of(tree, "main", "menu")["acepts"] = step_of(tree, "main", "menu").pop("accepts")

    with pytest.raises(InvalidPack) as raised:
        decode_pack(encode(tree))

    (problem,) = raised.value.problems
    assert (problem.flow, problem.step) == ("main", "menu")
    assert "unknown field `acepts`" in problem.message
    assert str(problem).startswith("main.menu: ")


def test_a_wrong_value_deep_in_a_step_is_located() -> None:
    tree = raw()
    step_of(tree, "ask", "question")["accepts"]["validator"] = "email"

    with pytest.raises(InvalidPack) as raised:
        decode_pack(encode(tree))

    (problem,) = raised.value.problems
    assert (problem.flow, problem.step, problem.field) == ("ask", "question", "accepts.validator")


def test_an_unknown_prompt_type_is_located_in_yaml() -> None:
    with pytest.raises(InvalidPack) as raised:
        decode_pack(YAML.replace(b"type: text", b"type: video"), "yaml")

    (problem,) = raised.value.problems
    assert (problem.flow, problem.step, problem.field) == ("main", "hello", "prompt.type")


def test_a_flow_missing_its_start_is_located() -> None:
    tree = raw()
    del tree["flows"]["ask"]["start"]

    with pytest.raises(InvalidPack) as raised:
        decode_pack(encode(tree))

    (problem,) = raised.value.problems
    assert (problem.flow, problem.step) == ("ask", "")
    assert "`start`" in problem.message


def test_a_pack_encodes_and_decodes_to_itself() -> None:
    pack = decode_pack(encode(VALID))

    assert decode_pack(msgspec.json.encode(pack)) == pack


def test_an_unknown_lead_state_is_named() -> None:
    tree = raw()
    step_of(tree, "main", "form")["lead_state"] = "SENT"

    with pytest.raises(InvalidPack) as raised:
        decode_pack(encode(tree))

    assert raised.value.problems[0].field == "lead_state"
    assert "main.form" in str(raised.value)


# --- problems ------------------------------------------------------------------------------


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def test_an_unknown_next_step_is_named() -> None:
    tree = raw()
    step_of(tree, "main", "menu")["accepts"]["options"][1]["next"] = "ask.nowhere"

    problems = problems_of(tree)

    assert Problem(flow="main", step="menu", field="accepts.options[1].next", message="no step 'ask.nowhere'") in problems


def test_a_text_key_missing_in_the_default_language_is_named() -> None:
    tree = raw()
    step_of(tree, "main", "menu")["prompt"]["footer"] = "no_footer"

    problem = only(problems_of(tree))

    assert (problem.flow, problem.step, problem.field) == ("main", "menu", "prompt.footer")
    assert "'no_footer'" in problem.message and "(en)" in problem.message


def test_duplicate_option_ids_are_named() -> None:
    tree = raw()
    step_of(tree, "main", "menu")["accepts"]["options"][1]["id"] = "form"

    problem = only(problems_of(tree))

    assert (problem.step, problem.field) == ("menu", "accepts.options[1].id")
    assert problem.message == "'form' is also option 1"


def test_a_word_two_options_share_is_named() -> None:
    tree = raw()
    step_of(tree, "main", "menu")["accepts"]["options"][1]["words"] = ["Franchise"]

    problem = only(problems_of(tree))

    assert (problem.step, problem.field) == ("menu", "accepts.options[1].words")
    assert problem.message == "'franchise' also names 'form'"


def test_a_choice_with_no_options_is_named() -> None:
    tree = raw()
    step_of(tree, "main", "menu")["accepts"]["options"] = []

    fields = {(p.step, p.field) for p in problems_of(tree)}

    assert ("menu", "accepts.options") in fields


def test_unreachable_steps_and_flows_are_named() -> None:
    tree = raw()
    tree["flows"]["main"]["steps"]["orphan"] = {"prompt": {"type": "text", "text": "done"}}
    tree["flows"]["ask"]["triggers"] = []
    step_of(tree, "main", "menu")["accepts"]["options"].pop()

    unreachable = {(p.flow, p.step) for p in problems_of(tree) if p.message.startswith("unreachable")}

    assert unreachable == {("main", "orphan"), ("ask", "question")}


def test_buttons_need_a_choice_and_carry_three_at_most() -> None:
    tree = raw()
    step_of(tree, "ask", "question")["prompt"] = {"type": "buttons", "text": "question"}
    options = step_of(tree, "main", "menu")["accepts"]["options"]
    options += [dict(options[1], id=f"extra{i}") for i in range(2)]

    found = {(p.step, p.field): p.message for p in problems_of(tree)}

    assert "need a choice" in found[("question", "prompt")]
    assert "4 options" in found[("menu", "prompt")]


@pytest.mark.parametrize(
    ("change", "flow", "step", "field"),
    [
        (lambda t: t.update(menu="nowhere"), "", "", "menu"),
        (lambda t: t.update(version=0), "", "", "version"),
        (lambda t: t.update(languages=["en", "id", "xx"]), "", "", "languages"),
        (lambda t: t.update(default_language="fr"), "", "", "default_language"),
        (lambda t: t["texts"]["en"].pop("escalation"), "", "", "escalation.text"),
        (lambda t: t["texts"].update(de={"welcome": "Hallo"}), "", "", "texts.de"),
        (lambda t: t["texts"]["id"].update(welcome="Halo {nama"), "", "", "texts.id.welcome"),
        (lambda t: t["flows"]["ask"].update(start="nope"), "ask", "", "start"),
        (lambda t: t["flows"]["main"].update(triggers=["Question"]), "ask", "", "triggers"),
        (lambda t: step_of(t, "ask", "question")["accepts"].update(store_as="_pack"), "ask", "question",
         "accepts.store_as"),
        (lambda t: step_of(t, "ask", "question")["accepts"].update(required=False, validator="name"), "ask",
         "question", "accepts.required"),
        (lambda t: step_of(t, "ask", "question")["accepts"].update(validator="quantity", stock_from="product"),
         "ask", "question", "accepts.stock_from"),
        (lambda t: step_of(t, "ask", "question")["on_complete"][0]["fields"].update(question="asked"), "ask",
         "question", "on_complete[0].fields.question"),
        (lambda t: step_of(t, "ask", "question")["on_complete"].append({"type": "create_lead"}), "ask",
         "question", "on_complete[1]"),
        (lambda t: step_of(t, "ask", "question").update(prompt={"type": "media", "kind": "image", "url": "x.png"}),
         "ask", "question", "prompt.url"),
        (lambda t: step_of(t, "main", "form").update(lead_state="FORM_IN_PROGRESS"), "main", "form", "lead_state"),
        (lambda t: step_of(t, "main", "menu").update(lead_state="PARTNERSHIP"), "main", "menu",
         "accepts.options[0].next"),
        (lambda t: step_of(t, "main", "menu").update(lead_state="FORM_SENT"), "main", "menu", "lead_state"),
    ],
)
def test_each_problem_names_its_flow_step_and_field(change: Any, flow: str, step: str, field: str) -> None:
    tree = raw()
    change(tree)

    problems = problems_of(tree)

    assert any((p.flow, p.step, p.field) == (flow, step, field) for p in problems), problems
    assert all(p.message for p in problems)


def test_a_problem_reads_as_one_sentence() -> None:
    problem = Problem(flow="order", step="pick", field="accepts.next", message="no step 'x'")

    assert str(problem) == "order.pick: accepts.next: no step 'x'"
    assert str(Problem(field="menu", message="no flow")) == "menu: no flow"
    assert str(InvalidPack([problem, Problem(message="bad")])) == "order.pick: accepts.next: no step 'x'; bad"

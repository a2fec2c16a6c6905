"""Bots as data through the admin API: a changed pack answers new conversations at once, a
conversation already inside it finishes on its version, and a bad definition names its fault."""

from __future__ import annotations

import json
from importlib import resources

import meta_webhooks as wa
from gateway import Gateway

ANA, BUDI = "6281211110001", "6281211110002"


def _franchise(**texts: str) -> dict:
    pack = json.loads(resources.files("domain.packs").joinpath("franchise_leads.json").read_bytes())
    pack["texts"]["id"].update(texts)
    return pack


def _body(reply: dict) -> str:
    return reply["text"]["body"] if reply["type"] == "text" else reply["interactive"]["body"]["text"]


async def test_a_replaced_pack_answers_new_conversations_without_a_restart(gateway: Gateway) -> None:
    await gateway.say(ANA, wa.text(ANA, "halo"))  # Ana starts on the shipped version

    stored = await gateway.admin("PUT", "/api/v1/flows/franchise_leads",
                                 json=_franchise(welcome="Selamat datang di versi baru!", form_request="Isi form baru: {example}"))
    assert stored.status_code == 200 and stored.json() == {"name": "franchise_leads", "version": 2}

    welcome = await gateway.say(BUDI, wa.text(BUDI, "halo"))
    assert "versi baru" in _body(welcome)
    ana_next = await gateway.say(ANA, wa.text(ANA, "1"))
    assert "form baru" not in _body(ana_next), "a conversation finishes on the version it started on"

    listed = (await gateway.admin("GET", "/api/v1/flows")).json()
    assert {"name": "franchise_leads", "version": 2, "source": "stored"}.items() <= next(
        p for p in listed if p["name"] == "franchise_leads").items()
    assert (await gateway.admin("GET", "/api/v1/flows/franchise_leads")).json()["version"] == 2


async def test_an_invalid_definition_is_refused_naming_the_step_and_the_field(gateway: Gateway) -> None:
    pack = _franchise()
    flow = next(iter(pack["flows"].values()))
    step = next(iter(flow["steps"].values()))
    step["accepts"] = {"type": "choice", "options": [{"id": "x", "title": "welcome", "next": "nowhere"}]}

    refused = await gateway.admin("POST", "/api/v1/flows", json={**pack, "name": "broken"})

    assert refused.status_code == 400
    problems = refused.json()["extra"]
    assert any(p["step"] and p["field"] and "nowhere" in p["message"] for p in problems)
    typo = await gateway.admin("POST", "/api/v1/flows", json={**pack, "name": "typo", "languagez": ["en"]})
    assert typo.status_code == 400 and "languagez" in typo.json()["detail"]
    assert (await gateway.admin("GET", "/api/v1/flows/broken")).status_code == 404


async def test_a_stored_pack_can_be_deleted_and_the_shipped_one_answers_again(gateway: Gateway) -> None:
    assert (await gateway.admin("POST", "/api/v1/flows", json=_franchise(welcome="Versi toko!"))).status_code == 201
    assert (await gateway.admin("POST", "/api/v1/flows", json=_franchise())).status_code == 409
    assert "Versi toko" in _body(await gateway.say(ANA, wa.text(ANA, "halo")))

    assert (await gateway.admin("DELETE", "/api/v1/flows/franchise_leads")).status_code == 204
    assert (await gateway.admin("DELETE", "/api/v1/flows/franchise_leads")).status_code == 409  # shipped
    fresh = await gateway.say(BUDI, wa.text(BUDI, "halo"))
    assert "Versi toko" not in _body(fresh) and "StartFranchise" in _body(fresh)

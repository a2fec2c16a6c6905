"""The franchise lead conversation end to end: signed Meta webhooks in, Graph API sends out."""

from __future__ import annotations

import pytest

import meta_webhooks as wa
from gateway import ADMIN_CHAT, Gateway

ANA = "6281234567890"


def _body_text(reply: dict) -> str:
    if reply["type"] == "text":
        return reply["text"]["body"]
    return reply["interactive"]["body"]["text"]


async def test_whole_conversation_stores_a_completed_lead(gateway: Gateway) -> None:
    welcome = await gateway.say(ANA, wa.text(ANA, "halo"))
    assert welcome["type"] == "interactive" and welcome["interactive"]["type"] == "button"
    buttons = welcome["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["opt_franchise", "opt_partnership", "opt_question"]

    form_request = await gateway.say(ANA, wa.button_reply(ANA, "opt_franchise", "Cari franchise"))
    for field in ("Sumber", "Bisnis", "Budget", "Rencana"):
        assert field in _body_text(form_request)

    partial = await gateway.say(ANA, wa.text(ANA, "Sumber: Instagram\nBisnis: Kopi"))
    assert "Budget" in _body_text(partial) and "Rencana" in _body_text(partial)

    confirmation = await gateway.say(ANA, wa.text(ANA, "Budget: 100 juta\nRencana: tahun depan"))
    assert "Rp 100.000.000" in _body_text(confirmation)

    page = (await gateway.admin("GET", "/api/v1/leads", params={"state": "FORM_COMPLETED"})).json()
    [lead] = page["items"]
    assert lead["contact"] == {"key": f"whatsapp:+{ANA}", "channel": "whatsapp", "phone": f"+{ANA}", "name": "Ana"}
    assert lead["fields"] == {"sumber": "Instagram", "bisnis": "Kopi", "budget": "100 juta",
                              "rencana": "tahun depan", "budget_amount": 100_000_000}
    assert page["next"] is None


async def test_third_invalid_answer_hands_over_to_a_person_once_and_tells_the_admin(gateway: Gateway) -> None:
    await gateway.say(ANA, wa.text(ANA, "halo"))
    first = await gateway.say(ANA, wa.text(ANA, "apa ini"))
    second = await gateway.say(ANA, wa.text(ANA, "hmm"))
    assert first["type"] == second["type"] == "interactive"  # the options again, in one message
    notice = await gateway.say(ANA, wa.text(ANA, "entahlah"))
    assert notice["type"] == "text"

    await gateway.providers.wait_for_requests(1, path=gateway.telegram_path)
    [alert] = gateway.admin_notices()
    assert alert["chat_id"] == ADMIN_CHAT and "Ana" in alert["text"] and f"+{ANA}" in alert["text"]

    sent_before = len(gateway.sent())
    assert await gateway.post_webhook(wa.text(ANA, "halo?")) == 200
    await gateway.quiet()
    assert len(gateway.sent()) == sent_before, "the bot stays silent for a contact a person holds"

    [lead] = (await gateway.admin("GET", "/api/v1/leads")).json()["items"]
    assert lead["state"] == "MANUAL_INTERVENTION"
    released = await gateway.admin("POST", f"/api/v1/leads/{lead['id']}/release")
    assert released.status_code == 200
    menu = await gateway.say(ANA, wa.text(ANA, "halo lagi"))
    assert menu["type"] == "interactive"
    assert len(gateway.admin_notices()) == 1


async def test_redelivered_webhook_is_answered_once(gateway: Gateway) -> None:
    body = wa.text(ANA, "halo", wamid=wa.new_wamid())
    await gateway.say(ANA, body)
    assert await gateway.post_webhook(body) == 200
    await gateway.quiet()
    assert len(gateway.sent()) == 1


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "md5=abc", ""])
async def test_unsigned_or_badly_signed_webhook_is_refused_and_stores_nothing(
    gateway: Gateway, signature: str | None
) -> None:
    assert await gateway.post_webhook(wa.text(ANA, "halo"), signature=signature) == 401
    await gateway.quiet(0.3)
    assert gateway.sent() == []
    assert (await gateway.admin("GET", "/api/v1/leads")).json()["items"] == []


async def test_message_over_the_limit_gets_a_polite_reply_that_does_not_echo_it(gateway: Gateway) -> None:
    long_text = "kopi " * 200
    reply = await gateway.say(ANA, wa.text(ANA, long_text))
    assert long_text.strip() not in _body_text(reply)
    assert "500" in _body_text(reply)


async def test_business_echo_and_malformed_bodies_get_no_reply(gateway: Gateway) -> None:
    assert await gateway.post_webhook(b"{not json") == 400
    assert await gateway.post_webhook(b'{"object": "page", "entry": []}') in (200, 400)
    await gateway.quiet(0.3)
    assert gateway.sent() == []


async def test_verification_handshake_echoes_the_challenge_only_for_our_token(gateway: Gateway) -> None:
    ok = await gateway.client.get("/webhooks/meta", params={
        "hub.mode": "subscribe", "hub.verify_token": "e2e-verify", "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = await gateway.client.get("/webhooks/meta", params={
        "hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"})
    assert wrong.status_code == 403


async def test_metrics_count_accepted_and_duplicate_messages(gateway: Gateway) -> None:
    body = wa.text(ANA, "halo")
    await gateway.say(ANA, body)
    await gateway.post_webhook(body)
    text = (await gateway.client.get("/metrics")).text
    assert 'chatgate_inbound_messages_total{channel="whatsapp",outcome="accepted",provider="meta"} 1.0' in text
    assert 'chatgate_inbound_messages_total{channel="whatsapp",outcome="duplicate",provider="meta"} 1.0' in text
    assert 'chatgate_outbound_messages_total{channel="whatsapp",provider="meta",status="sent"} 1.0' in text
    assert await gateway.post_webhook(body, signature=None) == 401
    text = (await gateway.client.get("/metrics")).text
    assert 'chatgate_inbound_messages_total{channel="whatsapp",outcome="rejected",provider="meta"} 1.0' in text


async def test_a_list_choice_is_understood_like_a_button(gateway: Gateway) -> None:
    await gateway.say(ANA, wa.text(ANA, "halo"))
    partnership = await gateway.say(ANA, wa.list_reply(ANA, "opt_partnership", "Kemitraan"))
    [lead] = (await gateway.admin("GET", "/api/v1/leads")).json()["items"]
    assert lead["state"] == "PARTNERSHIP"
    assert partnership["type"] == "text"


async def test_an_image_is_answered_politely_and_kept(gateway: Gateway) -> None:
    await gateway.say(ANA, wa.text(ANA, "halo"))
    reply = await gateway.say(ANA, wa.image(ANA))
    assert reply["type"] in ("text", "interactive")


async def _last_sent_wamid(gateway: Gateway) -> str:
    [item] = (await gateway.admin("GET", "/api/v1/outbox", params={"limit": 1})).json()
    return item["provider_message_id"]


async def test_delivery_statuses_only_move_forward(gateway: Gateway) -> None:
    await gateway.say(ANA, wa.text(ANA, "halo"))
    wamid = await _last_sent_wamid(gateway)
    for state in ("delivered", "read", "sent"):
        assert await gateway.post_webhook(wa.status(wamid, ANA, state)) == 200
    [item] = (await gateway.admin("GET", "/api/v1/outbox", params={"contact": f"whatsapp:+{ANA}"})).json()
    assert (item["status"], item["delivery"]) == ("sent", "read")


async def test_a_failed_delivery_keeps_the_provider_error_code(gateway: Gateway) -> None:
    await gateway.say(ANA, wa.text(ANA, "halo"))
    wamid = await _last_sent_wamid(gateway)
    assert await gateway.post_webhook(wa.failed_status(wamid, ANA, 131047)) == 200
    [item] = (await gateway.admin("GET", "/api/v1/outbox")).json()
    assert item["delivery"] == "failed" and "131047" in item["error"]


async def test_a_permanent_refusal_is_dead_lettered_once_and_can_be_requeued(gateway: Gateway) -> None:
    refusal = {"error": {"message": "Re-engagement message", "type": "OAuthException", "code": 131047,
                         "fbtrace_id": "Az"}}
    from provider_server import Response

    gateway.providers.reset()
    gateway.providers.script(gateway.graph_path, [Response(400, refusal)])
    assert await gateway.post_webhook(wa.text(ANA, "halo")) == 200
    await gateway.providers.wait_for_requests(1, path=gateway.graph_path)
    await gateway.quiet()
    assert len(gateway.sent()) == 1, "a permanent failure is never retried"
    [dead] = (await gateway.admin("GET", "/api/v1/outbox", params={"status": "dead"})).json()
    assert "131047" in dead["error"] and dead["attempts"] == 1

    gateway.providers.script(gateway.graph_path, [Response(200, {"messages": [{"id": "wamid.AGAIN="}]})])
    assert (await gateway.admin("POST", f"/api/v1/outbox/{dead['id']}/requeue")).status_code == 200
    await gateway.providers.wait_for_requests(2, path=gateway.graph_path)
    assert (await gateway.admin("GET", "/api/v1/outbox", params={"status": "dead"})).json() == []


async def test_admin_api_refuses_a_wrong_token_and_names_bad_fields(gateway: Gateway) -> None:
    wrong = await gateway.client.get("/api/v1/leads", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"]
    bad_state = await gateway.admin("GET", "/api/v1/leads", params={"state": "DONE"})
    assert bad_state.status_code == 400 and "state" in bad_state.json()["detail"]
    bad_limit = await gateway.admin("GET", "/api/v1/leads", params={"limit": "many"})
    assert bad_limit.status_code == 400 and "limit" in bad_limit.json()["detail"]
    bad_since = await gateway.admin("GET", "/api/v1/leads", params={"since": "yesterday"})
    assert bad_since.status_code == 400 and "since" in bad_since.json()["detail"]


async def test_leads_are_paged_with_a_next_link(gateway: Gateway) -> None:
    for n in range(3):
        number = f"62812000000{n}"
        await gateway.say(number, wa.text(number, "halo"))
    first = (await gateway.admin("GET", "/api/v1/leads", params={"limit": 2})).json()
    assert len(first["items"]) == 2 and first["next"]
    second = (await gateway.admin("GET", first["next"])).json()
    assert len(second["items"]) == 1 and second["next"] is None


async def test_a_message_with_only_the_business_scoped_id_continues_the_phone_contacts_conversation(
    gateway: Gateway,
) -> None:
    bsuid = "ID.1502576394655843"
    await gateway.say(ANA, wa.text(ANA, "halo", user_id=bsuid))
    before = len(gateway.sent())
    assert await gateway.post_webhook(wa.text_from_username(bsuid, "1")) == 200
    await gateway.providers.wait_for_requests(before + 1, path=gateway.graph_path)
    form_request = gateway.sent()[-1]
    assert form_request.get("recipient") == bsuid and "to" not in form_request
    assert "Sumber" in _body_text(form_request)

    [lead] = (await gateway.admin("GET", "/api/v1/leads")).json()["items"]
    assert lead["contact"]["phone"] == f"+{ANA}" and lead["state"] == "FORM_SENT"

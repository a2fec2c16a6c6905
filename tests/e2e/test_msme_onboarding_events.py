"""The onboarding pack end to end: its `onboarding.completed` event reaches the integrator's
endpoint (EVENTS_WEBHOOK_URL) signed, with the data for their own OTP service."""

from __future__ import annotations

import hashlib
import hmac
import json

import meta_webhooks as wa
from gateway import Gateway, gateway_settings, script_providers, start_gateway
from provider_server import ProviderServer, Response

RAVI = "919876543210"
SECRET = "e2e-events-secret"


async def test_a_completed_onboarding_is_delivered_signed_to_the_integrator(tmp_path) -> None:
    async with ProviderServer() as providers:
        script_providers(providers)
        providers.script("/chatgate-events", [Response(503, {}), *[Response(204)] * 20])  # one failure first
        settings = gateway_settings(tmp_path, providers, bot="msme_onboarding",
                                    events_webhook_url=providers.url("/chatgate-events"), events_webhook_secret=SECRET)
        async with await start_gateway(settings, providers) as client:
            gateway = Gateway(client, providers)
            await gateway.say(RAVI, wa.text(RAVI, "hello"))
            await gateway.say(RAVI, wa.button_reply(RAVI, "register", "Register"))
            await gateway.say(RAVI, wa.text(RAVI, "Ravi Kumar"))
            await gateway.say(RAVI, wa.text(RAVI, "3"))  # Technology, by number
            bad_pin = await gateway.say(RAVI, wa.text(RAVI, "012345"))
            assert "6" in json.dumps(bad_pin)  # the pincode rule, said politely
            await gateway.say(RAVI, wa.text(RAVI, "560001"))
            await gateway.say(RAVI, wa.text(RAVI, "098765 43210"))
            done = await gateway.say(RAVI, wa.button_reply(RAVI, "confirm", "Confirm"))
            assert "msmebazaar.in/login" in json.dumps(done)

            deliveries = await providers.wait_for_requests(2, path="/chatgate-events", timeout=15)
    first, retried = deliveries[0], deliveries[-1]
    assert first.body == retried.body, "a retry delivers the same event, same id"
    assert retried.headers["X-Chatgate-Signature"] == "sha256=" + hmac.new(
        SECRET.encode(), retried.body, hashlib.sha256).hexdigest()
    event = retried.json
    assert event["kind"] == "onboarding.completed" and retried.headers["X-Chatgate-Event"] == "onboarding.completed"
    expected = {"name": "Ravi Kumar", "sector": "Technology", "pincode": "560001", "phone": "+919876543210"}
    assert expected.items() <= event["data"]["fields"].items()

"""Delivery reports through the real app: Twilio's signed status callbacks reach the outbox."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from channels import PUBLIC_URL, TWILIO_SID, TWILIO_TOKEN, TwilioDriver
from gateway import APP_SECRET, Gateway, gateway_settings, script_providers, start_gateway
from provider_server import ProviderServer


def _status_callback(outbox_id: int, message_sid: str, status: str, recipient: str) -> tuple[str, bytes, dict]:
    path = f"/webhooks/twilio/status?outbox={outbox_id}"
    params = {"MessageSid": message_sid, "MessageStatus": status, "SmsStatus": status, "AccountSid": TWILIO_SID,
              "From": "whatsapp:+14155238886", "To": f"whatsapp:+{recipient}", "ApiVersion": "2010-04-01"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{PUBLIC_URL}{path}", params)
    return path, urlencode(params).encode(), {"Content-Type": "application/x-www-form-urlencoded",
                                              "X-Twilio-Signature": signature}


async def test_a_signed_twilio_status_callback_moves_the_reply_forward(tmp_path) -> None:
    async with ProviderServer() as providers:
        script_providers(providers)
        driver = TwilioDriver(APP_SECRET)
        driver.script(providers)
        overrides = {k: (v or providers.base_url) for k, v in driver.settings.items()}
        async with await start_gateway(gateway_settings(tmp_path, providers, **overrides), providers) as client:
            gateway = Gateway(client, providers)
            hello = driver.text("halo")
            assert await gateway.post(hello.path, hello.body, hello.headers) == 200
            await providers.wait_for_requests(1, path=driver.reply_path, timeout=10)
            await asyncio.sleep(0.2)
            [job] = (await gateway.admin("GET", "/api/v1/outbox")).json()
            callback = providers.requests_to(driver.reply_path)[0].form["StatusCallback"][0]
            assert callback == f"{PUBLIC_URL}/webhooks/twilio/status?outbox={job['id']}"

            path, body, headers = _status_callback(job["id"], job["provider_message_id"], "delivered", driver.who)
            assert await gateway.post(path, body, headers) == 200
            tampered = dict(headers, **{"X-Twilio-Signature": "bm9wZQ=="})
            assert await gateway.post(path, body.replace(b"delivered", b"read"), tampered) == 401

            [after] = (await gateway.admin("GET", "/api/v1/outbox")).json()
    assert after["delivery"] == "delivered"

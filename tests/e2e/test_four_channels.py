"""The same franchise conversation on Meta, Twilio, WAHA and Telegram: the same stored lead.

Each channel's webhooks are signed its provider's way, and each reply is read where that
provider's REST API received it (tests/support/channels.py).
"""

from __future__ import annotations

import asyncio

import pytest

from channels import DRIVERS
from gateway import APP_SECRET, Gateway, gateway_settings, script_providers, start_gateway
from provider_server import ProviderServer, RecordedRequest

FORM = "Sumber: Instagram\nBisnis: Kopi\nBudget: 100 juta\nRencana: tahun depan"


class Conversation:
    """One person on one channel, talking to the gateway and reading its answers."""

    def __init__(self, gateway: Gateway, driver) -> None:  # type: ignore[no-untyped-def]
        self.gateway, self.driver = gateway, driver

    def replies(self) -> list[RecordedRequest]:
        return [r for r in self.gateway.providers.requests_to(self.driver.reply_path) if self.driver.is_mine(r)]

    async def send(self, post) -> str:  # type: ignore[no-untyped-def]
        before = len(self.replies())
        assert await self.gateway.post(post.path, post.body, post.headers) == 200
        for _ in range(200):
            if len(self.replies()) > before:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        new = self.replies()[before:]
        assert len(new) == 1, [self.driver.reply_text(r) for r in new]
        return self.driver.reply_text(new[0])


@pytest.mark.parametrize("channel", sorted(DRIVERS))
async def test_the_franchise_conversation_stores_the_same_lead_on_every_channel(tmp_path, channel: str) -> None:
    async with ProviderServer() as providers:
        script_providers(providers)
        driver = DRIVERS[channel](APP_SECRET)
        driver.script(providers)
        overrides = {k: (v or providers.base_url) for k, v in driver.settings.items()}
        client = await start_gateway(gateway_settings(tmp_path, providers, **overrides), providers)
        async with client:
            chat = Conversation(Gateway(client, providers), driver)

            welcome = await chat.send(driver.text("halo"))
            assert "StartFranchise" in welcome
            pick = driver.choose("opt_franchise", "Cari franchise") if driver.picks_by_button else driver.text("1")
            form_request = await chat.send(pick)
            assert all(field in form_request for field in ("Sumber", "Bisnis", "Budget", "Rencana"))
            confirmation = await chat.send(driver.text(FORM))
            assert "Rp 100.000.000" in confirmation

            [lead] = (await chat.gateway.admin("GET", "/api/v1/leads")).json()["items"]
    assert lead["state"] == "FORM_COMPLETED"
    assert lead["fields"] == {"sumber": "Instagram", "bisnis": "Kopi", "budget": "100 juta",
                              "rencana": "tahun depan", "budget_amount": 100_000_000}
    contact = {k: lead["contact"][k] for k in ("key", "channel", "phone")}
    assert contact == driver.contact

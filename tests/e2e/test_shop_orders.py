"""The shop pack over WhatsApp: an order placed, stored under its number, and found again."""

from __future__ import annotations

import json
import re

import meta_webhooks as wa
from gateway import Gateway, gateway_settings, script_providers, start_gateway
from provider_server import ProviderServer

SITI = "6281277770001"


def _body(reply: dict) -> str:
    if reply["type"] == "text":
        return reply["text"]["body"]
    return reply["interactive"]["body"]["text"]


async def test_an_order_is_placed_and_where_is_my_order_finds_it_by_number(tmp_path) -> None:
    async with ProviderServer() as providers:
        script_providers(providers)
        settings = gateway_settings(tmp_path, providers, bot="shop_orders")
        async with await start_gateway(settings, providers) as client:
            gateway = Gateway(client, providers)
            await gateway.say(SITI, wa.text(SITI, "halo"))
            await gateway.say(SITI, wa.text(SITI, "beli"))
            quantity = await gateway.say(SITI, wa.text(SITI, "beras"))
            assert "Beras" in _body(quantity)
            too_many = await gateway.say(SITI, wa.text(SITI, "500"))
            assert "25" in _body(too_many), "the quantity is checked against the stock"
            await gateway.say(SITI, wa.text(SITI, "2"))
            await gateway.say(SITI, wa.text(SITI, "Siti Aminah"))
            summary = await gateway.say(SITI, wa.text(SITI, "Jl. Melati 5, Bandung"))
            assert "156.000" in _body(summary), "the total: 2 × Rp 78.000"
            placed = await gateway.say(SITI, wa.button_reply(SITI, "confirm", "Konfirmasi"))
            number = re.search(r"\b[A-Z0-9]{6}\b", _body(placed)).group(0)

            await gateway.say(SITI, wa.text(SITI, "cek pesanan"))
            found = await gateway.say(SITI, wa.text(SITI, number))
            assert number in _body(found) and "Menunggu konfirmasi" in _body(found)  # PENDING, as stored
            missing = await gateway.say(SITI, wa.text(SITI, "ZZZZZZ"))
            assert number not in _body(missing)

            [order] = (await gateway.admin("GET", "/api/v1/orders", params={"state": "PENDING"})).json()
            assert order["number"] == number and order["order"]["total"] == 156_000
            assert order["contact_key"] == f"whatsapp:+{SITI}"
            for move, state in (("confirm", "CONFIRMED"), ("complete", "COMPLETED")):
                moved = await gateway.admin("POST", f"/api/v1/orders/{number}/{move}")
                assert moved.status_code == 200 and moved.json()["order"]["state"] == state
            refused = await gateway.admin("POST", f"/api/v1/orders/{number}/cancel")
            assert refused.status_code == 409 and "COMPLETED" in refused.json()["detail"]
            assert (await gateway.admin("POST", f"/api/v1/orders/{number}/ship")).status_code == 400
            assert (await gateway.admin("POST", "/api/v1/orders/NOPE42/confirm")).status_code == 404
            await gateway.say(SITI, wa.text(SITI, "cek pesanan"))
            again = await gateway.say(SITI, wa.text(SITI, number))
            assert "Menunggu konfirmasi" not in _body(again), "the contact sees the order as it stands now"


async def test_the_operators_catalogue_file_replaces_the_shipped_one(tmp_path) -> None:
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text("currency: IDR\nproducts:\n  - {id: kopi, name: Kopi Gayo 250 g, price: 65000, stock: 3, words: [kopi]}\n")
    async with ProviderServer() as providers:
        script_providers(providers)
        settings = gateway_settings(tmp_path, providers, bot="shop_orders", catalogue_file=str(catalogue))
        async with await start_gateway(settings, providers) as client:
            gateway = Gateway(client, providers)
            await gateway.say(SITI, wa.text(SITI, "halo"))
            menu = await gateway.say(SITI, wa.text(SITI, "beli"))
            assert "Kopi Gayo" in json.dumps(menu) and "Beras" not in json.dumps(menu)
            await gateway.say(SITI, wa.text(SITI, "kopi"))
            too_many = await gateway.say(SITI, wa.text(SITI, "5"))
            assert "3" in _body(too_many)


def test_a_catalogue_file_that_cannot_be_used_stops_serve_with_one_sentence(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    bad = tmp_path / "catalogue.json"
    bad.write_text('{"products": [{"id": "x"}]}')
    chatgate = str(Path(sys.executable).with_name("chatgate"))
    env = {"PATH": "/usr/bin:/bin", "CHATGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
           "CHATGATE_BOT": "shop_orders", "CHATGATE_CATALOGUE_FILE": str(bad)}
    done = subprocess.run([chatgate, "serve"], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "CHATGATE_CATALOGUE_FILE" in done.stderr and "Traceback" not in done.stderr

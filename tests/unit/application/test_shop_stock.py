"""Stock through the application: what open orders hold is off the shelf; a cancel gives it back."""

from __future__ import annotations

from collections.abc import Callable

from dependency_injector import providers

from domain.contacts import ContactId
from domain.flows import Catalogue, Product
from faked_gateway import Gateway

KOPI = Catalogue(products=(Product(id="kopi", name="Kopi Gayo 250 g", price=65_000, stock=3, words=("kopi",)),),
                 currency="IDR")


async def _order(gateway: Gateway, who: ContactId, quantity: str) -> list[str]:
    said = []
    for text, choice in (("halo", None), ("beli", None), ("", "kopi"), (quantity, None), ("Siti Aminah", None),
                         ("Jl. Melati 5", None), ("", "confirm")):
        said += await gateway.say(who, text, choice_id=choice)
    return said


async def test_an_order_holds_its_stock_and_a_cancel_gives_it_back(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_BOT": "shop_orders"})
    gateway.container.core.bots.add_kwargs(data=providers.Object(lambda pack: (KOPI, None)))
    siti, budi, rina = new_contact(), new_contact(), new_contact()

    await _order(gateway, siti, "2")
    [(number, _, first)] = gateway.db.orders
    assert first.items[0].quantity == 2
    refused = await _order(gateway, budi, "2")
    assert len(gateway.db.orders) == 1, "only one kopi is left for Budi"
    assert any("1" in reply for reply in refused)

    moved = await (await gateway.get("move_order"))(number, "cancel")
    assert moved.order.state.value == "CANCELLED"
    await _order(gateway, rina, "2")
    assert len(gateway.db.orders) == 2, "the cancelled order's stock went back on the shelf"


async def test_a_pack_without_a_catalogue_does_not_scan_the_orders(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_BOT": "franchise_leads"})
    scans: list[int] = []
    book = gateway.container.storage.orders()
    original = book.held_stock

    async def counting() -> tuple[int, dict[str, int]]:
        scans.append(1)
        return await original()

    book.held_stock = counting
    ana = new_contact()
    for text in ("halo", "1", "menu"):
        gateway.clock.advance(2.0)  # past the bot's one-second refresh
        await gateway.say(ana, text)

    assert len(scans) == 1, "only the first build looks at the orders"

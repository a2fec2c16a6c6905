"""Reference data a flow reads but does not own: the products a shop or factory offers.

The operator's catalogue file is loaded by an adapter and handed to ``FlowBot``; the domain
only reads it. A ``product`` answer picks one of its products (by button id, number, name or a
name with a small typo); a ``quantity`` answer with ``stock_from`` is checked against the
chosen product's stock; ``CreateOrder`` prices the order from it. Prices are whole units of
the catalogue's currency (Rupiah and Rupees are written without minor units).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from domain.flows.definition import Problem


class Product(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One product: a stable id, the name shown, its unit price, how many are in stock."""

    id: str
    name: str
    price: int
    stock: int
    words: tuple[str, ...] = ()
    """Other names a contact may use for it (``"kopi"`` for ``"Kopi Susu Gula Aren"``)."""


class Catalogue(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The products on offer, in the order they are listed."""

    products: tuple[Product, ...] = ()
    currency: str = "IDR"

    def product(self, product_id: str | None) -> Product | None:
        """The product with this id, or None."""
        return next((p for p in self.products if p.id == product_id), None)

    @property
    def in_stock(self) -> tuple[Product, ...]:
        """The products a contact may choose now (stock above 0), in list order."""
        return tuple(p for p in self.products if p.stock > 0)


_SYMBOLS = {"IDR": ("Rp ", "."), "INR": ("₹", ","), "USD": ("$", ","), "EUR": ("€", ".")}


def money(amount: int, currency: str) -> str:
    """An amount as people of that currency write it: ``Rp 75.000``, ``₹1,500``, ``12 GBP``."""
    symbol, separator = _SYMBOLS.get(currency.upper(), ("", ","))
    grouped = f"{amount:,}".replace(",", separator)
    return f"{symbol}{grouped}" if symbol else f"{grouped} {currency.upper()}"


def catalogue_problems(catalogue: Catalogue) -> list[Problem]:
    """What makes a catalogue unusable: an id used twice, a negative price or stock."""
    problems, seen = [], set()
    for i, product in enumerate(catalogue.products):
        if not product.id or product.id in seen:
            problems.append(Problem(field=f"products[{i}].id", message=f"{product.id!r} is empty or used twice"))
        seen.add(product.id)
        if product.price < 0 or product.stock < 0:
            problems.append(Problem(field=f"products[{i}]", message="price and stock are 0 or more"))
    return problems


def less_ordered(catalogue: Catalogue, ordered: Mapping[str, int]) -> Catalogue:
    """The catalogue with what open orders hold taken off each product's stock."""
    products = tuple(
        msgspec.structs.replace(product, stock=max(0, product.stock - ordered.get(product.id, 0)))
        for product in catalogue.products
    )
    return msgspec.structs.replace(catalogue, products=products)

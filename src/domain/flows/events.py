"""Events flows produce beyond those of ``domain.events`` (to be merged into its ``Event`` union).

Tagged like ``domain.events``: ``order.placed``, ``flow.event`` and ``lookup.requested``.
"""

from __future__ import annotations

import msgspec

from domain.orders import Order


class OrderPlaced(msgspec.Struct, frozen=True, kw_only=True, tag="order.placed"):
    """A contact placed an order (PENDING); the business confirms and fulfils it."""

    contact_key: str
    contact_label: str
    order: Order
    at: float
    number: str = ""
    """The order's number, as the contact was told it (``reference.order_number``)."""


class FlowEvent(msgspec.Struct, frozen=True, kw_only=True, tag="flow.event"):
    """A fact a pack names itself (``EmitEvent``), with the answers it chose to carry."""

    name: str
    contact_key: str
    contact_label: str
    fields: dict[str, str] = {}
    at: float


class LookupRequested(msgspec.Struct, frozen=True, kw_only=True, tag="lookup.requested"):
    """The contact asked for a record of one of the application's tables (``orders``); the
    conversation waits for ``FlowBot.looked_up`` with it (or None) before anything is said."""

    contact_key: str
    contact_label: str
    table: str
    query: str
    """What the contact typed, cleaned."""
    keys: tuple[str, ...]
    """The ids the query may name, as ids are compared (``reference.candidate_keys``: ``order
    #7k3q9d`` gives ``ORDER7K3Q9D``, ``ORDER``, ``7K3Q9D``); or match with ``reference.find``."""
    at: float


FlowEvents = OrderPlaced | FlowEvent | LookupRequested

"""Events flows produce beyond those of ``domain.events`` (to be merged into its ``Event`` union).

Tagged like ``domain.events``: ``order.placed`` and ``flow.event``.
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


class FlowEvent(msgspec.Struct, frozen=True, kw_only=True, tag="flow.event"):
    """A fact a pack names itself (``EmitEvent``), with the answers it chose to carry."""

    name: str
    contact_key: str
    contact_label: str
    fields: dict[str, str] = {}
    at: float


FlowEvents = OrderPlaced | FlowEvent

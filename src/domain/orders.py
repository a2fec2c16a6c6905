"""The order state machine.

An order is placed PENDING; the business confirms it, then completes it, or either side cancels
it before it is completed. Every change of state goes through ``transition``, which raises
``InvalidOrderTransition`` for any move the table does not allow. Nothing is mutated or stored.

DomainError
├── InvalidOrder               an order with no item, a quantity below 1 or a negative price
└── InvalidOrderTransition     the table does not allow moving an order between two states
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import msgspec

from domain.errors import DomainError


class OrderState(enum.StrEnum):
    """Where an order stands."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class OrderItem(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an order: a product, its unit price when ordered, how many."""

    product_id: str
    name: str
    unit_price: int
    quantity: int

    @property
    def subtotal(self) -> int:
        """Unit price times quantity."""
        return self.unit_price * self.quantity


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """An order a contact placed: its lines, total, who receives it and where."""

    items: tuple[OrderItem, ...]
    total: int
    currency: str
    name: str
    address: str
    state: OrderState = OrderState.PENDING


class InvalidOrder(DomainError):
    """The order cannot be placed as it is."""


class InvalidOrderTransition(DomainError):
    """The transition table does not allow moving an order from ``source`` to ``target``."""

    def __init__(self, source: OrderState, target: OrderState) -> None:
        super().__init__(source, target)
        self.source = source
        self.target = target

    def __str__(self) -> str:
        return f"an order cannot move from {self.source.value} to {self.target.value}"


_S = OrderState

ALLOWED_TRANSITIONS: Mapping[OrderState, frozenset[OrderState]] = MappingProxyType({
    _S.PENDING: frozenset({_S.CONFIRMED, _S.CANCELLED}),
    # Not PENDING again: a confirmed order is changed by cancelling it and placing another.
    _S.CONFIRMED: frozenset({_S.COMPLETED, _S.CANCELLED}),
    # Final states: a completed order is not cancelled (that is a refund, outside the bot).
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
})


def place_order(items: Iterable[OrderItem], *, name: str, address: str, currency: str) -> Order:
    """A PENDING order of the items, its total computed; InvalidOrder for an impossible one."""
    lines = tuple(items)
    if not lines:
        raise InvalidOrder("an order needs at least one item")
    for line in lines:
        if line.quantity < 1 or line.unit_price < 0:
            raise InvalidOrder(f"{line.name!r}: quantity {line.quantity}, price {line.unit_price}")
    total = sum(line.subtotal for line in lines)
    return Order(items=lines, total=total, currency=currency, name=name, address=address)


def can_transition(source: OrderState, target: OrderState) -> bool:
    """True when the table allows moving an order from source to target."""
    return target in ALLOWED_TRANSITIONS.get(source, frozenset())


def transition(order: Order, target: OrderState) -> Order:
    """The order in the target state; raises InvalidOrderTransition unless the table allows it."""
    if not can_transition(order.state, target):
        raise InvalidOrderTransition(order.state, target)
    return msgspec.structs.replace(order, state=target)


def confirm(order: Order) -> Order:
    """The business accepted the order."""
    return transition(order, OrderState.CONFIRMED)


def complete(order: Order) -> Order:
    """The order was delivered."""
    return transition(order, OrderState.COMPLETED)


def cancel(order: Order) -> Order:
    """The order will not be fulfilled."""
    return transition(order, OrderState.CANCELLED)

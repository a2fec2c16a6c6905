"""The order state machine: placed PENDING, then CONFIRMED and COMPLETED, or CANCELLED."""

from __future__ import annotations

import pytest

from domain.errors import DomainError
from domain.orders import (
    ALLOWED_TRANSITIONS,
    InvalidOrder,
    InvalidOrderTransition,
    Order,
    OrderItem,
    OrderState,
    cancel,
    complete,
    confirm,
    place_order,
    transition,
)

KOPI = OrderItem(product_id="kopi", name="Kopi Susu", unit_price=25_000, quantity=2)
ROTI = OrderItem(product_id="roti", name="Roti Bakar", unit_price=15_000, quantity=1)


def placed() -> Order:
    return place_order([KOPI, ROTI], name="Ana", address="Jl. Mawar 1", currency="IDR")


def test_an_order_is_placed_pending_with_its_total() -> None:
    order = placed()

    assert order.state is OrderState.PENDING
    assert order.total == 65_000
    assert order.items == (KOPI, ROTI)
    assert KOPI.subtotal == 50_000


@pytest.mark.parametrize(
    "items", [[], [OrderItem(product_id="x", name="X", unit_price=1, quantity=0)],
              [OrderItem(product_id="x", name="X", unit_price=-1, quantity=1)]]
)
def test_an_impossible_order_is_not_placed(items: list[OrderItem]) -> None:
    with pytest.raises(InvalidOrder):
        place_order(items, name="Ana", address="", currency="IDR")


def test_the_happy_path_confirms_then_completes() -> None:
    assert complete(confirm(placed())).state is OrderState.COMPLETED


@pytest.mark.parametrize("start", [OrderState.PENDING, OrderState.CONFIRMED])
def test_an_open_order_can_be_cancelled(start: OrderState) -> None:
    order = transition(placed(), OrderState.CONFIRMED) if start is OrderState.CONFIRMED else placed()

    assert cancel(order).state is OrderState.CANCELLED


@pytest.mark.parametrize("source", list(OrderState))
@pytest.mark.parametrize("target", list(OrderState))
def test_every_move_outside_the_table_is_a_domain_error(source: OrderState, target: OrderState) -> None:
    order = Order(items=(KOPI,), total=50_000, currency="IDR", name="Ana", address="", state=source)
    if target in ALLOWED_TRANSITIONS[source]:
        assert transition(order, target).state is target
        return
    with pytest.raises(InvalidOrderTransition) as raised:
        transition(order, target)
    assert isinstance(raised.value, DomainError)
    assert str(raised.value) == f"an order cannot move from {source.value} to {target.value}"


def test_completed_and_cancelled_orders_are_final() -> None:
    assert ALLOWED_TRANSITIONS[OrderState.COMPLETED] == frozenset()
    assert ALLOWED_TRANSITIONS[OrderState.CANCELLED] == frozenset()

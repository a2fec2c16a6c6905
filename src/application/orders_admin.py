"""Operators moving orders along: PENDING → CONFIRMED → COMPLETED, or CANCELLED (domain/orders)."""

from __future__ import annotations

from collections.abc import Callable

from application.ports.coordination import Clock
from application.ports.storage import OrderBook, OrderRecord
from domain.orders import cancel, complete, confirm

_MOVES = {"confirm": confirm, "complete": complete, "cancel": cancel}


class OrderNotFound(Exception):
    """No order has that number."""


class OrderChanged(Exception):
    """The order moved meanwhile; read it again."""


class MoveOrder:
    """Apply one of the order state machine's moves to a stored order."""

    def __init__(self, *, orders: OrderBook, clock: Clock, on_change: Callable[[], None] = lambda: None) -> None:
        self._orders = orders
        self._clock = clock
        self._on_change = on_change

    async def __call__(self, number: str, move: str) -> OrderRecord:
        """The order after ``move`` (confirm, complete, cancel); the domain refuses a wrong one."""
        stored = await self._orders.get(number)
        if stored is None:
            raise OrderNotFound(f"no order has number {number!r}")
        moved = _MOVES[move](stored.order)  # InvalidOrderTransition names both states
        if not await self._orders.replace(number, stored.order, moved, self._clock.now()):
            raise OrderChanged(f"order {number} changed meanwhile; read it again")
        self._on_change()  # a cancelled order gives its stock back
        return OrderRecord(number=number, contact_key=stored.contact_key, order=moved,
                           created_at=stored.created_at, updated_at=self._clock.now())


MOVES = tuple(_MOVES)

"""The admin API (``/api/v1``): leads, releasing conversations, re-queueing dead sends."""

from __future__ import annotations

import datetime as dt
import hmac
import time
from typing import Annotated
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, QueryParameter

from adapters.sql.orders import SqlOrderBook
from application.operators import ConversationNotFound, ReleaseConversation
from application.orders_admin import MOVES, MoveOrder, OrderChanged, OrderNotFound
from adapters.sql.leads import SqlLeadQuery
from adapters.sql.outbox import SqlOutbox
from application.ports.storage import LeadRecord, OrderRecord, OutboxRecord, StaleConversation
from domain.lead_form import FIELDS
from domain.leads import LeadState
from domain.orders import InvalidOrderTransition, OrderState

MAX_PAGE = 500


class LeadContact(msgspec.Struct, frozen=True, kw_only=True):
    """Who the lead is."""

    key: str
    channel: str
    phone: str | None
    name: str | None


class LeadOut(msgspec.Struct, frozen=True, kw_only=True):
    """A lead as integrators read it."""

    id: int
    contact: LeadContact
    state: str
    fields: dict[str, str | int | None]
    created_at: str
    updated_at: str


class LeadPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of leads and the URL of the next one."""

    items: list[LeadOut]
    next: str | None


class OutboxItemOut(msgspec.Struct, frozen=True, kw_only=True):
    """An outbound message or job and how far it got."""

    id: int
    kind: str
    contact: str
    channel: str
    provider: str
    status: str
    delivery: str | None
    attempts: int
    provider_message_id: str | None
    error: str | None
    created_at: str
    updated_at: str


OUTBOX_STATUSES = ("pending", "sending", "sent", "dead")


class Released(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation handed back to the bot."""

    contact_key: str
    released: bool = True


def bearer_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Only requests carrying ``Authorization: Bearer <ADMIN_TOKEN>`` pass."""
    expected = connection.app.state.admin_token
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise NotAuthorizedException("the Authorization header must be 'Bearer <admin token>'")


class AdminController(Controller):
    """Operators' and integrators' resources."""

    path = "/api/v1"
    guards = [bearer_guard]

    @get("/leads")
    async def list_leads(
        self,
        request: Request,
        leads: NamedDependency[SqlLeadQuery],
        lead_state: Annotated[str | None, QueryParameter(name="state")] = None,
        since: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[int | None, QueryParameter(ge=0)] = None,
    ) -> LeadPage:
        """Leads, oldest first, filtered by ``state`` and ``since`` (ISO 8601), paged by ``cursor``."""
        records = await leads.list(
            state=_lead_state(lead_state), since=_since(since), after_id=cursor, limit=limit + 1
        )
        page = records[:limit]
        more = len(records) > limit
        next_url = _with_cursor(request, page[-1].id) if more else None
        return LeadPage(items=[_lead_out(r) for r in page], next=next_url)

    @get("/leads/{lead_id:int}")
    async def get_lead(self, lead_id: FromPath[int], leads: NamedDependency[SqlLeadQuery]) -> LeadOut:
        """One lead."""
        record = await leads.get(lead_id)
        if record is None:
            raise NotFoundException(f"no lead has id {lead_id}")
        return _lead_out(record)

    @post("/leads/{lead_id:int}/release", status_code=200)
    async def release_lead(
        self, lead_id: FromPath[int], leads: NamedDependency[SqlLeadQuery], release: NamedDependency[ReleaseConversation]
    ) -> Released:
        """Hand the lead's conversation back to the bot."""
        record = await leads.get(lead_id)
        if record is None:
            raise NotFoundException(f"no lead has id {lead_id}")
        return await _release(release, record.contact_key)

    @post("/conversations/{contact_key:str}/release", status_code=200)
    async def release_conversation(
        self, contact_key: FromPath[str], release: NamedDependency[ReleaseConversation]
    ) -> Released:
        """Hand a conversation back to the bot, by contact key (``whatsapp:+62…``)."""
        return await _release(release, contact_key)

    @get("/orders")
    async def list_orders(
        self,
        orders: NamedDependency[SqlOrderBook],
        order_state: Annotated[str | None, QueryParameter(name="state")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
    ) -> list[OrderRecord]:
        """Orders placed through a shop pack, newest first."""
        if order_state is not None and order_state.upper() not in {s.value for s in OrderState}:
            known = ", ".join(s.value for s in OrderState)
            raise ValidationException(f"state must be one of {known}, got {order_state!r}")
        return await orders.list(state=order_state.upper() if order_state else None, limit=limit)

    @post("/orders/{number:str}/{move:str}", status_code=200)
    async def move_order(self, number: FromPath[str], move: FromPath[str],
                         move_order: NamedDependency[MoveOrder]) -> OrderRecord:
        """Confirm, complete or cancel an order (as its state machine allows)."""
        if move not in MOVES:
            raise ValidationException(f"move must be one of {', '.join(MOVES)}, got {move!r}")
        try:
            return await move_order(number, move)
        except OrderNotFound as exc:
            raise NotFoundException(str(exc)) from exc
        except (InvalidOrderTransition, OrderChanged) as exc:
            raise ClientException(str(exc), status_code=409) from exc

    @get("/outbox")
    async def list_outbox(
        self,
        outbox: NamedDependency[SqlOutbox],
        job_status: Annotated[str | None, QueryParameter(name="status")] = None,
        contact: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
    ) -> list[OutboxItemOut]:
        """Outbound messages and jobs, newest first: ``status=dead`` lists the dead letters."""
        if job_status is not None and job_status not in OUTBOX_STATUSES:
            raise ValidationException(f"status must be one of {', '.join(OUTBOX_STATUSES)}, got {job_status!r}")
        records = await outbox.list_items(status=job_status, lane=contact, limit=limit)
        return [_outbox_out(r) for r in records]

    @post("/outbox/{item_id:int}/requeue", status_code=200)
    async def requeue(self, item_id: FromPath[int], outbox: NamedDependency[SqlOutbox]) -> dict[str, int]:
        """Send a dead-lettered message again."""
        if not await outbox.requeue(item_id, time.time()):
            raise NotFoundException(f"no dead-lettered outbox item has id {item_id}")
        return {"requeued": item_id}


async def _release(release: ReleaseConversation, contact_key: str) -> Released:
    try:
        await release(contact_key)
    except ConversationNotFound as exc:
        raise NotFoundException(f"no conversation for contact {contact_key}") from exc
    except StaleConversation as exc:
        raise ClientException(str(exc), status_code=409) from exc
    return Released(contact_key=contact_key)


def _with_cursor(request: Request, cursor: int) -> str:
    query = {key: value for key, value in request.query_params.items() if key != "cursor"}
    return str(request.url.with_replacements(query=urlencode({**query, "cursor": cursor})))


def _lead_state(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return LeadState(value.upper()).value
    except ValueError as exc:
        known = ", ".join(s.value for s in LeadState)
        raise ValidationException(f"state must be one of {known}, got {value!r}") from exc


def _since(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationException(f"since must be an ISO 8601 date or time, got {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def _outbox_out(record: OutboxRecord) -> OutboxItemOut:
    return OutboxItemOut(
        id=record.id, kind=record.kind, contact=record.lane, channel=record.channel, provider=record.provider,
        status=record.status, delivery=record.delivery, attempts=record.attempts,
        provider_message_id=record.provider_message_id, error=record.error,
        created_at=_iso(record.created_at), updated_at=_iso(record.updated_at),
    )


def _lead_out(record: LeadRecord) -> LeadOut:
    fields: dict[str, str | int | None] = {name: record.fields.get(name) for name in FIELDS}
    if record.budget_amount is not None:
        fields["budget_amount"] = record.budget_amount
    return LeadOut(
        id=record.id,
        contact=LeadContact(key=record.contact_key, channel=record.channel, phone=record.phone, name=record.name),
        state=record.state,
        fields=fields,
        created_at=_iso(record.created_at),
        updated_at=_iso(record.updated_at),
    )

"""The Litestar application: routes, dependencies from the container, errors, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig

from entrypoints.container import Container, freeze_startup_heap, resolve
from entrypoints.http import admin, flows, ops, sandbox, webhooks
from entrypoints.settings import Settings

log = logging.getLogger("chatgate.http")


def create_app(container: Container, *, admin_token: str, run_worker: bool) -> Litestar:
    """The HTTP app over a built (not yet started) container."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await container.init_resources()
        worker = await resolve(container.core.worker)
        app.state.telemetry = await resolve(container.core.telemetry)
        freeze_startup_heap()
        task = asyncio.create_task(worker.run()) if run_worker else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # The last webhooks' ids reach Redis before its client closes (bounded: they are
            # only the early de-duplication; the database keeps the last word).
            accept = await resolve(container.core.handle_inbound)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(accept.settle(), 2.0)
            await container.shutdown_resources()

    return Litestar(
        route_handlers=[
            *_webhook_routes(container.settings()), *ops.ROUTES, *sandbox.ROUTES,
            admin.AdminController, flows.FlowsController,
        ],
        dependencies=_dependencies(container),
        lifespan=[lifespan],
        state=State({"admin_token": admin_token}),
        exception_handlers={ValidationException: _validation_error, Exception: _unexpected_error},
        openapi_config=OpenAPIConfig(title="Chatgate", version="0.1.0", path="/schema"),
        debug=False,
    )


def _webhook_routes(settings: Settings) -> list:
    return [
        *webhooks.meta_routes(settings.meta),
        *webhooks.twilio_routes(settings),
        *webhooks.waha_routes(settings.waha),
        *webhooks.telegram_routes(settings.telegram),
    ]


def _dependencies(container: Container) -> dict[str, Provide]:
    core, storage = container.core, container.storage
    picks = {
        "handle_inbound": core.handle_inbound,
        "release": core.release,
        "flows": core.flows,
        "move_order": core.move_order,
        "orders": storage.orders,
        "telemetry": core.telemetry,
        "redis": core.redis_probe,
        "database": storage.database,
        "outbox": storage.outbox,
        "leads": storage.leads,
        "transcripts": storage.transcripts,
    }
    return {name: Provide(_from(provider), use_cache=True) for name, provider in picks.items()}


def _from(provider):  # type: ignore[no-untyped-def]
    async def dependency():  # type: ignore[no-untyped-def]
        return await resolve(provider)

    return dependency


def _count_refused_webhook(request: Request, status: int) -> None:
    # A webhook refused for its signature or its shape counts as "rejected" in the metrics.
    parts = request.url.path.strip("/").split("/")
    telemetry = getattr(request.app.state, "telemetry", None)
    if len(parts) >= 2 and parts[0] == "webhooks" and status in (400, 401, 403) and telemetry is not None:
        provider = parts[1]
        telemetry.inbound("telegram" if provider == "telegram" else "whatsapp", provider, "rejected")


def _validation_error(_: Request, exc: ValidationException) -> Response[dict[str, object]]:
    # Name the offending fields in the sentence itself, not only in "extra".
    detail = exc.detail
    fields = [item.get("key") for item in exc.extra or [] if isinstance(item, dict) and item.get("key")]
    if fields:
        messages = "; ".join(f"{item.get('key')}: {item.get('message')}" for item in exc.extra if isinstance(item, dict))
        detail = f"invalid {', '.join(fields)} ({messages})"
    return Response({"status_code": 400, "detail": detail}, status_code=400)


def _unexpected_error(request: Request, exc: Exception) -> Response[dict[str, object]]:
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        _count_refused_webhook(request, exc.status_code)
        body: dict[str, object] = {"status_code": exc.status_code, "detail": exc.detail}
        if exc.extra:
            body["extra"] = exc.extra
        return Response(body, status_code=exc.status_code, headers=exc.headers)
    cause = exc.__cause__ or exc
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=cause)
    return Response({"status_code": 500, "detail": "internal error; it was logged"}, status_code=500)

"""For orchestrators and Prometheus: liveness, readiness, metrics."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from adapters.metrics.prometheus import PrometheusTelemetry
from adapters.redis.client import RedisProbe
from adapters.sql.database import Database
from adapters.sql.outbox import SqlOutbox


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@get("/ready")
async def ready(database: NamedDependency[Database], redis: NamedDependency[RedisProbe]) -> Response[dict[str, str]]:
    """The database answers; Redis, when configured, is reported (its outage only degrades)."""
    body = {"status": "ready", "database": "ok"}
    try:
        await database.read(lambda conn: conn.execute(text("SELECT 1")).scalar_one())
    except Exception as exc:  # any failure means "not ready", never a 500
        return Response({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    if redis.configured:
        # The gateway keeps working on the database's guarantees while Redis is down, so an
        # outage is reported, not a reason to take the instance out of rotation.
        body["redis"] = "ok" if await redis.ping() else "degraded"
    return Response(body)


@get("/metrics", media_type=CONTENT_TYPE_LATEST)
async def metrics(telemetry: NamedDependency[PrometheusTelemetry], outbox: NamedDependency[SqlOutbox]) -> bytes:
    """Prometheus text exposition."""
    telemetry.outbox_pending.set(await outbox.pending_count())
    return telemetry.exposition()


ROUTES = [health, ready, metrics]

"""The Redis client of the coordination adapters: fails fast, never hangs.

Short socket and connect timeouts and one immediate reconnect (a pooled connection may be
stale after a restart), never a backoff: an outage must show up in well under a second, so
that ``resilient`` can fall back while the message is still being handled. redis-py's default
(ten retries with a backoff) would hold each call for seconds. Commands issued while one is on
its way go together as one pipeline (``GroupedCommands``): a round trip costs the same CPU
whatever it carries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Connection, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)


class SendInCallersTask(Connection):
    """redis-py's TCP connection, each command's send bounded inside the caller's own task.

    With ``socket_timeout`` set, redis-py bounds every send with ``asyncio.wait_for``, which on
    Python 3.11 runs the send as a Task of its own: one more trip round the event loop before a
    command's bytes leave. ``asyncio.timeout`` bounds the same send without one (webhook p99 at
    600 msgs/s: 37–42 → 25–38 ms, bench/README.md). Reads are bounded as before.
    """

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        bound, self.socket_timeout = self.socket_timeout, None  # one command at a time per connection
        try:
            async with asyncio.timeout(bound):
                await super().send_packed_command(command, check_health)
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        finally:
            self.socket_timeout = bound


class GroupedCommands(Redis):
    """A redis-py client whose commands, while one is on its way, wait and go together.

    The first command goes at once, in the caller's task, as redis-py sends it. Commands issued
    while it (or a group) is on its way are queued and sent as ONE pipeline when it is back —
    the group commit of ``adapters.sql.group_commit``, for Redis. A turn's fifty lock takes and
    fifty releases cost two round trips each instead of fifty writes, and an idle gateway adds
    no wait to any command. Each caller gets its own command's answer or error (a pipeline's
    failure is each of its callers'). Only for plain commands: ``pipeline()`` and pub/sub keep
    redis-py's own path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._busy = False
        self._queued: list[tuple[tuple[Any, ...], dict[str, Any], asyncio.Future[Any]]] = []
        self._groups: set[asyncio.Task[None]] = set()

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if self._busy:
            answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._queued.append((args, options, answer))
            return await answer
        self._busy = True
        try:
            return await super().execute_command(*args, **options)
        finally:
            self._next_group()

    def _next_group(self) -> None:
        # Called by whoever just finished talking to Redis: the queue goes next, or nobody.
        if not self._queued:
            self._busy = False
            return
        group, self._queued = self._queued, []
        task = asyncio.get_running_loop().create_task(self._send_group(group))
        self._groups.add(task)  # held until it ends: the loop keeps only weak references
        task.add_done_callback(self._groups.discard)

    async def _send_group(self, group: list[tuple[tuple[Any, ...], dict[str, Any], asyncio.Future[Any]]]) -> None:
        try:
            pipe = self.pipeline(transaction=False)
            for args, options, _ in group:
                pipe.execute_command(*args, **options)
            results = await pipe.execute(raise_on_error=False)  # a command's error is its own
        except BaseException as exc:  # every caller sees what went wrong, cancellation included
            for _, _, answer in group:
                if not answer.done():
                    answer.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            if not isinstance(exc, Exception):
                raise
        else:
            for (_, _, answer), result in zip(group, results, strict=True):
                if answer.done():  # a caller that gave up (cancelled) wants nothing
                    continue
                if isinstance(result, Exception):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)
        finally:
            self._next_group()

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        """Let the groups on their way finish, then close as redis-py does."""
        while self._groups:
            await asyncio.gather(*self._groups, return_exceptions=True)
        await super().aclose(close_connection_pool)


def redis_client(url: str, *, timeout: float = 0.5, health_check_interval: float = 15.0) -> Redis:
    """A pooled client for ``url``; no I/O until the first command."""
    return GroupedCommands.from_url(
        url,
        connection_class=SendInCallersTask,  # redis:// only: rediss:// and unix:// keep their own
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=health_check_interval,
        # Timeouts are never retried (redis-py 6 deprecated ``retry_on_timeout=False`` for
        # exactly this: the Retry's errors decide); a refused or reset connection once.
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )


@asynccontextmanager
async def open_redis(url: str, **options: float) -> AsyncIterator[Redis]:
    """The client for the block, its pool closed after."""
    client = redis_client(url, **options)
    try:
        yield client
    finally:
        await close_redis(client)


async def close_redis(client: Redis) -> None:
    """Close the client's pool; a server already gone is no error at shutdown."""
    try:
        await client.aclose()
    except (RedisError, OSError) as exc:
        log.debug("closing the Redis client: %s", exc)


async def ping(client: Redis, timeout: float = 1.0) -> bool:
    """True when Redis answers a PING in time (for ``/ready``)."""
    try:
        return bool(await asyncio.wait_for(client.ping(), timeout))
    except (RedisError, OSError, asyncio.TimeoutError):
        return False


class RedisProbe:
    """For ``/ready``: whether Redis is configured, and whether it answers."""

    def __init__(self, client: Redis | None) -> None:
        self._client = client

    @property
    def configured(self) -> bool:
        """Whether REDIS_URL is set."""
        return self._client is not None

    async def ping(self) -> bool:
        """True when Redis answered a PING in time."""
        return self._client is not None and await ping(self._client)

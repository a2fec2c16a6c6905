"""Shared by every test: the support modules on sys.path, the real servers, unique messages.

- ``tests/support`` (provider stand-ins, payload builders) and ``tests/unit`` (``fakes``) are
  importable by module name.
- ``sqlite_url`` is a migrated SQLite file of the test's own; ``postgres_url`` and
  ``redis_url`` are the servers at ``CHATGATE_TEST_DATABASE_URL`` and
  ``CHATGATE_TEST_REDIS_URL``. An unreachable server skips the test with the reason, except
  under ``CI=true``, where it fails it.
- The PostgreSQL database is shared by every test (and every engineer's run): use unique ids
  (``new_contact``, ``make_inbound``) and never truncate its tables.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import sys
import uuid
from collections.abc import Iterator, Callable
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS / "support"))
sys.path.append(str(TESTS / "unit"))  # after src/, so that tests/unit/domain shadows nothing

from adapters.sql.migrate import upgrade  # noqa: E402
from domain.contacts import ContactId  # noqa: E402
from domain.messages import Channel, InboundMessage  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
NOW = 1_770_000_000.0


# --- Servers -------------------------------------------------------------------------------


def unavailable(reason: str) -> None:
    """Skip the test with the reason; under CI=true, fail it: CI must never skip a server."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: an unreachable server is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def asyncpg_url(url: str) -> str:
    """The URL with SQLAlchemy's asyncpg driver (``postgresql+asyncpg://…``)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+asyncpg://{rest}" if scheme in ("postgres", "postgresql") else url


def _reachable(host: str, port: int, timeout: float = 2.0) -> str | None:
    """None when a TCP connection to host:port opens, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host}:{port}: {exc}"


def _in_a_thread(function: Callable[..., Any], *args: Any) -> Any:
    # Alembic runs its own event loop; keep it away from the thread pytest-asyncio uses.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test session's own (asyncpg form), migrated to the newest
    schema, on the server at CHATGATE_TEST_DATABASE_URL; dropped at the end. Never the shared
    database itself: what an earlier run (or another checkout) left there must not matter."""
    from sqlalchemy.engine import make_url

    url = asyncpg_url(os.environ.get("CHATGATE_TEST_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)
    parsed = make_url(url)
    problem = _reachable(parsed.host or "127.0.0.1", parsed.port or 5432)
    if problem:
        unavailable(f"PostgreSQL at CHATGATE_TEST_DATABASE_URL is unreachable ({problem})")
    name = f"chatgate_test_{uuid.uuid4().hex[:12]}"
    _in_a_thread(_run, _admin(url, f'CREATE DATABASE "{name}"'))
    own = parsed.set(database=name).render_as_string(hide_password=False)
    try:
        _in_a_thread(upgrade, own)
        yield own
    finally:
        _in_a_thread(_run, _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _admin(url: str, statement: str) -> Callable[[], Any]:
    async def run() -> None:
        import asyncpg

        parsed = make_url_plain(url)
        conn = await asyncpg.connect(parsed)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    return run


def make_url_plain(url: str) -> str:
    """The URL as asyncpg itself takes it (no SQLAlchemy driver name)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _run(coroutine_function: Callable[[], Any]) -> None:
    asyncio.run(coroutine_function())


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server at CHATGATE_TEST_REDIS_URL, checked with a PING."""
    import redis

    url = os.environ.get("CHATGATE_TEST_REDIS_URL", "").strip() or DEFAULT_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        unavailable(f"Redis at CHATGATE_TEST_REDIS_URL is unreachable ({exc})")
    finally:
        client.close()
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file for this test, migrated to the newest schema."""
    url = f"sqlite+aiosqlite:///{tmp_path}/chatgate.db"
    _in_a_thread(upgrade, url)
    return url


# --- Unique messages -----------------------------------------------------------------------


def unique_contact(channel: str = "whatsapp") -> ContactId:
    """A contact no other test uses: a random Indonesian mobile number, or a random id."""
    digits = uuid.uuid4().int % 10**10
    if channel == "whatsapp":
        return ContactId(channel="whatsapp", value=f"+628{digits:010d}")
    if channel == "telegram":
        return ContactId(channel="telegram", value=f"tg:{digits + 1}")
    return ContactId(channel=channel, value=f"{channel}:{uuid.uuid4().hex}")


def build_inbound(
    text: str = "halo",
    *,
    contact: ContactId | None = None,
    provider: str = "meta",
    message_id: str | None = None,
    received_at: float = NOW,
    **fields: Any,
) -> InboundMessage:
    """An inbound message with a provider id no other test uses (unless one is given)."""
    contact = contact or unique_contact()
    channel = Channel(contact.channel)
    address = contact.phone[1:] if contact.phone else contact.value
    return InboundMessage(
        channel=channel,
        provider=provider,
        provider_message_id=message_id or f"wamid.{uuid.uuid4().hex}",
        contact=contact,
        reply_address=fields.pop("reply_address", address),
        received_at=received_at,
        text=text,
        **fields,
    )


@pytest.fixture
def new_contact() -> Callable[..., ContactId]:
    """``new_contact(channel="whatsapp")``: a contact no other test uses."""
    return unique_contact


@pytest.fixture
def make_inbound() -> Callable[..., InboundMessage]:
    """``make_inbound(text, contact=…, provider=…, message_id=…, **fields)``: a unique message."""
    return build_inbound


def fresh_id(prefix: str = "id") -> str:
    """A string no other test uses, for lanes, keys and provider ids."""
    return f"{prefix}-{uuid.uuid4().hex}"

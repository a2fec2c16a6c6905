"""A Chatgate cluster on loopback, for the scale-out tests (tests/e2e/test_scale_out.py).

- ``fresh_database``: a PostgreSQL database of the run's own (``chatgate_scale_<hex>``), created
  on the server at ``postgres_url`` and dropped at the end.
- ``RedisServer``: a ``redis-server`` of our own on a free port, that a test may stop and start.
- ``Processes``: ``chatgate serve`` / ``worker`` / ``migrate`` as real processes, their output in
  files; every process is ended by its pid (SIGTERM, then SIGKILL).
- ``FakeGraph``: the Graph API's ``POST /{phone_number_id}/messages``, recording every send, and
  behaving like Meta: shortly after it accepts a send it posts a signed ``statuses[]`` webhook
  (``sent``, with the send's ``biz_opaque_callback_data``) to one of the serve instances.
- ``plan_traffic`` / ``Load``: signed text webhooks from many contacts on a timeline, with bursts
  and re-deliveries, posted with bounded concurrency and retried as Meta retries.
- ``wait_drained`` and ``check_guarantees``: the end state, read from the fake Graph API, the
  admin API and the database; ``check_guarantees`` returns every broken guarantee it finds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

import meta_webhooks

CHATGATE = str(Path(sys.executable).with_name("chatgate"))
APP_SECRET = "scale-app-secret"
ACCESS_TOKEN = "scale-access-token"
ADMIN_TOKEN = "scale-admin-token"
GRAPH_PATH = f"/{meta_webhooks.PHONE_NUMBER_ID}/messages"


def unavailable(reason: str) -> None:
    """Skip with the reason; under CI=true fail instead (CI never skips a server)."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: an unavailable server is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    """The end of a log file, for failure messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


# --- PostgreSQL ----------------------------------------------------------------------------


def _plain_dsn(url: str) -> str:
    """An SQLAlchemy URL (``postgresql+asyncpg://…``) as asyncpg's ``postgresql://…``."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def fresh_database(postgres_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server at ``postgres_url``; yields its asyncpg URL; dropped after."""
    name = f"chatgate_scale_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(_plain_dsn(postgres_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_plain_dsn(postgres_url))
        try:
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except asyncpg.PostgresSyntaxError:  # before PostgreSQL 13: end its sessions first
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await admin.close()


# Test instrumentation in the run's own database: a message is consumed by one turn, once.
# Only a turn's save moves a message on from "pending" (adapters/sql/conversations.py), so an
# update of a message that is no longer pending is a second turn over it: a second answer.
_CONSUMPTION_AUDIT = """
CREATE TABLE scale_test_consumed_again (inbound_id BIGINT NOT NULL, was TEXT NOT NULL, now TEXT NOT NULL);
CREATE FUNCTION scale_test_consumed_again() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' THEN
        INSERT INTO scale_test_consumed_again VALUES (OLD.id, OLD.status, NEW.status);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER scale_test_consumed_again BEFORE UPDATE ON inbound_messages
    FOR EACH ROW EXECUTE FUNCTION scale_test_consumed_again();
"""


async def install_consumption_audit(database_url: str) -> None:
    """Record every message a turn consumes although it was consumed already (migrated db)."""
    conn = await asyncpg.connect(_plain_dsn(database_url))
    try:
        await conn.execute(_CONSUMPTION_AUDIT)
    finally:
        await conn.close()


async def query(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Rows of one query on the run's database."""
    conn = await asyncpg.connect(_plain_dsn(database_url))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


# --- Processes -----------------------------------------------------------------------------


@dataclass
class Proc:
    """One process this run started."""

    name: str
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path
    returncode_expected: int | None = None
    """Set before a test ends the process on purpose (say, -9 for SIGKILL)."""

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def logs(self, lines: int = 40) -> str:
        return f"--- {self.name} (pid {self.pid}) stderr:\n{tail(self.err, lines)}\n" \
               f"--- {self.name} stdout:\n{tail(self.out, 10)}"


class Processes:
    """The processes a test started; ``stop_all`` ends each by its pid."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.procs: list[Proc] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Proc:
        out, err = self.logdir / f"{name}.out", self.logdir / f"{name}.err"
        with out.open("ab") as stdout, err.open("ab") as stderr:
            # In the test's process group: a Ctrl-C of the run reaches them too.
            popen = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        proc = Proc(name, popen, out, err)
        self.procs.append(proc)
        return proc

    def kill(self, proc: Proc, sig: int = signal.SIGKILL) -> None:
        """Signal one of our processes by its pid."""
        if proc.alive:
            os.kill(proc.pid, sig)

    async def stop(self, proc: Proc, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; waits for it to end."""
        if proc.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.popen.wait, grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(proc.popen.wait)

    async def stop_all(self) -> None:
        """End every process still running, all at once but each by its own pid."""
        await asyncio.gather(*(self.stop(proc) for proc in self.procs if proc.alive))

    def logs(self) -> str:
        return "\n".join(proc.logs() for proc in self.procs)


async def run_command(cmd: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A short command (``chatgate migrate``) run to its end, off the event loop."""
    return await asyncio.to_thread(subprocess.run, cmd, env=env, capture_output=True, text=True,
                                   timeout=timeout, stdin=subprocess.DEVNULL)


async def wait_http_ready(proc: Proc, port: int, timeout: float = 60.0) -> None:
    """Until ``GET /ready`` on the port answers 200."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if not proc.alive:
                raise AssertionError(f"{proc.name} exited ({proc.popen.returncode}) before it was ready\n"
                                     + proc.logs())
            try:
                async with http.get(f"http://127.0.0.1:{port}/ready",
                                    timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = type(exc).__name__
            await asyncio.sleep(0.1)
    raise AssertionError(f"{proc.name} was not ready within {timeout:.0f} s (last: {last})\n" + proc.logs())


async def wait_output(proc: Proc, text: str, timeout: float = 60.0) -> None:
    """Until the process has printed ``text`` on stdout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proc.out.read_text(errors="replace"):
            return
        if not proc.alive:
            raise AssertionError(f"{proc.name} exited ({proc.popen.returncode}) before saying {text!r}\n"
                                 + proc.logs())
        await asyncio.sleep(0.1)
    raise AssertionError(f"{proc.name} did not say {text!r} within {timeout:.0f} s\n" + proc.logs())


def socket_owners(ports: set[int], pids: Sequence[int]) -> dict[int, int]:
    """Which of the processes ``pids`` holds the loopback TCP socket bound to each local port."""
    inodes: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in itertools.islice(lines, 1, None):
                fields = line.split()
                port = int(fields[1].rsplit(":", 1)[1], 16)
                if port in ports:
                    inodes[fields[9]] = port
    owners: dict[int, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        owners[inodes[link[8:-1]]] = pid
    return owners


# --- Redis ---------------------------------------------------------------------------------


class RedisServer:
    """A ``redis-server`` of the test's own on a loopback port, without persistence."""

    def __init__(self, processes: Processes) -> None:
        self._processes = processes
        self.port = free_port()
        self.proc: Proc | None = None
        self._starts = 0

    @staticmethod
    def executable() -> str | None:
        return shutil.which("redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self, timeout: float = 15.0) -> None:
        """Start it (again, on the same port) and wait for its PING."""
        exe = self.executable()
        assert exe is not None, "redis-server is not on PATH"
        self._starts += 1
        self.proc = self._processes.start(
            f"redis-{self._starts}",
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--protected-mode", "no", "--daemonize", "no"],
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.ping():
                return
            if not self.proc.alive:
                raise AssertionError("redis-server exited at start-up\n" + self.proc.logs())
            await asyncio.sleep(0.05)
        raise AssertionError(f"redis-server did not answer PING within {timeout:.0f} s\n" + self.proc.logs())

    async def stop(self) -> None:
        """SIGTERM, and wait until it is gone (without persistence it keeps nothing)."""
        if self.proc is not None:
            await self._processes.stop(self.proc)

    async def ping(self) -> bool:
        """Whether it answers PING."""
        return (await self._command(b"PING")).startswith(b"+PONG")

    async def dbsize(self) -> int | None:
        """How many keys it holds now (None when it does not answer)."""
        line = await self._command(b"DBSIZE")
        return int(line[1:]) if line.startswith(b":") and line[1:].strip().isdigit() else None

    async def _command(self, command: bytes) -> bytes:
        """One inline command's reply line, or b"" when Redis does not answer."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 1.0)
        except (OSError, TimeoutError):
            return b""
        try:
            writer.write(command + b"\r\n")
            await writer.drain()
            return await asyncio.wait_for(reader.readline(), 1.0)
        except (OSError, TimeoutError):
            return b""
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


# --- The cluster's configuration -----------------------------------------------------------


def cluster_env(*, database_url: str, redis_url: str | None, graph_base: str, **overrides: str) -> dict[str, str]:
    """The environment every process of the cluster shares (``CHATGATE_*`` from here only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGATE_")}
    values = {
        "DATABASE_URL": database_url,
        "WORKER_IN_SERVE": "false",
        "WHATSAPP_PROVIDER": "meta",
        "META_APP_SECRET": APP_SECRET,
        "META_ACCESS_TOKEN": ACCESS_TOKEN,
        "META_VERIFY_TOKEN": "scale-verify-token",
        "META_PHONE_NUMBER_ID": meta_webhooks.PHONE_NUMBER_ID,
        "META_API_BASE": graph_base,
        "BOT": "franchise_leads",
        "COOLDOWN_MS": "300",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "SEND_RATE_PER_SECOND": "100000",
        "WORKER_CLAIM_LEASE_SECONDS": "3",
        "ADMIN_TOKEN": ADMIN_TOKEN,
        **overrides,
    }
    if redis_url is not None:
        values["REDIS_URL"] = redis_url
    env.update({f"CHATGATE_{key}": value for key, value in values.items()})
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    return env


# --- The fake Graph API --------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """One ``POST /{phone_number_id}/messages`` as the Graph API received it."""

    to: str
    text: str
    tracker: str | None
    wamid: str
    at: float  # time.monotonic() at arrival
    peer_port: int = 0  # the sender's local port: which process sent it (``socket_owners``)

    @property
    def outbox_id(self) -> int | None:
        if self.tracker and self.tracker.startswith("chatgate:") and self.tracker[9:].isdigit():
            return int(self.tracker[9:])
        return None


def status_webhook(wamid: str, recipient: str, tracker: str | None, state: str = "sent") -> bytes:
    """Meta's ``statuses[]`` notification for one of our sends, echoing its tracker."""
    status: dict[str, Any] = {"id": wamid, "status": state, "timestamp": str(int(time.time())),
                              "recipient_id": recipient}
    if tracker is not None:
        status["biz_opaque_callback_data"] = tracker
    body = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": meta_webhooks.PHONE_NUMBER_ID},
            "statuses": [status]}}]}]}
    return json.dumps(body).encode()


class FakeGraph:
    """The Graph API's send endpoint on loopback, with Meta's status webhooks after each send.

    ``hold()`` keeps every answer back (the send is recorded and accepted all the same) until
    ``release()``: a worker killed meanwhile has sends that arrived but whose answers it never
    read. Their ``sent`` status webhooks still go out, as Meta's would.
    """

    def __init__(self, *, status_delay: tuple[float, float] = (0.05, 0.2),
                 latency: tuple[float, float] = (0.0, 0.01), seed: int = 0) -> None:
        self.sends: list[Send] = []
        self.other: list[str] = []  # requests to anything else, or with a bad token
        self.webhook_urls: list[str] = []
        self.status_results: Counter[str] = Counter()
        self._status_delay = status_delay
        self._latency = latency
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)
        self._released = asyncio.Event()
        self._released.set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeGraph:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._http = aiohttp.ClientSession()
        return self

    async def close(self) -> None:
        self._released.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    @property
    def statuses_in_flight(self) -> int:
        return len(self._tasks)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.method != "POST" or request.path != GRAPH_PATH or \
                request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            self.other.append(f"{request.method} {request.path}")
            return web.json_response({"error": {"message": "unexpected", "code": 100}}, status=400)
        payload = json.loads(body)
        to = payload.get("to") or payload.get("recipient") or ""
        interactive = payload.get("interactive") or {}
        text = (payload.get("text") or {}).get("body") or (interactive.get("body") or {}).get("text") or ""
        wamid = f"wamid.GRAPH{next(self._ids)}="
        peer = request.transport.get_extra_info("peername") if request.transport else None
        send = Send(to=to, text=text, tracker=payload.get("biz_opaque_callback_data"), wamid=wamid,
                    at=time.monotonic(), peer_port=peer[1] if peer else 0)
        self.sends.append(send)
        # Meta accepted it: its status webhook goes out whatever becomes of this answer.
        task = asyncio.get_running_loop().create_task(self._report(send))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await self._released.wait()
        low, high = self._latency
        if high:
            await asyncio.sleep(self._rng.uniform(low, high))
        return web.json_response({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                                  "messages": [{"id": wamid}]})

    async def _report(self, send: Send) -> None:
        await self._released.wait()
        await asyncio.sleep(self._rng.uniform(*self._status_delay))
        body = status_webhook(send.wamid, send.to, send.tracker)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta_webhooks.sign(body, APP_SECRET)}
        assert self._http is not None
        for attempt in range(8):  # Meta retries a status it could not deliver
            url = self._rng.choice(self.webhook_urls)
            try:
                async with self._http.post(url, data=body, headers=headers,
                                           timeout=aiohttp.ClientTimeout(total=10)) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        self.status_results["delivered"] += 1
                        return
                    self.status_results[f"HTTP {response.status}"] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.status_results[type(exc).__name__] += 1
            await asyncio.sleep(0.2 * (attempt + 1))
        self.status_results["given_up"] += 1


# --- Traffic -------------------------------------------------------------------------------

# Every text names the partnership option: whatever a burst merges, the franchise bot answers
# (the menu, the partnership note, or "already received"); "menu" and "restart" go alone and
# are always followed by an option, so no merged turn is an invalid answer and no
# conversation is handed to a person and goes silent.
OPTION_TEXTS = ("2", "dua", "mitra", "partner", "kemitraan", "2 ya", "partnership")
GLOBAL_TEXTS = ("menu", "restart")


@dataclass(frozen=True)
class Post:
    """One webhook to post: ``at`` seconds after the start, to serve instance ``instance``."""

    at: float
    wamid: str
    wa_id: str
    body: bytes
    signature: str
    instance: int
    redelivery: bool


@dataclass
class Traffic:
    posts: list[Post]
    messages: dict[str, str]  # wamid -> wa_id, every distinct message
    by_contact: dict[str, list[str]]  # wa_id -> its wamids in the order sent

    @property
    def span(self) -> float:
        return max(post.at for post in self.posts)


def signed_post(wa_id: str, text: str, wamid: str, at: float, instance: int) -> Post:
    """One Meta text webhook, signed with the cluster's app secret."""
    body = meta_webhooks.text(wa_id, text, wamid=wamid, name=f"Kontak {wa_id[-4:]}")
    return Post(at=at, wamid=wamid, wa_id=wa_id, body=body, signature=meta_webhooks.sign(body, APP_SECRET),
                instance=instance, redelivery=False)


def plan_typing(*, contacts: int, lines: Sequence[str], spacing: float, instances: int) -> Traffic:
    """Each contact types ``lines`` one after another, ``spacing`` seconds apart, each line to
    the next serve instance in turn: bursts that are split over every instance."""
    run = uuid.uuid4().hex[:10].upper()
    base = random.Random(run).randrange(10_000_000)
    posts: list[Post] = []
    by_contact: dict[str, list[str]] = {}
    for c in range(contacts):
        wa_id = f"62813{(base + c) % 10_000_000:07d}"
        start = c * 0.013  # the contacts' bursts overlap, but do not start in lockstep
        for i, text in enumerate(lines):
            made = signed_post(wa_id, text, f"wamid.TYPING{run}{c:04d}{i:02d}=", start + i * spacing,
                               (c + i) % instances)
            posts.append(made)
            by_contact.setdefault(wa_id, []).append(made.wamid)
    posts.sort(key=lambda p: p.at)
    return Traffic(posts=posts, messages={p.wamid: p.wa_id for p in posts}, by_contact=by_contact)


def plan_traffic(*, contacts: int, messages: int, redeliveries: int, instances: int, seed: int,
                 gap: tuple[float, float] = (0.8, 4.0), burst_share: float = 0.3) -> Traffic:
    """Signed text webhooks from ``contacts`` contacts, ``messages`` distinct ones in all.

    Each contact writes in episodes ``gap`` seconds apart: a single message, or a burst of 2-4
    within ~100 ms. ``redeliveries`` more posts repeat a message already planned (same body,
    same wamid), to a random instance, either at once or up to seconds later.
    """
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:10].upper()
    base = rng.randrange(10_000_000)
    wa_ids = [f"62812{(base + i) % 10_000_000:07d}" for i in range(contacts)]
    quota = Counter({wa_id: messages // contacts for wa_id in wa_ids})
    for wa_id in rng.sample(wa_ids, messages % contacts):
        quota[wa_id] += 1
    posts: list[Post] = []
    by_contact: dict[str, list[str]] = {}
    seq = itertools.count()

    def post(wa_id: str, text: str, at: float) -> Post:
        return signed_post(wa_id, text, f"wamid.SCALE{run}{next(seq):07d}=", at, rng.randrange(instances))

    for wa_id in wa_ids:
        at, left, after_global = rng.uniform(0.0, 2.0), quota[wa_id], False
        ids = by_contact.setdefault(wa_id, [])
        while left:
            if not after_global and left >= 2 and rng.random() < 0.12:
                texts = [rng.choice(GLOBAL_TEXTS)]  # alone; the next episode names an option
                after_global = True
            else:
                size = min(left, rng.randint(2, 4)) if rng.random() < burst_share else 1
                texts = [rng.choice(OPTION_TEXTS) for _ in range(size)]
                after_global = False
            for i, text in enumerate(texts):
                made = post(wa_id, text, at + (i * rng.uniform(0.01, 0.033) if i else 0.0))
                posts.append(made)
                ids.append(made.wamid)
            left -= len(texts)
            at += rng.uniform(*gap)
    originals = list(posts)
    for _ in range(redeliveries):
        first = rng.choice(originals)
        later = rng.uniform(0.0, 0.03) if rng.random() < 0.5 else rng.uniform(0.5, 6.0)
        posts.append(Post(at=first.at + later, wamid=first.wamid, wa_id=first.wa_id, body=first.body,
                          signature=first.signature, instance=rng.randrange(instances), redelivery=True))
    posts.sort(key=lambda p: p.at)
    return Traffic(posts=posts, messages={p.wamid: p.wa_id for p in originals}, by_contact=by_contact)


@dataclass
class Load:
    """Posts a plan's webhooks on its timeline, ``concurrency`` at a time, retrying as Meta does."""

    urls: Sequence[str]
    concurrency: int = 32
    started: dict[str, float] = field(default_factory=dict)  # wamid -> first post's start (monotonic)
    accepted: dict[str, float] = field(default_factory=dict)  # wamid -> first 2xx (monotonic)
    statuses: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)  # wamids never accepted
    posted: int = 0

    async def run(self, traffic: Traffic, milestones: Sequence[tuple[int, Callable[[], Awaitable[None]]]] = ()) -> None:
        """Every post, on time; ``milestones``: (n, action) runs the action once n posts were done."""
        gate = asyncio.Semaphore(self.concurrency)
        pending_milestones = sorted(milestones, key=lambda m: m[0])
        actions: list[asyncio.Task[None]] = []
        start = time.monotonic()
        # The client lets an idle connection go before the server does (uvicorn closes one idle
        # for 5 s): a post on a connection the server is closing that moment is reset, and the
        # assertion that no post needed a retry would blame the gateway for a client's race.
        connector = aiohttp.TCPConnector(limit=self.concurrency * 2, keepalive_timeout=2.0)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def one(post: Post) -> None:
                async with gate:
                    await self._deliver(http, post)
                self.posted += 1
                while pending_milestones and self.posted >= pending_milestones[0][0]:
                    actions.append(asyncio.create_task(pending_milestones.pop(0)[1]()))

            tasks = []
            for post in traffic.posts:
                delay = start + post.at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(post)))
            await asyncio.gather(*tasks)
            await asyncio.gather(*actions)

    async def _deliver(self, http: aiohttp.ClientSession, post: Post) -> None:
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": post.signature}
        self.started.setdefault(post.wamid, time.monotonic())
        for attempt in range(6):
            url = self.urls[(post.instance + attempt) % len(self.urls)]  # a retry may land elsewhere
            try:
                async with http.post(url, data=post.body, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=20)) as response:
                    await response.read()
                    outcome = f"HTTP {response.status}"
                    if 200 <= response.status < 300:
                        self.statuses[outcome] += 1
                        self.accepted.setdefault(post.wamid, time.monotonic())
                        return
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome = type(exc).__name__
            self.statuses[outcome] += 1
            await asyncio.sleep(0.25 * (attempt + 1))
        self.failed.append(post.wamid)


# --- The end state -------------------------------------------------------------------------


async def admin_get(url: str, path: str) -> Any:
    async with aiohttp.ClientSession() as http:
        async with http.get(url + path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                            timeout=aiohttp.ClientTimeout(total=10)) as response:
            assert response.status == 200, f"GET {path}: HTTP {response.status} {await response.text()}"
            return await response.json()


async def wait_drained(*, database_url: str, admin_url: str, graph: FakeGraph, timeout: float = 60.0,
                       quiet: float = 1.5) -> float:
    """Until no message waits, the outbox has nothing pending or sending (admin API), no status
    webhook is in flight and no send arrived for ``quiet`` seconds; returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        waiting = await query(database_url, "SELECT count(*) AS n FROM inbound_messages WHERE status = 'pending'")
        if waiting[0]["n"]:
            continue
        if await admin_get(admin_url, "/api/v1/outbox?status=pending&limit=5"):
            continue
        if await admin_get(admin_url, "/api/v1/outbox?status=sending&limit=5"):
            continue
        last = graph.sends[-1].at if graph.sends else 0.0
        if graph.statuses_in_flight or time.monotonic() - last < quiet:
            continue
        return time.monotonic() - started
    raise AssertionError(f"the cluster did not drain within {timeout:.0f} s")


async def check_guarantees(*, database_url: str, traffic: Traffic, load: Load, graph: FakeGraph) -> list[str]:
    """Every broken guarantee: a duplicate reply, a lost message, replies out of order."""
    problems: list[str] = []
    wamids = set(traffic.messages)

    def report(what: str, items: Sequence[Any], limit: int = 8) -> None:
        if items:
            problems.append(f"{what}: {len(items)}, e.g. {list(items)[:limit]}")

    # The webhooks themselves: every message accepted (a Meta retry may have been needed).
    report("messages no webhook delivery was accepted for", load.failed)

    # (2) Nothing lost: each message stored exactly once, and processed.
    rows = await query(database_url,
                       "SELECT provider_message_id AS wamid, contact_key, status FROM inbound_messages")
    stored = Counter(row["wamid"] for row in rows)
    report("messages stored more than once", [w for w, n in stored.items() if n > 1])
    report("messages sent but not stored", sorted(wamids - set(stored)))
    report("stored messages nobody sent", sorted(set(stored) - wamids))
    report("stored messages not processed", [(r["wamid"], r["status"]) for r in rows if r["status"] != "processed"])
    again = await query(database_url, "SELECT inbound_id, was, now FROM scale_test_consumed_again")
    report("messages consumed by a second turn (answered twice)", [tuple(r) for r in again])
    lane_of = {traffic.messages[r["wamid"]]: r["contact_key"] for r in rows if r["wamid"] in traffic.messages}

    jobs = await query(database_url, "SELECT id, lane, kind, status, address FROM outbox ORDER BY id")
    report("outbox jobs not sent", [(j["id"], j["lane"], j["status"]) for j in jobs if j["status"] != "sent"])
    report("outbox jobs that are not replies", [(j["id"], j["kind"]) for j in jobs if j["kind"] != "reply"])
    job_by_id = {j["id"]: j for j in jobs}

    # (1) No duplicate reply: each job reached the Graph API once, nothing else did.
    trackers = Counter(send.outbox_id for send in graph.sends)
    report("sends without our tracker", [s for s in graph.sends if s.outbox_id is None])
    report("jobs sent to the Graph API more than once", [(i, n) for i, n in trackers.items() if i and n > 1])
    report("sent jobs that never reached the Graph API",
           [j["id"] for j in jobs if j["status"] == "sent" and j["id"] not in trackers])
    report("sends naming no job of ours", [s for s in graph.sends if s.outbox_id and s.outbox_id not in job_by_id])
    report("sends to another address than their job's",
           [(s.outbox_id, s.to, job_by_id[s.outbox_id]["address"]) for s in graph.sends
            if s.outbox_id in job_by_id and job_by_id[s.outbox_id]["address"] != s.to])
    report("requests the Graph API did not expect", graph.other)

    replies: dict[str, list[Send]] = defaultdict(list)
    for send in graph.sends:
        replies[send.to].append(send)
    report("contacts with more replies than messages",
           [(wa_id, len(replies[wa_id]), len(ids)) for wa_id, ids in traffic.by_contact.items()
            if len(replies[wa_id]) > len(ids)])
    report("replies to someone who never wrote", sorted(set(replies) - set(traffic.by_contact)))

    # Every turn answered: one reply job per saved turn (each bumps the conversation's version).
    versions = {r["contact_key"]: r["version"] for r in await query(
        database_url, "SELECT contact_key, version FROM conversations")}
    jobs_per_lane = Counter(j["lane"] for j in jobs if j["kind"] == "reply")
    report("contacts whose turns and replies differ in number",
           [(lane, versions.get(lane, 0), jobs_per_lane[lane]) for lane in set(versions) | set(jobs_per_lane)
            if versions.get(lane, 0) != jobs_per_lane[lane]])

    # Answered or merged: a reply reached the contact after its last message was posted.
    report("contacts without a reply after their last message",
           [wa_id for wa_id, ids in traffic.by_contact.items()
            if not any(send.at > max(load.started[w] for w in ids) for send in replies[wa_id])])
    keys_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row["wamid"] in traffic.messages:
            keys_of[traffic.messages[row["wamid"]]].add(row["contact_key"])
    report("contacts whose messages were stored under several keys",
           [(wa_id, keys) for wa_id, keys in keys_of.items() if len(keys) != 1])

    # (3) Order: each contact's replies reached the Graph API in the order of their jobs.
    report("contacts whose replies arrived out of order",
           [(wa_id, [s.outbox_id for s in sends]) for wa_id, sends in replies.items()
            if [s.outbox_id for s in sends] != sorted(s.outbox_id or 0 for s in sends)], limit=3)
    report("replies whose job is in another contact's lane",
           [(s.outbox_id, s.to) for wa_id, sends in replies.items() for s in sends
            if s.outbox_id in job_by_id and job_by_id[s.outbox_id]["lane"] != lane_of.get(wa_id)])
    return problems

"""Load generator for Chatgate's Meta webhook path, on loopback.

It starts a fake Graph API (bench/fake_graph.py), migrates the database, starts ``N``
``chatgate serve`` processes pinned to the server core(s), sends signed Meta text webhooks
from many contacts, waits for the replies to reach the fake Graph API, and prints:
webhooks sent / 2xx / non-2xx / errors, accepted msgs/s, webhook latency p50/p90/p99/max,
replies matched per contact and webhook-to-reply latency, and the servers' RSS over time.

Scenarios (see bench/README.md)::

    .venv/bin/python bench/webhook_load.py --mode closed --concurrency 64 --duration 20
    .venv/bin/python bench/webhook_load.py --mode open --rate 1000 --duration 20
    .venv/bin/python bench/webhook_load.py --mode open --rate 500 --duration 300 --max-requests 400000

Everything it starts is terminated by pid in a ``finally`` (SIGTERM, then SIGKILL after 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import hmac
import http.client
import json
import math
import os
import random
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yarl

import lean_http

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

SECRET = "bench-app-secret"
ACCESS_TOKEN = "bench-access-token"
VERIFY_TOKEN = "bench-verify-token"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550001111"
WABA_ID = "102290129340398"


class StartupError(Exception):
    """Something the benchmark needs did not come up; the message says what."""


# ----------------------------------------------------------------------------- options


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    load = p.add_argument_group("load")
    load.add_argument("--mode", choices=("closed", "open"), default="closed")
    load.add_argument("--concurrency", type=int, default=64,
                      help="closed: workers; both modes: keep-alive connections, shared out over the instances (default 64)")
    load.add_argument("--rate", type=float, default=1000.0, help="open: offered msgs/s (default 1000)")
    load.add_argument("--duration", type=float, default=20.0, help="measured seconds (default 20)")
    load.add_argument("--warmup", type=float, default=2.0,
                      help="seconds of the same load before measuring, excluded from the figures (default 2)")
    load.add_argument("--drain", type=float, default=10.0,
                      help="seconds to wait for replies after sending (default 10)")
    load.add_argument("--max-requests", type=int, default=200_000,
                      help="hard cap on webhooks sent, warm-up included (default 200000)")
    load.add_argument("--max-outstanding", type=int, default=2000,
                      help="open: in-flight cap; a send due beyond it is dropped and counted (default 2000)")
    load.add_argument("--timeout", type=float, default=30.0, help="per-webhook timeout, s (default 30)")
    load.add_argument("--contacts", type=int, default=5000, help="distinct wa_ids (default 5000)")
    load.add_argument("--contact-base", type=int, default=None,
                      help="first wa_id is 62811<base:07d> (default random, printed)")
    load.add_argument("--texts", default="halo,restart",
                      help="comma-separated texts; a contact's k-th message is texts[k %% len] "
                           "(default 'halo,restart', see README)")
    load.add_argument("--bsuid", action="store_true",
                      help="also send a BSUID contacts[].user_id (replies to `recipient` are matched too)")

    srv = p.add_argument_group("servers")
    srv.add_argument("--instances", type=int, default=1, help="chatgate serve processes (default 1)")
    srv.add_argument("--workers", type=int, default=0,
                     help="chatgate worker processes; >0 sets CHATGATE_WORKER_IN_SERVE=false (default 0)")
    srv.add_argument("--host", default="127.0.0.1", help="bind address of the servers (127.x only)")
    srv.add_argument("--base-port", type=int, default=0, help="first serve port (default: free ports)")
    srv.add_argument("--database-url", default=None,
                     help="CHATGATE_DATABASE_URL (default sqlite+aiosqlite:///<tmpdir>/bench.db)")
    srv.add_argument("--redis-url", default=None, help="CHATGATE_REDIS_URL (default unset)")
    srv.add_argument("--bot", default="franchise_leads", help="CHATGATE_BOT (default franchise_leads)")
    srv.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                     help="extra environment for migrate/serve/worker, wins over everything (repeatable)")
    srv.add_argument("--chatgate", default=None, help="chatgate executable (default .venv/bin/chatgate)")
    srv.add_argument("--server-cpus", default="0", help="CPU list the servers are pinned to (default 0)")
    srv.add_argument("--load-cpus", default="1", help="CPU list of the load + fake Graph API (default 1)")
    srv.add_argument("--ready-timeout", type=float, default=30.0, help="seconds to wait for GET /ready")
    srv.add_argument("--webhook-path", default="/webhooks/meta")
    srv.add_argument("--target", action="append", default=[], metavar="URL",
                     help="use an already running server at this webhook URL (127.x only) instead of "
                          "starting one; needs --graph-port so its META_API_BASE can point at us")
    srv.add_argument("--server-pid", action="append", type=int, default=[],
                     help="with --target: pid(s) whose RSS/CPU to watch")

    graph = p.add_argument_group("fake Graph API")
    graph.add_argument("--graph-port", type=int, default=0, help="fake Graph API port (default free port)")
    graph.add_argument("--graph-delay-ms", type=float, default=0.0,
                       help="simulated Graph API latency per send (default 0)")

    out = p.add_argument_group("output")
    out.add_argument("--json", action="store_true",
                     help="print a JSON summary on stdout (the text report then goes to stderr)")
    out.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (db, server logs)")
    out.add_argument("--quiet", action="store_true", help="no progress lines")

    srv.add_argument("--standin", choices=("trivial", "echo"), default=None,
                     help="serve with bench/standin_server.py instead of chatgate: 'trivial' answers "
                          "200 and nothing else (load-side ceiling), 'echo' checks the signature and "
                          "replies through the fake Graph API (end-to-end self-test)")
    # Hidden: test the benchmark against bench/standin_server.py (or anything else).
    p.add_argument("--server-cmd", default=None, help=argparse.SUPPRESS)
    p.add_argument("--migrate-cmd", default=None, help=argparse.SUPPRESS)

    args = p.parse_args(argv)
    for name in ("concurrency", "contacts", "instances", "max_requests", "max_outstanding"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.duration <= 0 or args.rate <= 0 or args.warmup < 0 or args.drain < 0:
        p.error("--duration and --rate must be positive, --warmup and --drain not negative")
    if args.contacts > 10_000_000:
        p.error("--contacts must be at most 10000000 (wa_ids are 62811 + 7 digits)")
    if not args.host.startswith("127."):
        p.error(f"--host {args.host}: loopback (127.x) only")
    for url in args.target:
        host = urlsplit(url).hostname or ""
        if not host.startswith("127."):
            p.error(f"--target {url}: loopback (127.x) only")
    if args.target and not args.graph_port:
        p.error("--target needs --graph-port (the running server's META_API_BASE must point at it)")
    for item in args.env:
        if "=" not in item:
            p.error(f"--env {item!r}: expected KEY=VALUE")
    if args.standin and (args.server_cmd or args.target):
        p.error("--standin excludes --server-cmd and --target")
    if args.standin:
        args.server_cmd = "{python} {bench}/standin_server.py --host {host} --port {port}"
        if args.standin == "trivial":
            args.server_cmd += " --trivial"
            args.drain = 0.0  # it never replies
    args.texts_list = [t for t in args.texts.split(",") if t] or ["halo"]
    if args.contact_base is None:
        args.contact_base = random.randrange(10_000_000)
    return args


def parse_cpus(spec: str) -> set[int]:
    cpus: set[int] = set()
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            cpus.update(range(int(lo), int(hi) + 1))
        elif part:
            cpus.add(int(part))
    return cpus


# ----------------------------------------------------------------------------- processes


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


class ProcSet:
    """The processes this run started; stop_all() ends each by its pid."""

    def __init__(self) -> None:
        self.procs: list[Proc] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str], cpus: set[int] | None,
              logdir: Path, stdout_pipe: bool = False) -> Proc:
        out, err = logdir / f"{name}.out", logdir / f"{name}.err"
        preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        popen = subprocess.Popen(
            cmd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else out.open("wb"),
            stderr=err.open("wb"), preexec_fn=preexec, start_new_session=True,
        )
        proc = Proc(name, popen, out, err)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        live = [p for p in self.procs if p.popen.poll() is None]
        for p in live:
            try:
                os.kill(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5.0
        for p in live:
            try:
                p.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.popen.wait()
        for p in self.procs:  # a straggling child of ours, in the session we created for it
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if p.popen.stdout is not None:
                p.popen.stdout.close()


def read_ready_line(proc: Proc, timeout: float) -> int:
    assert proc.popen.stdout is not None
    fd = proc.popen.stdout.fileno()
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or proc.popen.poll() is not None:
            raise StartupError(f"{proc.name} did not start:\n{tail(proc.err)}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                continue
            buf += chunk
    line = buf.split(b"\n", 1)[0].decode()
    if not line.startswith("READY "):
        raise StartupError(f"{proc.name} said {line!r}, not READY <port>")
    return int(line.split()[1])


def wait_ready(proc: Proc, host: str, port: int, timeout: float) -> float:
    """Poll GET /ready until 200; returns the seconds it took."""
    t0 = time.monotonic()
    last = "no answer"
    while time.monotonic() - t0 < timeout:
        if proc.popen.poll() is not None:
            raise StartupError(
                f"{proc.name} exited with status {proc.popen.returncode} before it was ready; "
                f"stderr tail:\n{tail(proc.err)}\nstdout tail:\n{tail(proc.out, 10)}"
            )
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", "/ready")
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return time.monotonic() - t0
            last = f"HTTP {resp.status}"
        except OSError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise StartupError(
        f"{proc.name} did not answer GET /ready with 200 within {timeout:.0f} s (last: {last}); "
        f"stderr tail:\n{tail(proc.err)}"
    )


def proc_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def rss_kb(pid: int) -> int:
    """VmRSS of the process and its descendants, in kB (0 when gone)."""
    total = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def cpu_seconds(pid: int, tree: bool = True) -> float:
    total = 0
    for p in proc_tree(pid) if tree else [pid]:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


# ----------------------------------------------------------------------------- messages


BODY = (
    '{"object":"whatsapp_business_account","entry":[{"id":"' + WABA_ID + '","changes":[{'
    '"field":"messages","value":{"messaging_product":"whatsapp","metadata":{'
    '"display_phone_number":"' + DISPLAY_NUMBER + '","phone_number_id":"%(pnid)s"},'
    '"contacts":[{"profile":{"name":"Bench %(c)d"},"wa_id":"%(wa)s"%(uid)s}],'
    '"messages":[{"from":"%(wa)s","id":"wamid.BENCH%(run)s%(seq)010d","timestamp":"%(ts)s",'
    '"type":"text","text":{"body":%(text)s}}]}}]}]}'
)


class Messages:
    """Signed webhook bodies, made in batches; message ``seq`` comes from contact ``seq % n``."""

    def __init__(self, secret: str, contacts: int, base: int, texts: list[str],
                 bsuid: bool, batch: int = 512) -> None:
        self.key = secret.encode()
        self.wa_ids = [f"62811{(base + i) % 10_000_000:07d}" for i in range(contacts)]
        self.bsuids = [f"ID.9{(base + i) % 10_000_000:07d}" for i in range(contacts)] if bsuid else []
        self.texts = [json.dumps(t) for t in texts]
        self.run = f"{random.getrandbits(40):010X}"
        self.seq = 0
        self.batch = batch
        self.ready: list[tuple[int, bytes, str]] = []

    def _refill(self) -> None:
        ts = str(int(time.time()))
        n, texts, key = len(self.wa_ids), self.texts, self.key
        made = []
        for seq in range(self.seq, self.seq + self.batch):
            c = seq % n
            uid = f',"user_id":"{self.bsuids[c]}"' if self.bsuids else ""
            body = (BODY % {
                "pnid": PHONE_NUMBER_ID, "c": c, "wa": self.wa_ids[c], "uid": uid, "run": self.run,
                "seq": seq, "ts": ts, "text": texts[(seq // n) % len(texts)],
            }).encode()
            made.append((seq, body, "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()))
        self.seq += self.batch
        made.reverse()
        self.ready = made

    def next(self) -> tuple[int, bytes, str]:
        if not self.ready:
            self._refill()
        return self.ready.pop()


# ----------------------------------------------------------------------------- load


@dataclass
class Run:
    """Per-webhook records (parallel arrays, one entry per completed webhook) and counters."""

    # arrays, not lists: the garbage collector does not walk them (no pauses that grow with the run)
    seq: array = field(default_factory=lambda: array("q"))
    origin: array = field(default_factory=lambda: array("d"))  # send start (closed) / scheduled (open)
    sent: array = field(default_factory=lambda: array("d"))    # actual send start
    done: array = field(default_factory=lambda: array("d"))
    status: array = field(default_factory=lambda: array("i"))  # HTTP status, -1 = error
    errors: Counter[str] = field(default_factory=Counter)
    dropped: int = 0
    dropped_measured: int = 0
    launched: int = 0
    capped: bool = False
    t_start: float = 0.0
    t_measure: float = 0.0
    t_end: float = 0.0
    t_send_done: float = 0.0

    def add(self, seq: int, origin: float, sent: float, done: float, status: int) -> None:
        self.seq.append(seq)
        self.origin.append(origin)
        self.sent.append(sent)
        self.done.append(done)
        self.status.append(status)


class Load:
    def __init__(self, args: argparse.Namespace, urls: list[str], msgs: Messages) -> None:
        self.args = args
        self.msgs = msgs
        self.run = Run()
        self.outstanding = 0
        # One pool per instance (the connections shared out evenly, as the webhooks are), with
        # its request line and fixed headers as Meta sends them; signature and length per webhook.
        self.targets: list[tuple[lean_http.Pool, bytes]] = []
        limit = math.ceil(args.concurrency / len(urls))
        for u in map(yarl.URL, urls):
            assert u.host is not None and u.port is not None
            head = (f"POST {u.raw_path_qs} HTTP/1.1\r\nHost: {u.host}:{u.port}\r\n"
                    "User-Agent: facebookexternalua\r\nAccept: */*\r\nContent-Type: application/json\r\n"
                    "X-Hub-Signature-256: ")
            pool = lean_http.Pool(u.host, u.port, limit=limit, timeout=args.timeout)
            self.targets.append((pool, head.encode()))

    def close(self) -> None:
        for pool, _ in self.targets:
            pool.close()

    async def post(self, seq: int, body: bytes, sig: str) -> int:
        pool, head = self.targets[seq % len(self.targets)]
        try:
            return await pool.post(b"%s%s\r\n" % (head, sig.encode()), body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is a counted error
            self.run.errors[type(exc).__name__] += 1
            return -1

    async def closed(self) -> None:
        run, msgs, cap = self.run, self.msgs, self.args.max_requests
        mono = time.monotonic

        async def worker() -> None:
            while mono() < run.t_end:
                if run.launched >= cap:
                    run.capped = True
                    return
                run.launched += 1
                seq, body, sig = msgs.next()
                t0 = mono()
                status = await self.post(seq, body, sig)
                run.add(seq, t0, t0, mono(), status)

        await asyncio.gather(*(worker() for _ in range(self.args.concurrency)))

    async def open(self) -> None:
        run, msgs, args = self.run, self.msgs, self.args
        mono = time.monotonic
        rate = args.rate
        total = math.ceil(rate * (args.warmup + args.duration))
        if total > args.max_requests:
            total, run.capped = args.max_requests, True
        tasks: set[asyncio.Task[None]] = set()

        async def one(sched: float, seq: int, body: bytes, sig: str) -> None:
            t0 = mono()
            status = await self.post(seq, body, sig)
            run.add(seq, sched, t0, mono(), status)
            self.outstanding -= 1

        t0 = run.t_start
        i = 0
        while i < total:
            due = min(total, int((mono() - t0) * rate) + 1)
            while i < due:
                sched = t0 + i / rate
                if self.outstanding >= args.max_outstanding:
                    run.dropped += 1
                    run.dropped_measured += sched >= run.t_measure
                else:
                    self.outstanding += 1
                    run.launched += 1
                    seq, body, sig = msgs.next()
                    task = asyncio.create_task(one(sched, seq, body, sig))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                i += 1
            if i < total:
                # uvloop's timers tick in whole milliseconds: a shorter sleep returns at once
                # and would spin; sends due meanwhile go out together, timed from their slot.
                await asyncio.sleep(max(0.001, t0 + i / rate - mono()))
        if tasks:
            await asyncio.gather(*tasks)


class Sampler:
    """Samples the servers' RSS every second and takes CPU snapshots on demand."""

    def __init__(self, pids: list[int], graph_pid: int | None) -> None:
        self.pids = pids
        self.graph_pid = graph_pid
        self.rss: list[list[tuple[float, int]]] = [[] for _ in pids]
        self.cpu: dict[str, dict[str, float]] = {}

    def sample(self) -> None:
        now = time.monotonic()
        for series, pid in zip(self.rss, self.pids):
            series.append((now, rss_kb(pid)))

    async def loop(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(1.0)

    def snap(self, name: str) -> None:
        snap = {"t": time.monotonic(), "load": cpu_seconds(os.getpid(), tree=False)}
        if self.graph_pid:
            snap["graph"] = cpu_seconds(self.graph_pid, tree=False)
        for i, pid in enumerate(self.pids):
            snap[f"server{i}"] = cpu_seconds(pid)
        self.cpu[name] = snap


async def graph_get(session: aiohttp.ClientSession, base: str, path: str) -> dict[str, Any]:
    async with session.get(f"{base}{path}") as resp:
        return await resp.json(loads=json.loads, content_type=None)


async def drive(args: argparse.Namespace, urls: list[str], graph_base: str,
                server_pids: list[int], graph_pid: int | None) -> dict[str, Any]:
    msgs = Messages(SECRET, args.contacts, args.contact_base, args.texts_list, args.bsuid)
    load = Load(args, urls, msgs)
    sampler = Sampler(server_pids, graph_pid)
    sampler_task = asyncio.create_task(sampler.loop())
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    run = load.run
    # The webhooks go through bench/lean_http.py (half of aiohttp's CPU per request: the
    # generator shares the machine with what it measures); the few control calls stay on aiohttp.
    async with aiohttp.ClientSession(timeout=timeout) as ctl:
        async with ctl.post(f"{graph_base}/_bench/reset") as resp:
            await resp.read()
        await asyncio.sleep(1.1)  # one RSS sample before the load
        gc.collect()
        gc.freeze()  # what exists now (modules, sessions) is never scanned again: short GC pauses
        run.t_start = time.monotonic() + 0.005
        run.t_measure = run.t_start + args.warmup
        run.t_end = run.t_measure + args.duration
        loop = asyncio.get_running_loop()
        loop.call_at(loop.time() + max(0.0, run.t_measure - time.monotonic()), sampler.snap, "measure")
        progress = None if args.quiet else asyncio.create_task(report_progress(run, sampler))
        await (load.closed() if args.mode == "closed" else load.open())
        run.t_send_done = time.monotonic()
        sampler.snap("send_done")
        if "measure" not in sampler.cpu:  # stopped early by --max-requests
            sampler.cpu["measure"] = dict(sampler.cpu["send_done"])
        if progress is not None:
            progress.cancel()
        ok_total = sum(1 for s in run.status if 200 <= s < 300)
        records = await drain(ctl, graph_base, ok_total, args.drain, args.quiet)
        sampler.sample()
        load.close()
    sampler_task.cancel()
    return {"run": run, "records": records, "sampler": sampler, "msgs": msgs}


async def report_progress(run: Run, sampler: Sampler) -> None:
    last_n, last_t = 0, time.monotonic()
    while True:
        await asyncio.sleep(5.0)
        now, n = time.monotonic(), len(run.status)
        rss = " ".join(f"{s[-1][1] / 1024:.0f}MB" for s in sampler.rss if s)
        phase = "warm-up" if now < run.t_measure else "measure"
        log(f"  [{now - run.t_start:6.1f}s {phase}] {n} done, {(n - last_n) / (now - last_t):.0f}/s, "
            f"errors {sum(run.errors.values())}, dropped {run.dropped}, server RSS {rss}")
        last_n, last_t = n, now


async def drain(ctl: aiohttp.ClientSession, graph_base: str, expected: int, limit: float,
                quiet: bool) -> dict[str, Any]:
    """Wait (at most ``limit`` s) until the fake Graph API has seen ``expected`` replies."""
    deadline = time.monotonic() + limit
    counts = await graph_get(ctl, graph_base, "/_bench/count")
    while counts["count"] < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        counts = await graph_get(ctl, graph_base, "/_bench/count")
    if not quiet:
        log(f"  drained: {counts['count']} replies for {expected} accepted webhooks")
    await asyncio.sleep(0.3)  # a straggler or a second message of the same answer
    return await graph_get(ctl, graph_base, "/_bench/records")


# ----------------------------------------------------------------------------- analysis


def pct(sorted_vals: list[float], q: float) -> float | None:
    if not sorted_vals:
        return None
    return sorted_vals[min(len(sorted_vals) - 1, max(0, math.ceil(q * len(sorted_vals)) - 1))]


def dist_ms(vals: list[float]) -> dict[str, float | None]:
    s = sorted(vals)
    out = {f"p{int(q * 100)}": pct(s, q) for q in (0.5, 0.9, 0.99)}
    out["p99.9"] = pct(s, 0.999)
    out["max"] = s[-1] if s else None
    return {k: (round(v * 1000, 2) if v is not None else None) for k, v in out.items()}


def slope_mb_per_min(points: list[tuple[float, int]]) -> float | None:
    if len(points) < 3:
        return None
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    if den == 0:
        return None
    return round(sum((t - mt) * (v - mv) for t, v in points) / den * 60 / 1024, 3)


def digits(to: str) -> str:
    return "".join(ch for ch in to if ch.isdigit())


def match_replies(run: Run, records: dict[str, Any], msgs: Messages) -> dict[str, Any]:
    """Pair, per contact and in order, each 2xx webhook with a reply to that contact."""
    n = len(msgs.wa_ids)
    index = {wa: i for i, wa in enumerate(msgs.wa_ids)}
    index.update({uid: i for i, uid in enumerate(msgs.bsuids)})
    replies: dict[int, list[float]] = defaultdict(list)
    unknown = 0
    for t, to in zip(records["t"], records["to"]):
        c = index.get(to)  # a wa_id or a BSUID as sent
        if c is None:
            c = index.get(digits(to))  # "+62811…", "62811…@c.us"
        if c is None:
            unknown += 1
        else:
            replies[c].append(t)
    hooks: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for seq, origin, status in zip(run.seq, run.origin, run.status):
        if 200 <= status < 300:
            hooks[seq % n].append((seq, origin))
    matched = matched_measured = extra = negative = 0
    lat: list[float] = []
    last_reply = 0.0
    short_by_k: Counter[int] = Counter()
    short_contacts = 0
    for c, hs in hooks.items():
        hs.sort()
        rs = sorted(replies.get(c, ()))
        pairs = min(len(hs), len(rs))
        matched += pairs
        for (seq, origin), t in zip(hs, rs):
            if origin >= run.t_measure:
                matched_measured += 1
                lat.append(t - origin)
                negative += t < origin
                last_reply = max(last_reply, t)
        if len(rs) < len(hs):
            short_contacts += 1
            for seq, _ in hs[len(rs):]:
                short_by_k[seq // n] += 1
        extra += max(0, len(rs) - len(hs))
    extra += sum(len(rs) for c, rs in replies.items() if c not in hooks)
    in_window = sum(1 for t in records["t"] if run.t_measure <= t <= run.t_send_done)
    return {
        "replies_total": len(records["t"]), "matched": matched, "matched_measured": matched_measured,
        "extra": extra, "unknown_recipient": unknown, "negative_latency": negative,
        "short_contacts": short_contacts, "unanswered_by_msg_index": dict(sorted(short_by_k.items())),
        "latency": lat, "last_reply": last_reply, "in_send_window": in_window,
    }


def summarize(args: argparse.Namespace, res: dict[str, Any], urls: list[str],
              server_pids: list[int]) -> dict[str, Any]:
    run: Run = res["run"]
    sampler: Sampler = res["sampler"]
    records = res["records"]
    measured = [i for i, o in enumerate(run.origin) if o >= run.t_measure]
    st = [run.status[i] for i in measured]
    ok = [i for i in measured if 200 <= run.status[i] < 300]
    last_done = max((run.done[i] for i in measured), default=run.t_measure)
    window = max(1e-9, last_done - run.t_measure)
    per_sec: Counter[int] = Counter(int(run.done[i] - run.t_measure) for i in ok)
    full_secs = [per_sec.get(s, 0) for s in range(int(window))]
    m = match_replies(run, records, res["msgs"])
    e2e_window = max(1e-9, m["last_reply"] - run.t_measure) if m["matched_measured"] else None

    c0, c1 = sampler.cpu["measure"], sampler.cpu["send_done"]
    dt = max(1e-9, c1["t"] - c0["t"])
    cpu = {k: round((c1[k] - c0[k]) / dt * 100, 1) for k in c0 if k != "t"}
    hooks_in = sum(1 for d in run.done if c0["t"] <= d <= c1["t"])
    replies_in = sum(1 for t in records["t"] if c0["t"] <= t <= c1["t"])
    cpu_cost = {
        "load_us_per_webhook": round((c1["load"] - c0["load"]) / hooks_in * 1e6, 1) if hooks_in else None,
        "graph_us_per_reply": round((c1["graph"] - c0["graph"]) / replies_in * 1e6, 1)
        if replies_in and "graph" in c0 else None,
    }

    memory = []
    for i, series in enumerate(sampler.rss):
        if not series:
            continue
        pre = [p for p in series if p[0] <= run.t_measure] or series[:1]
        during = [p for p in series if run.t_measure <= p[0] <= run.t_send_done]
        mid_t = (run.t_measure + run.t_send_done) / 2
        mid = min(series, key=lambda p: abs(p[0] - mid_t))
        half = [p for p in during if p[0] >= mid_t]
        vals = [v for _, v in (during or series)]
        memory.append({
            "instance": i, "pid": server_pids[i],
            "start_mb": round(pre[-1][1] / 1024, 1), "mid_mb": round(mid[1] / 1024, 1),
            "end_mb": round(series[-1][1] / 1024, 1),
            "min_mb": round(min(vals) / 1024, 1), "max_mb": round(max(vals) / 1024, 1),
            "slope_mb_per_min": slope_mb_per_min(during),
            "slope_2nd_half_mb_per_min": slope_mb_per_min(half),
            "samples": len(series),
        })
    return {
        "mode": args.mode, "concurrency": args.concurrency,
        "rate": args.rate if args.mode == "open" else None,
        "duration_s": args.duration, "warmup_s": args.warmup, "instances": len(urls),
        "contacts": args.contacts, "contact_base": args.contact_base, "texts": args.texts_list,
        "targets": urls, "capped_by_max_requests": run.capped,
        "sent": len(st), "sent_incl_warmup": len(run.status),
        "ok_2xx": len(ok), "non_2xx": sum(1 for s in st if s >= 300 or 0 <= s < 200),
        "errors": sum(1 for s in st if s < 0),
        "non_2xx_statuses": dict(Counter(s for s in st if s >= 300 or 0 <= s < 200)),
        "error_kinds": dict(run.errors),
        "dropped": run.dropped_measured, "dropped_incl_warmup": run.dropped,
        "window_s": round(window, 3), "accepted_per_s": round(len(ok) / window, 1),
        "accepted_per_s_by_second": {"min": min(full_secs, default=None),
                                     "max": max(full_secs, default=None)},
        "webhook_latency_ms": dist_ms([run.done[i] - run.origin[i] for i in ok]),
        "webhook_latency_worst_seconds": worst_seconds(run, ok),
        "send_lag_ms": dist_ms([run.sent[i] - run.origin[i] for i in measured])
        if args.mode == "open" else None,
        "replies_total": m["replies_total"], "replies_matched": m["matched"],
        "replies_matched_measured": m["matched_measured"],
        "replies_expected": sum(1 for s in run.status if 200 <= s < 300),
        "replies_extra": m["extra"], "replies_unknown_recipient": m["unknown_recipient"],
        "contacts_short_of_replies": m["short_contacts"],
        "unanswered_by_msg_index": m["unanswered_by_msg_index"],
        "replies_in_send_window_per_s": round(m["in_send_window"] / window, 1),
        "e2e_answered_per_s": round(m["matched_measured"] / e2e_window, 1) if e2e_window else 0.0,
        "e2e_window_s": round(e2e_window, 3) if e2e_window else None,
        "webhook_to_reply_ms": dist_ms(m["latency"]),
        "negative_pairs": m["negative_latency"],
        "graph": {k: records.get(k) for k in ("other", "bad_auth", "bad_body", "phone_ids")},
        "cpu_percent": cpu, "cpu_cost": cpu_cost, "memory": memory,
        "expect_replies": args.standin != "trivial",
        "warnings": warnings(args, cpu, run, measured),
    }


def worst_seconds(run: Run, ok: list[int], count: int = 3) -> list[dict[str, float | int]]:
    """The seconds of the window (by send time) with the slowest webhooks: a tail made by a few
    stalls shows as a few bad seconds, one made by a busy machine as many alike."""
    by_second: dict[int, list[float]] = {}
    for i in ok:
        by_second.setdefault(int(run.origin[i] - run.t_measure), []).append(run.done[i] - run.origin[i])
    seconds = [{"second": second, "p99_ms": round((pct(sorted(times), 0.99) or 0) * 1000, 1),
                "max_ms": round(max(times) * 1000, 1), "webhooks": len(times)}
               for second, times in by_second.items()]
    return sorted(seconds, key=lambda s: -s["p99_ms"])[:count]


def warnings(args: argparse.Namespace, cpu: dict[str, float], run: Run, measured: list[int]) -> list[str]:
    out = []
    if cpu.get("load", 0) + cpu.get("graph", 0) > 90:
        out.append("the load core was busy >90%: the figures may measure the load generator, "
                   "not the server (see the ceiling in bench/README.md)")
    if args.mode == "open" and measured:
        lag = sorted(run.sent[i] - run.origin[i] for i in measured)
        if (pct(lag, 0.99) or 0) > 0.005:
            out.append("load-side send lag p99 > 5 ms: the generator fell behind its schedule "
                       "(busy core, or all --concurrency connections in use)")
    if run.dropped_measured:
        out.append(f"{run.dropped_measured} sends dropped: more than --max-outstanding in flight")
    if os.cpu_count() and os.getloadavg()[0] > os.cpu_count():
        out.append(f"load average {os.getloadavg()[0]:.1f} > CPUs: something else is competing")
    return out


def fmt(v: Any) -> str:
    return "-" if v is None else f"{v}"


def render(s: dict[str, Any]) -> str:
    lat = s["webhook_latency_ms"]
    load = f"rate={s['rate']:g}/s" if s["mode"] == "open" else f"concurrency={s['concurrency']}"
    lines = [
        f"chatgate webhook load: mode={s['mode']} {load} duration={s['duration_s']:g}s "
        f"(+{s['warmup_s']:g}s warm-up) instances={s['instances']} contacts={s['contacts']} "
        f"texts={','.join(s['texts'])}",
        f"  webhooks   sent {s['sent']}  2xx {s['ok_2xx']}  non-2xx {s['non_2xx']}  errors {s['errors']}"
        f"  dropped {s['dropped']}" + ("  (stopped by --max-requests)" if s["capped_by_max_requests"] else ""),
        f"  accepted   {s['accepted_per_s']} msgs/s over {s['window_s']} s"
        f"  (per-second min {fmt(s['accepted_per_s_by_second']['min'])},"
        f" max {fmt(s['accepted_per_s_by_second']['max'])})",
        f"  webhook latency ms   p50 {fmt(lat['p50'])}  p90 {fmt(lat['p90'])}  p99 {fmt(lat['p99'])}"
        f"  p99.9 {fmt(lat['p99.9'])}  max {fmt(lat['max'])}"
        + ("  (from the scheduled send time)" if s["mode"] == "open" else ""),
        "  slowest seconds      " + "  ".join(
            f"#{w['second']}: p99 {w['p99_ms']} max {w['max_ms']}" for w in s["webhook_latency_worst_seconds"]),
    ]
    if s["non_2xx_statuses"] or s["error_kinds"]:
        lines.append(f"  non-2xx {s['non_2xx_statuses']}  errors {s['error_kinds']}")
    if s["send_lag_ms"]:
        lag = s["send_lag_ms"]
        lines.append(f"  load-side send lag ms p50 {fmt(lag['p50'])}  p99 {fmt(lag['p99'])}  max {fmt(lag['max'])}")
    if not s["expect_replies"]:
        lines.append("  replies    none expected (--standin trivial)")
    else:
        lines += reply_lines(s)
    g = s["graph"]
    if g.get("bad_auth") or g.get("bad_body") or len(g.get("phone_ids") or {}) > 1:
        lines.append(f"  fake Graph API: bad auth {g['bad_auth']}, bad body {g['bad_body']}, "
                     f"phone ids {g['phone_ids']}")
    for mem in s["memory"]:
        lines.append(
            f"  server {mem['instance']} (pid {mem['pid']}) RSS MB  start {mem['start_mb']}  mid {mem['mid_mb']}"
            f"  end {mem['end_mb']}  min {mem['min_mb']}  max {mem['max_mb']}"
            f"  slope {fmt(mem['slope_mb_per_min'])} MB/min (2nd half {fmt(mem['slope_2nd_half_mb_per_min'])})"
        )
    cost = s["cpu_cost"]
    lines.append("  CPU % over the window: " + "  ".join(f"{k} {v}" for k, v in s["cpu_percent"].items())
                 + f"   (load {fmt(cost['load_us_per_webhook'])} us/webhook,"
                 f" fake Graph {fmt(cost['graph_us_per_reply'])} us/reply)")
    lines += [f"  warning: {w}" for w in s["warnings"]]
    return "\n".join(lines)


def reply_lines(s: dict[str, Any]) -> list[str]:
    w2r = s["webhook_to_reply_ms"]
    lines = [
        f"  replies    received {s['replies_total']}  matched {s['replies_matched']}/{s['replies_expected']}"
        f"  extra {s['replies_extra']}  unknown recipient {s['replies_unknown_recipient']}"
        f"  contacts short {s['contacts_short_of_replies']}",
        f"  end-to-end {s['e2e_answered_per_s']} answered msgs/s over {fmt(s['e2e_window_s'])} s"
        f"  (replies inside the send window: {s['replies_in_send_window_per_s']}/s)",
        f"  webhook->reply ms    p50 {fmt(w2r['p50'])}  p90 {fmt(w2r['p90'])}  p99 {fmt(w2r['p99'])}"
        f"  max {fmt(w2r['max'])}",
    ]
    if s["unanswered_by_msg_index"]:
        top = list(s["unanswered_by_msg_index"].items())[:8]
        lines.append("  unanswered webhooks by the contact's message number (0 = first): "
                     + ", ".join(f"#{k}: {v}" for k, v in top))
    return lines


# ----------------------------------------------------------------------------- orchestration


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def server_env(args: argparse.Namespace, tmpdir: Path, graph_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "CHATGATE_DATABASE_URL": args.database_url or f"sqlite+aiosqlite:///{tmpdir}/bench.db",
        "CHATGATE_WHATSAPP_PROVIDER": "meta",
        "CHATGATE_META_APP_SECRET": SECRET,
        "CHATGATE_META_ACCESS_TOKEN": ACCESS_TOKEN,
        "CHATGATE_META_VERIFY_TOKEN": VERIFY_TOKEN,
        "CHATGATE_META_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "CHATGATE_META_API_BASE": f"http://127.0.0.1:{graph_port}",
        "CHATGATE_COOLDOWN_MS": "0",
        "CHATGATE_RATE_LIMIT_PER_MINUTE": "1000000",
        "CHATGATE_SEND_RATE_PER_SECOND": "1000000",
        "CHATGATE_BOT": args.bot,
        "CHATGATE_ADMIN_TOKEN": "bench",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    })
    if args.redis_url:
        env["CHATGATE_REDIS_URL"] = args.redis_url
    if args.workers:
        env["CHATGATE_WORKER_IN_SERVE"] = "false"
    env.update(dict(item.split("=", 1) for item in args.env))
    return env


def chatgate_exe(args: argparse.Namespace) -> str:
    exe = args.chatgate or str(REPO_DIR / ".venv" / "bin" / "chatgate")
    if not Path(exe).exists():
        exe = shutil.which("chatgate") or exe
    if not Path(exe).exists():
        raise StartupError(f"chatgate executable not found at {exe} (install the project: make run)")
    return exe


def template(cmd: str, **kw: Any) -> list[str]:
    return [part.format(python=sys.executable, bench=str(BENCH_DIR), **kw) for part in shlex.split(cmd)]


def start_servers(args: argparse.Namespace, procs: ProcSet, env: dict[str, str], tmpdir: Path,
                  cpus: set[int] | None) -> tuple[list[str], list[Proc]]:
    migrate = template(args.migrate_cmd) if args.migrate_cmd else None
    if not args.server_cmd:
        migrate = [chatgate_exe(args), "migrate"]
    if migrate:
        log(f"  migrating: {shlex.join(migrate)}")
        try:
            done = subprocess.run(migrate, env=env, capture_output=True, timeout=120,
                                  preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        except subprocess.TimeoutExpired as exc:
            raise StartupError("chatgate migrate did not finish within 120 s") from exc
        if done.returncode != 0:
            err = "\n".join(done.stderr.decode(errors="replace").splitlines()[-30:])
            raise StartupError(f"chatgate migrate exited with status {done.returncode}; stderr tail:\n{err}")
    urls, servers = [], []
    for i in range(args.instances):
        port = args.base_port + i if args.base_port else free_port(args.host)
        if args.server_cmd:
            cmd = template(args.server_cmd, host=args.host, port=port)
        else:
            cmd = [chatgate_exe(args), "serve", "--host", args.host, "--port", str(port)]
        inst_env = dict(env, CHATGATE_PUBLIC_URL=f"http://{args.host}:{port}")
        proc = procs.start(f"serve-{i}", cmd, inst_env, cpus, tmpdir)
        servers.append(proc)
        urls.append(f"http://{args.host}:{port}{args.webhook_path}")
    for i in range(args.workers):
        procs.start(f"worker-{i}", [chatgate_exe(args), "worker"], env, cpus, tmpdir)
    for proc, url in zip(servers, urls):
        took = wait_ready(proc, args.host, urlsplit(url).port or 80, args.ready_timeout)
        log(f"  {proc.name} ready after {took:.1f} s (pid {proc.pid}) at {url}")
    return urls, servers


def pin_self(load_cpus: set[int], server_cpus: set[int]) -> tuple[set[int] | None, set[int] | None]:
    avail = os.sched_getaffinity(0)
    if len(avail) < 2:
        log(f"  warning: only CPU(s) {sorted(avail)} available; not pinning (load and server share)")
        return None, None
    if not load_cpus <= avail or not server_cpus <= avail:
        raise StartupError(f"--load-cpus/--server-cpus must be within the available CPUs {sorted(avail)}")
    if load_cpus & server_cpus:
        log("  warning: --load-cpus and --server-cpus overlap")
    os.sched_setaffinity(0, load_cpus)
    return load_cpus, server_cpus


def run_async(coro: Any) -> Any:
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        return runner.run(coro)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    tmpdir = Path(tempfile.mkdtemp(prefix="chatgate-bench-"))
    procs = ProcSet()
    rc = 0
    try:
        load_cpus, server_cpus = pin_self(parse_cpus(args.load_cpus), parse_cpus(args.server_cpus))
        graph = procs.start(
            "fake-graph",
            [sys.executable, str(BENCH_DIR / "fake_graph.py"), "--port", str(args.graph_port),
             "--token", ACCESS_TOKEN, "--delay-ms", str(args.graph_delay_ms)],
            dict(os.environ), load_cpus, tmpdir, stdout_pipe=True,
        )
        graph_port = read_ready_line(graph, 10.0)
        graph_base = f"http://127.0.0.1:{graph_port}"
        env = server_env(args, tmpdir, graph_port)
        log(f"  fake Graph API at {graph_base} (pid {graph.pid}); tmp {tmpdir}; "
            f"contacts 62811{args.contact_base:07d}..")
        if args.target:
            urls, pids = list(args.target), list(args.server_pid)
            log(f"  using running server(s) {urls}; their CHATGATE_META_API_BASE must be {graph_base}, "
                f"CHATGATE_META_APP_SECRET={SECRET}, CHATGATE_META_PHONE_NUMBER_ID={PHONE_NUMBER_ID}, "
                f"CHATGATE_META_ACCESS_TOKEN={ACCESS_TOKEN}")
        else:
            urls, servers = start_servers(args, procs, env, tmpdir, server_cpus)
            pids = [p.pid for p in servers]
        res = run_async(drive(args, urls, graph_base, pids, graph.pid))
        summary = summarize(args, res, urls, pids)
        text = render(summary)
        if args.json:
            log(text)
            print(json.dumps(summary))
        else:
            print(text)
        dead = [p for p in procs.procs if p.name != "fake-graph" and p.popen.poll() is not None]
        for p in dead:
            log(f"{p.name} (pid {p.pid}) died during the run with status {p.popen.returncode}; "
                f"stderr tail:\n{tail(p.err)}")
        if dead:
            rc = 4
        elif summary["sent"] and not summary["ok_2xx"]:
            rc = 3
    except StartupError as exc:
        log(f"webhook_load: {exc}")
        rc = 2
    except KeyboardInterrupt:
        log("webhook_load: interrupted")
        rc = 130
    finally:
        procs.stop_all()
        if args.keep_tmp:
            log(f"  kept {tmpdir}")
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())

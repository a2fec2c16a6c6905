"""A fake WhatsApp Cloud (Graph) API for the webhook benchmark.

Answers ``POST /{phone_number_id}/messages`` like Meta does::

    {"messaging_product": "whatsapp",
     "contacts": [{"input": "<to>", "wa_id": "<to>"}],
     "messages": [{"id": "wamid.FAKE..."}]}

and records, for every message sent (not for mark-read / typing calls), the receive time
(``time.monotonic()``, CLOCK_MONOTONIC, so comparable with the load process), the
recipient (``to`` or, for username users, ``recipient``) and the text.

Benchmark-only endpoints (the load generator reads them after the run):

- ``GET /_bench/count``   -> ``{"count": n, "other": n, "bad_auth": n, ...}``
- ``GET /_bench/records`` -> ``{"t": [...], "to": [...], "text": [...], ...counters}``
- ``POST /_bench/reset``  -> forget everything recorded so far

Run: ``python bench/fake_graph.py --port 0 [--token T] [--delay-ms 0]``; it prints
``READY <port>`` on stdout once listening. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import signal
import sys
import time
from array import array

import msgspec
from aiohttp import web

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


class Recorder:
    """What the fake API saw: one entry per outbound message, plus counters."""

    def __init__(self, token: str | None, delay: float) -> None:
        self.token = f"Bearer {token}" if token else None
        self.delay = delay
        self.ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        # arrays of ids, not lists of strings: the garbage collector never walks them
        self.t = array("d")
        self.to = array("i")
        self.text = array("i")
        self.names: dict[str, int] = {}
        self.texts: dict[str, int] = {}
        self.other = 0  # mark-read, typing indicators
        self.bad_auth = 0
        self.bad_body = 0
        self.phone_ids: dict[str, int] = {}

    def counters(self) -> dict[str, object]:
        return {
            "count": len(self.t),
            "other": self.other,
            "bad_auth": self.bad_auth,
            "bad_body": self.bad_body,
            "phone_ids": self.phone_ids,
        }


def _text_of(body: dict) -> str:
    kind = body.get("type")
    part = body.get(kind) if isinstance(kind, str) else None
    if not isinstance(part, dict):
        return ""
    if kind == "text":
        return str(part.get("body", ""))
    if kind == "interactive":
        inner = part.get("body")
        return str(inner.get("text", "")) if isinstance(inner, dict) else ""
    return str(part.get("caption", "") or kind)


def build_app(rec: Recorder) -> web.Application:
    async def messages(request: web.Request) -> web.Response:
        now = time.monotonic()
        raw = await request.read()
        pnid = request.match_info["pnid"]
        rec.phone_ids[pnid] = rec.phone_ids.get(pnid, 0) + 1
        if rec.token is not None and request.headers.get("Authorization") != rec.token:
            rec.bad_auth += 1
            return web.Response(
                status=401,
                body=b'{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}',
                content_type="application/json",
            )
        try:
            body = _decode(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (msgspec.DecodeError, ValueError):
            rec.bad_body += 1
            return web.Response(
                status=400,
                body=b'{"error":{"message":"Invalid JSON","type":"OAuthException","code":100}}',
                content_type="application/json",
            )
        if "status" in body and "to" not in body:  # mark read / typing indicator
            rec.other += 1
            return web.Response(body=b'{"success":true}', content_type="application/json")
        to = str(body.get("to") or body.get("recipient") or "")
        rec.t.append(now)
        rec.to.append(rec.names.setdefault(to, len(rec.names)))
        text = _text_of(body)
        rec.text.append(rec.texts.setdefault(text, len(rec.texts)))
        if rec.delay:
            await asyncio.sleep(rec.delay)
        wamid = f"wamid.FAKE{next(rec.ids):012d}"
        out = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": wamid}],
        }
        return web.Response(body=_encode(out), content_type="application/json")

    async def count(_: web.Request) -> web.Response:
        return web.Response(body=_encode(rec.counters()), content_type="application/json")

    async def records(_: web.Request) -> web.Response:
        names, texts = list(rec.names), list(rec.texts)
        out = {
            "t": rec.t.tolist(),
            "to": [names[i] for i in rec.to],
            "text": [texts[i] for i in rec.text],
            **rec.counters(),
        }
        return web.Response(body=_encode(out), content_type="application/json")

    async def reset(_: web.Request) -> web.Response:
        rec.reset()
        return web.Response(body=b"{}", content_type="application/json")

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_get("/_bench/count", count)
    app.router.add_get("/_bench/records", records)
    app.router.add_post("/_bench/reset", reset)
    app.router.add_post("/{pnid}/messages", messages)
    # META_API_BASE may carry a version path (".../v21.0"): accept it too.
    app.router.add_post("/{version}/{pnid}/messages", messages)
    return app


async def serve(host: str, port: int, rec: Recorder) -> None:
    runner = web.AppRunner(build_app(rec), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096, reuse_address=True)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    gc.collect()
    gc.freeze()
    print(f"READY {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token", default=None, help="expected Bearer token (unset: accept any)")
    p.add_argument("--delay-ms", type=float, default=0.0, help="simulated Graph API latency")
    args = p.parse_args(argv)
    if not args.host.startswith("127."):
        print("fake_graph: loopback (127.x) only", file=sys.stderr)
        return 2
    rec = Recorder(args.token, args.delay_ms / 1000.0)
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        runner.run(serve(args.host, args.port, rec))
    return 0


if __name__ == "__main__":
    sys.exit(main())

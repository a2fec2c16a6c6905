"""A tiny stand-in for ``chatgate serve``, to test the benchmark without the real server.

It speaks just enough of Chatgate's surface for ``bench/webhook_load.py``:

- ``GET /ready``, ``GET /health`` -> 200
- ``POST /webhooks/meta``: checks ``X-Hub-Signature-256`` over the raw body against
  ``CHATGATE_META_APP_SECRET`` (403 on a bad or missing one), de-duplicates on the wamid,
  answers 200 at once and queues one text reply per message; a few sender tasks POST the
  replies to ``{CHATGATE_META_API_BASE}/{CHATGATE_META_PHONE_NUMBER_ID}/messages`` with the
  Bearer ``CHATGATE_META_ACCESS_TOKEN`` (a crude outbox).

``--trivial`` turns it into a bare "200 for every POST" server (no signature check, no
reply), to measure what the load generator itself can saturate.

Usage (normally through webhook_load.py's hidden ``--server-cmd``)::

    python bench/standin_server.py --host 127.0.0.1 --port 8001 [--trivial]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import sys
from collections import OrderedDict

import aiohttp
import msgspec
from aiohttp import web

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


class Outbox:
    """Replies waiting to go out, and the tasks that send them."""

    def __init__(self, api_base: str, phone_number_id: str, token: str, senders: int) -> None:
        self.url = f"{api_base.rstrip('/')}/{phone_number_id}/messages"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.senders = senders
        self.tasks: list[asyncio.Task[None]] = []
        self.session: aiohttp.ClientSession | None = None
        self.failed = 0

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.senders)
        self.session = aiohttp.ClientSession(connector=connector)
        self.tasks = [asyncio.create_task(self._run()) for _ in range(self.senders)]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    async def _run(self) -> None:
        assert self.session is not None
        while True:
            to, text = await self.queue.get()
            body = _encode(
                {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}}
            )
            try:
                async with self.session.post(self.url, data=body, headers=self.headers) as resp:
                    await resp.read()
                    if resp.status >= 300:
                        self.failed += 1
            except aiohttp.ClientError:
                self.failed += 1


def verify(secret: bytes, raw: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret, raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[7:])


def build_app(trivial: bool, senders: int) -> web.Application:
    app = web.Application()

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/ready", ok)
    app.router.add_get("/health", ok)
    if trivial:

        async def accept(request: web.Request) -> web.Response:
            await request.read()
            return web.Response()

        app.router.add_post("/{tail:.*}", accept)
        return app

    secret = os.environ["CHATGATE_META_APP_SECRET"].encode()
    outbox = Outbox(
        os.environ["CHATGATE_META_API_BASE"],
        os.environ["CHATGATE_META_PHONE_NUMBER_ID"],
        os.environ.get("CHATGATE_META_ACCESS_TOKEN", ""),
        senders,
    )
    seen: OrderedDict[str, None] = OrderedDict()

    async def meta(request: web.Request) -> web.Response:
        raw = await request.read()
        if not verify(secret, raw, request.headers.get("X-Hub-Signature-256")):
            return web.Response(status=403, text="bad signature")
        payload = _decode(raw)
        for entry in payload.get("entry", ()):
            for change in entry.get("changes", ()):
                for msg in change.get("value", {}).get("messages", ()):
                    wamid = msg.get("id", "")
                    if wamid in seen:
                        continue
                    seen[wamid] = None
                    if len(seen) > 100_000:
                        seen.popitem(last=False)
                    text = msg.get("text", {}).get("body", "")
                    outbox.queue.put_nowait((msg["from"], f"Terima kasih! Kamu menulis: {text}"))
        return web.Response()

    async def on_startup(_: web.Application) -> None:
        await outbox.start()

    async def on_cleanup(_: web.Application) -> None:
        await outbox.stop()

    app.router.add_post("/webhooks/meta", meta)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--trivial", action="store_true", help="200 for every POST, nothing else")
    p.add_argument("--senders", type=int, default=32, help="concurrent outbound reply senders")
    args = p.parse_args(argv)
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    web.run_app(
        build_app(args.trivial, args.senders),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
        loop=loop,
        backlog=4096,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

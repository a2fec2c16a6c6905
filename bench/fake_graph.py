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

import lean_http

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


class Recorder:
    """What the fake API saw: one entry per outbound message, plus counters."""

    def __init__(self, token: str | None, delay: float) -> None:
        self.token = f"Bearer {token}".encode() if token else None
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


_JSON = b"application/json"
_INVALID_TOKEN = b'{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}'
_INVALID_JSON = b'{"error":{"message":"Invalid JSON","type":"OAuthException","code":100}}'


def _phone_number_id(path: bytes) -> str | None:
    # /{pnid}/messages, or /{version}/{pnid}/messages when META_API_BASE carries a version
    parts = path.strip(b"/").split(b"/")
    if parts[-1:] == [b"messages"] and len(parts) in (2, 3):
        return parts[-2].decode("latin-1")
    return None


def handler(rec: Recorder) -> lean_http.Handler:
    """The fake API's routes, as one function of the request (no framework: bench/lean_http.py)."""

    def message(pnid: str, headers: dict[bytes, bytes], raw: bytes) -> tuple[int, bytes, bytes]:
        now = time.monotonic()
        rec.phone_ids[pnid] = rec.phone_ids.get(pnid, 0) + 1
        if rec.token is not None and headers.get(b"authorization") != rec.token:
            rec.bad_auth += 1
            return 401, _JSON, _INVALID_TOKEN
        try:
            body = _decode(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (msgspec.DecodeError, ValueError):
            rec.bad_body += 1
            return 400, _JSON, _INVALID_JSON
        if "status" in body and "to" not in body:  # mark read / typing indicator
            rec.other += 1
            return 200, _JSON, b'{"success":true}'
        to = str(body.get("to") or body.get("recipient") or "")
        rec.t.append(now)
        rec.to.append(rec.names.setdefault(to, len(rec.names)))
        text = _text_of(body)
        rec.text.append(rec.texts.setdefault(text, len(rec.texts)))
        wamid = f"wamid.FAKE{next(rec.ids):012d}"
        out = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": wamid}],
        }
        return 200, _JSON, _encode(out)

    def records() -> bytes:
        names, texts = list(rec.names), list(rec.texts)
        return _encode({
            "t": rec.t.tolist(),
            "to": [names[i] for i in rec.to],
            "text": [texts[i] for i in rec.text],
            **rec.counters(),
        })

    def handle(method: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes) -> tuple[int, bytes, bytes]:
        if method == b"POST" and (pnid := _phone_number_id(path)) is not None:
            return message(pnid, headers, body)
        if method == b"GET" and path == b"/_bench/count":
            return 200, _JSON, _encode(rec.counters())
        if method == b"GET" and path == b"/_bench/records":
            return 200, _JSON, records()
        if method == b"POST" and path == b"/_bench/reset":
            rec.reset()
            return 200, _JSON, b"{}"
        return 404, _JSON, b'{"error":"not found"}'

    return handle


async def serve(host: str, port: int, rec: Recorder) -> None:
    server = await lean_http.serve(handler(rec), host, port, delay=rec.delay)
    bound = server.sockets[0].getsockname()[1]
    gc.collect()
    gc.freeze()
    print(f"READY {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


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

"""A loopback HTTP server that stands in for a provider's REST API in contract tests.

It records every request exactly as it arrived and answers from a per-path script of
responses, falling back to a default. Point an adapter's ``*_API_BASE`` at ``base_url``::

    async with ProviderServer() as server:
        server.script("/123/messages", [Response(500), Response(200, {"ok": True})])
        ...  # exercise the adapter against server.base_url
        assert server.requests[0].json == {...}

A scripted entry may also be a callable ``(RecordedRequest) -> Response`` for answers that
depend on the request (say, a fresh message id per call). Used by every provider's contract
tests (Meta, Twilio, Telegram, WAHA): keep it provider-neutral.
"""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy


@dataclass(frozen=True)
class Response:
    """One scripted answer: a status, and a JSON body or raw bytes, plus headers.

    ``delay`` seconds pass before it is sent, so a test can trip a client's timeout.
    """

    status: int = 200
    json: Any = None
    _: KW_ONLY
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | str | None = None
    delay: float = 0.0


Responder = Response | Callable[["RecordedRequest"], Response]


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """One request as the provider would have received it."""

    method: str
    path: str
    query: MultiDictProxy[str]
    headers: CIMultiDictProxy[str]
    body: bytes
    json: Any
    """The parsed body when it was JSON, else None."""
    form: Mapping[str, list[str]] | None
    """The parsed body when it was form-urlencoded (every value a list), else None."""
    received_at: float
    """``time.monotonic()`` at arrival, to check pacing and ordering."""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class ProviderServer:
    """A recording, scriptable HTTP server on 127.0.0.1 at a free port."""

    def __init__(self, *, default: Responder | None = None) -> None:
        self.default: Responder = default if default is not None else Response(200, {})
        self.requests: list[RecordedRequest] = []
        self._scripts: dict[tuple[str | None, str], collections.deque[Responder]] = {}
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, responses: Iterable[Responder], *, method: str | None = None) -> None:
        """Queue answers for ``path`` (and ``method`` when given), used once each, in order."""
        self._scripts.setdefault((method and method.upper(), path), collections.deque()).extend(responses)

    def requests_to(self, path: str, *, method: str | None = None) -> list[RecordedRequest]:
        return [
            r for r in self.requests if r.path == path and (method is None or r.method == method.upper())
        ]

    def reset(self) -> None:
        """Forget the recorded requests and every script (the default stays)."""
        self.requests.clear()
        self._scripts.clear()

    async def wait_for_requests(
        self, count: int, *, path: str | None = None, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Wait until ``count`` requests (to ``path``, when given) have arrived; return them."""

        def matching() -> list[RecordedRequest]:
            return self.requests if path is None else self.requests_to(path)

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(matching()) >= count), timeout)
        return matching()

    async def start(self) -> ProviderServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ProviderServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        recorded = await _record(request)
        async with self._arrived:
            self.requests.append(recorded)
            self._arrived.notify_all()
        responder = self._next_responder(recorded)
        response = responder(recorded) if callable(responder) else responder
        if response.delay:
            await asyncio.sleep(response.delay)
        return _to_web_response(response)

    def _next_responder(self, recorded: RecordedRequest) -> Responder:
        for key in ((recorded.method, recorded.path), (None, recorded.path)):
            queue = self._scripts.get(key)
            if queue:
                return queue.popleft()
        return self.default


async def _record(request: web.Request) -> RecordedRequest:
    body = await request.read()
    content_type = request.content_type
    parsed_json: Any = None
    form: dict[str, list[str]] | None = None
    if body and (content_type == "application/json" or content_type.endswith("+json")):
        try:
            parsed_json = json.loads(body)
        except ValueError:
            parsed_json = None
    elif content_type == "application/x-www-form-urlencoded":
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return RecordedRequest(
        method=request.method,
        path=request.path,
        query=MultiDictProxy(MultiDict(request.query)),
        headers=CIMultiDictProxy(CIMultiDict(request.headers)),
        body=body,
        json=parsed_json,
        form=form,
        received_at=time.monotonic(),
    )


def _to_web_response(response: Response) -> web.Response:
    headers = dict(response.headers)
    if response.body is not None:
        body = response.body.encode() if isinstance(response.body, str) else response.body
        return web.Response(status=response.status, body=body, headers=headers)
    if response.json is None:
        return web.Response(status=response.status, headers=headers)
    headers.setdefault("Content-Type", "application/json")
    return web.Response(status=response.status, body=json.dumps(response.json).encode(), headers=headers)


def refused_base_url() -> str:
    """A loopback URL where nothing listens, to provoke "connection refused"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"

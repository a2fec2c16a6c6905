"""HTTP/1.1 over asyncio protocols and httptools, for the benchmark's own side of the wire.

The load generator and the fake Graph API share the machine with the servers they measure.
Through aiohttp (client and aiohttp.web) they took a sixth of the machine at 470 msgs/s
(bench/README.md, "Sixth session"): every cycle they spend is one the servers wait for.
These two classes do only what the benchmark needs — keep-alive connections, Content-Length
bodies, no chunking, no redirects, no TLS — for half of aiohttp's CPU per request or less.
Chatgate's own sends stay on aiohttp: this is the benchmark's instrument, not the product.

- ``Pool``: a client of one server with at most ``limit`` keep-alive connections; a request
  waits for a free connection, then for its response.
- ``serve``: a server that hands each complete request to a plain function and writes its
  answer back, in order, on the same connection.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable

import httptools

_REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 404: b"Not Found"}


class _ClientConnection(asyncio.Protocol):
    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.answer: asyncio.Future[int] | None = None
        self.open = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)
            assert self.transport is not None
            self.transport.close()

    def on_message_complete(self) -> None:
        keep = self._parser.should_keep_alive()
        answer, self.answer = self.answer, None
        if not keep:
            self.open = False
            assert self.transport is not None
            self.transport.close()
        if answer is not None and not answer.done():
            answer.set_result(self._parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self._fail(exc or ConnectionResetError("connection closed before the response"))
        self._pool.lost(self)

    def _fail(self, exc: Exception) -> None:
        answer, self.answer = self.answer, None
        if answer is not None and not answer.done():
            answer.set_exception(exc)


class Pool:
    """Keep-alive connections to one loopback server, at most ``limit`` of them.

    One pool per server, so that a connection given back always suits the request it wakes.
    """

    def __init__(self, host: str, port: int, *, limit: int, timeout: float) -> None:
        self._host = host
        self._port = port
        self._limit = limit
        self._timeout = timeout
        self._idle: list[_ClientConnection] = []
        self._count = 0
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    async def post(self, head: bytes, body: bytes) -> int:
        """POST ``body`` with the request line and headers ``head`` (no Content-Length: added
        here, no blank line); the response's status code."""
        async with asyncio.timeout(self._timeout):
            conn = await self._connection()
            try:
                answer = conn.answer = asyncio.get_running_loop().create_future()
                assert conn.transport is not None
                conn.transport.write(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))
                status = await answer
            except BaseException:
                self._discard(conn)
                raise
        if conn.open:
            self._idle.append(conn)
        self._wake_one()
        return status

    def close(self) -> None:
        for conn in self._idle:
            self._discard(conn)
        self._idle.clear()

    async def _connection(self) -> _ClientConnection:
        while True:
            while self._idle:
                conn = self._idle.pop()
                if conn.open:
                    return conn
            if self._count < self._limit:
                self._count += 1
                try:
                    _, conn = await asyncio.get_running_loop().create_connection(
                        lambda: _ClientConnection(self), self._host, self._port)
                except BaseException:
                    self._count -= 1
                    self._wake_one()
                    raise
                return conn
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # pass on the wake-up this request will not use
                raise

    def _discard(self, conn: _ClientConnection) -> None:
        # A request cut short leaves its connection mid-answer: it cannot carry another.
        if conn.open:
            conn.open = False
            assert conn.transport is not None
            conn.transport.close()

    def lost(self, conn: _ClientConnection) -> None:
        self._count -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


#: A request's method, path, headers (names lower-case) and body → status, content type, body.
Handler = Callable[[bytes, bytes, dict[bytes, bytes], bytes], tuple[int, bytes, bytes]]


class _ServerConnection(asyncio.Protocol):
    def __init__(self, handle: Handler, delay: float) -> None:
        self._handle = handle
        self._delay = delay
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(400, b"application/json", b'{"error":"bad request"}', keep=False)

    def on_message_begin(self) -> None:
        self._url, self._headers, self._body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        path = httptools.parse_url(self._url).path
        status, kind, body = self._handle(self._parser.get_method(), path, self._headers, b"".join(self._body))
        keep = self._parser.should_keep_alive()
        if self._delay and path.endswith(b"/messages"):
            asyncio.get_running_loop().call_later(self._delay, self._write, status, kind, body, keep)
        else:
            self._write(status, kind, body, keep)

    def _write(self, status: int, kind: bytes, body: bytes, keep: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n%s" % (
            status, _REASONS.get(status, b"Other"), kind, len(body),
            b"" if keep else b"Connection: close\r\n", body))
        if not keep:
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


async def serve(handle: Handler, host: str, port: int, *, delay: float = 0.0) -> asyncio.Server:
    """Listen on ``host:port`` (0: any free port); each request goes to ``handle``."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _ServerConnection(handle, delay), host, port,
                                    backlog=4096, reuse_address=True)

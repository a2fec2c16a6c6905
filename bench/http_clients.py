"""CPU per provider send: aiohttp against httpx, the two candidate HTTP clients.

Starts a trivial JSON server in a child process (pinned to the other core when there are two),
then POSTs the same Graph-API-shaped body N times through each client, sequentially and with
50 in flight, and prints the client process's CPU time per request. Loopback only, bounded:

    .venv/bin/python bench/http_clients.py --requests 5000
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import time

import aiohttp
import httpx

BODY = b'{"messaging_product":"whatsapp","recipient_type":"individual","to":"6281234567890",' \
       b'"type":"text","text":{"body":"Halo, selamat datang!","preview_url":false}}'
ANSWER = b'{"messaging_product":"whatsapp","messages":[{"id":"wamid.X="}]}'


def _serve(port: int) -> None:
    from aiohttp import web

    if os.cpu_count() and os.cpu_count() > 1:
        os.sched_setaffinity(0, {1})

    async def answer(_: web.Request) -> web.Response:
        return web.Response(body=ANSWER, content_type="application/json")

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _aiohttp(url: str, n: int, concurrency: int) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def one() -> None:
            async with session.post(url, data=BODY, headers={"Content-Type": "application/json"}) as r:
                await r.read()
        return await _timed(one, n, concurrency)


async def _httpx(url: str, n: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:
        async def one() -> None:
            (await client.post(url, content=BODY, headers={"Content-Type": "application/json"})).read()
        return await _timed(one, n, concurrency)


async def _timed(one, n: int, concurrency: int) -> float:  # type: ignore[no-untyped-def]
    for _ in range(50):
        await one()  # warm the pool
    started = time.process_time()
    queue = iter(range(n))

    async def lane() -> None:
        for _ in queue:
            await one()

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return (time.process_time() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    if os.cpu_count() and os.cpu_count() > 1:
        os.sched_setaffinity(0, {0})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        time.sleep(1.0)
        url = f"http://127.0.0.1:{port}/v21.0/106540352242922/messages"
        for name, run in (("aiohttp", _aiohttp), ("httpx", _httpx)):
            for concurrency in (1, 50):
                cpu = asyncio.run(run(url, args.requests, concurrency))
                print(f"{name:8s} {concurrency:3d} in flight: {cpu:7.1f} µs CPU per send")
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()

"""CPU per Redis call from redis-py's asyncio client: one key at a time against one MGET, with
its pure-Python reply parser against hiredis's. The figures behind grouping commands
(``adapters/redis/client.py``, ``GroupedCommands``) and the ``redis[hiredis]`` dependency.

    .venv/bin/python bench/redis_calls.py [--url redis://127.0.0.1:6379/3] [--calls 5000]

It touches only the key ``chatgate:bench:k`` on the given database.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from redis._parsers import _AsyncHiredisParser, _AsyncRESP2Parser
from redis.asyncio import Redis


async def measure(url: str, parser: type, calls: int, width: int = 50) -> tuple[float, float]:
    client = Redis.from_url(url, parser_class=parser)
    try:
        await client.set("chatgate:bench:k", "1", ex=60)
        keys = ["chatgate:bench:k"] * width
        started = time.process_time()
        for _ in range(calls):
            await client.exists("chatgate:bench:k")
        single = (time.process_time() - started) / calls * 1e6
        started = time.process_time()
        for _ in range(calls // 10):
            await client.mget(keys)
        batched = (time.process_time() - started) / (calls // 10) * 1e6
        return single, batched
    finally:
        await client.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    for _ in range(2):
        for reply_parser in (_AsyncRESP2Parser, _AsyncHiredisParser):
            single, batched = await measure(args.url, reply_parser, args.calls)
            print(f"{reply_parser.__name__:22} one key: {single:6.0f} µs CPU per call   "
                  f"MGET of 50 keys: {batched:6.0f} µs CPU per call ({batched / 50:5.1f} per key)")


if __name__ == "__main__":
    asyncio.run(main())

"""``chatgate worker``: the dispatcher and the turn scheduler without the HTTP server."""

from __future__ import annotations

import asyncio
import signal

from entrypoints.container import build_container, freeze_startup_heap, resolve
from entrypoints.settings import Settings


async def run_worker(settings: Settings) -> None:
    """Run the background loops until SIGTERM or SIGINT."""
    container = build_container(settings)
    # Alone, the worker learns of new messages only from the database: sweep it often.
    container.core.worker.add_kwargs(sweep_every=0.1, sweep_grace=0.0)
    await container.init_resources()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker = await resolve(container.core.worker)
    freeze_startup_heap()
    task = asyncio.create_task(worker.run())
    print("chatgate: worker running", flush=True)
    try:
        await stop.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await container.shutdown_resources()

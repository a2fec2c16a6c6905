"""``chatgate chat``: a conversation in the terminal, through the same application layer."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

from dependency_injector import providers

from adapters.sandbox.senders import TerminalSender
from domain.contacts import telegram_contact, whatsapp_contact
from domain.messages import Channel, InboundMessage, WebhookBatch
from entrypoints.container import build_container, resolve
from entrypoints.settings import Settings

_DEFAULT_CONTACTS = {"whatsapp": "+6281200000000", "telegram": "100000001"}


async def run_chat(settings: Settings, *, channel: str, contact: str | None) -> None:
    """Read lines from standard input, print the bot's replies, until end of input."""
    container = build_container(settings)
    container.channels.extra.override(providers.Object({"terminal": TerminalSender(_show)}))
    await container.init_resources()
    worker = asyncio.create_task((await resolve(container.core.worker)).run())
    handle = await resolve(container.core.handle_inbound)
    who = contact or _DEFAULT_CONTACTS[channel]
    print(f"chatgate: chatting with bot {settings.bot.name!r} as {who} on {channel}; Ctrl-D ends.", flush=True)
    try:
        while (line := await asyncio.to_thread(sys.stdin.readline)) != "":
            await handle(WebhookBatch(messages=(_message(channel, who, line.rstrip("\n")),)))
        await _drain(container, settings)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await container.shutdown_resources()


async def _drain(container, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    # At end of input, wait for the last turn (after its cool-down) and its replies to go out.
    await asyncio.sleep(settings.limits.cooldown_seconds + 0.3)
    outbox = await resolve(container.storage.outbox)
    deadline = time.monotonic() + 10
    while await outbox.pending_count() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


def _show(text: str) -> None:
    print(f"bot> {text}\n", flush=True)


def _message(channel: str, who: str, text: str) -> InboundMessage:
    contact = whatsapp_contact(who) if channel == "whatsapp" else telegram_contact(int(who))
    return InboundMessage(
        channel=Channel(channel),
        provider="terminal",
        provider_message_id=uuid.uuid4().hex,
        contact=contact,
        reply_address=who,
        received_at=time.time(),
        text=text,
        profile_name="terminal",
    )

"""Senders with no provider behind them: the browser sandbox and the terminal chat."""

from __future__ import annotations

from collections.abc import Callable

from application.ports.channels import SendReceipt
from domain.messages import OutboundMessage, reply_text


class SandboxSender:
    """The sandbox channel: the reply stays in the outbox, where the browser reads it."""

    provider = "sandbox"

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Accept the reply at once."""
        return SendReceipt(provider_message_id=f"sandbox-{message.outbox_id}")


class TerminalSender:
    """``chatgate chat``: replies are printed for the person at the terminal."""

    provider = "terminal"

    def __init__(self, show: Callable[[str], None]) -> None:
        self._show = show

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Show the reply as a text-only channel renders it."""
        self._show(reply_text(message.reply))
        return SendReceipt(provider_message_id=f"terminal-{message.outbox_id}")

"""What the use cases report for metrics."""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    """Counters and timings of the gateway's work."""

    def inbound(self, channel: str, provider: str, outcome: str) -> None:
        """One inbound message and what became of it."""
        ...

    def outbound(self, channel: str, provider: str, status: str) -> None:
        """One send attempt and its result."""
        ...

    def processed(self, seconds: float) -> None:
        """How long a batch of turns took, from load to commit."""
        ...

    def coordination_degraded(self, degraded: bool) -> None:
        """Whether the shared coordination service (Redis) is failing."""
        ...

"""PrometheusTelemetry: the ``Telemetry`` port as prometheus-client metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class PrometheusTelemetry:
    """Counters, a histogram and gauges in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._inbound = Counter(
            "chatgate_inbound_messages_total", "Inbound messages by what became of them",
            ["channel", "provider", "outcome"], registry=self.registry,
        )
        self._outbound = Counter(
            "chatgate_outbound_messages_total", "Outbound send attempts by result",
            ["channel", "provider", "status"], registry=self.registry,
        )
        self._processing = Histogram(
            "chatgate_processing_seconds", "Time to run a batch of turns, load to commit",
            buckets=_BUCKETS, registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "chatgate_outbox_pending", "Outbox jobs waiting to be sent", registry=self.registry,
        )
        self._degraded = Gauge(
            "chatgate_coordination_degraded", "1 while Redis is unreachable and the database alone guards",
            registry=self.registry,
        )

    def inbound(self, channel: str, provider: str, outcome: str) -> None:
        """One inbound message and what became of it."""
        self._inbound.labels(channel, provider, outcome).inc()

    def outbound(self, channel: str, provider: str, status: str) -> None:
        """One send attempt and its result."""
        self._outbound.labels(channel, provider, status).inc()

    def processed(self, seconds: float) -> None:
        """How long a batch of turns took."""
        self._processing.observe(seconds)

    def coordination_degraded(self, degraded: bool) -> None:
        """Whether Redis is failing."""
        self._degraded.set(1 if degraded else 0)

    def exposition(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)

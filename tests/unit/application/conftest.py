"""Fixtures of the use-case tests: a ``Gateway`` (see ``faked_gateway``) per test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.messages import InboundMessage
from faked_gateway import Gateway


@pytest.fixture
def make_gateway(make_inbound: Callable[..., InboundMessage]) -> Callable[..., Gateway]:
    """``make_gateway(env={...}, db=..., clock=...)``: a gateway with these settings."""
    def make(env: dict[str, str] | None = None, **kwargs: Any) -> Gateway:
        return Gateway(make_inbound, env, **kwargs)
    return make


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway]) -> Gateway:
    """A gateway on the default unit-test settings (franchise bot, admin chat, 1.5 s cool-down)."""
    return make_gateway()

"""Fixtures shared by the contract tests: a loopback stand-in for providers' REST APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from provider_server import ProviderServer


@pytest.fixture
async def provider_server() -> AsyncIterator[ProviderServer]:
    """A fresh recording server per test; point an adapter's ``*_API_BASE`` at ``base_url``."""
    async with ProviderServer() as server:
        yield server

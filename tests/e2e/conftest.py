"""Fixtures of the end-to-end tests: a gateway on SQLite and the providers it talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway import Gateway, gateway_settings, script_providers, start_gateway
from provider_server import ProviderServer, Response


@pytest.fixture
async def providers() -> AsyncIterator[ProviderServer]:
    async with ProviderServer(default=Response(404, {"error": "unexpected path"})) as server:
        script_providers(server)
        yield server


@pytest.fixture
async def gateway(tmp_path, providers: ProviderServer) -> AsyncIterator[Gateway]:
    client = await start_gateway(gateway_settings(tmp_path, providers), providers)
    async with client:
        yield Gateway(client, providers)

"""A whole gateway in the test's event loop: the real container and Litestar app, on SQLite,
with the providers' REST APIs played by a loopback recording server (tests/e2e)."""

from __future__ import annotations

import asyncio
import itertools

from litestar.testing import AsyncTestClient

import meta_webhooks
from adapters.sql.migrate import upgrade
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import load_settings
from provider_server import ProviderServer, RecordedRequest, Response

APP_SECRET = "e2e-app-secret"
ADMIN_TOKEN = "e2e-admin-token"
TELEGRAM_TOKEN = "123456:e2e-token"
ADMIN_CHAT = "-1001234567890"
_sent_ids = itertools.count(1)


def _graph_answer(request: RecordedRequest) -> Response:
    to = (request.json or {}).get("to", "")
    wamid = f"wamid.SENT{next(_sent_ids)}="
    return Response(200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                          "messages": [{"id": wamid}]})


def _telegram_answer(request: RecordedRequest) -> Response:
    fields = request.json or {key: values[0] for key, values in (request.form or {}).items()}
    chat_id = int(fields.get("chat_id", ADMIN_CHAT))
    return Response(200, {"ok": True, "result": {"message_id": next(_sent_ids), "date": 0,
                                                  "chat": {"id": chat_id, "type": "private"}}})


class Gateway:
    """Drive the gateway as Meta would, and read what Meta and Telegram received."""

    def __init__(self, client: AsyncTestClient, providers: ProviderServer) -> None:
        self.client = client
        self.providers = providers
        self.graph_path = f"/{meta_webhooks.PHONE_NUMBER_ID}/messages"
        self.telegram_path = f"/bot{TELEGRAM_TOKEN}/sendMessage"

    async def post_webhook(self, body: bytes, *, signature: str | None = "valid") -> int:
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers["X-Hub-Signature-256"] = meta_webhooks.sign(body, APP_SECRET)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        response = await self.client.post("/webhooks/meta", content=body, headers=headers)
        return response.status_code

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        """Any provider's webhook, as that provider sends it."""
        return (await self.client.post(path, content=body, headers=headers)).status_code

    def sent(self) -> list[dict]:
        return [r.json for r in self.providers.requests_to(self.graph_path)]

    def admin_notices(self) -> list[dict]:
        return [r.json for r in self.providers.requests_to(self.telegram_path)]

    async def say(self, wa_id: str, body: bytes) -> dict:
        """Post a signed webhook and return the one reply Meta received for it."""
        before = len(self.sent())
        assert await self.post_webhook(body) == 200
        await self.providers.wait_for_requests(before + 1, path=self.graph_path, timeout=10)
        await asyncio.sleep(0.1)  # a second reply, if one were (wrongly) sent, would land here
        replies = self.sent()[before:]
        assert len(replies) == 1, replies
        assert replies[0]["to"] == wa_id
        return replies[0]

    async def quiet(self, seconds: float = 0.6) -> None:
        """Let the worker run, to check that nothing more goes out."""
        await asyncio.sleep(seconds)

    async def admin(self, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return await self.client.request(method, path, headers=headers, **kwargs)


def gateway_settings(tmp_path, providers: ProviderServer, **overrides: str):  # type: ignore[no-untyped-def]
    env = {
        "CHATGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/chatgate.db",
        "CHATGATE_BOT": "franchise_leads",
        "CHATGATE_WHATSAPP_PROVIDER": "meta",
        "CHATGATE_META_APP_SECRET": APP_SECRET,
        "CHATGATE_META_ACCESS_TOKEN": "e2e-access-token",
        "CHATGATE_META_VERIFY_TOKEN": "e2e-verify",
        "CHATGATE_META_PHONE_NUMBER_ID": meta_webhooks.PHONE_NUMBER_ID,
        "CHATGATE_META_API_BASE": providers.base_url,
        "CHATGATE_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "CHATGATE_TELEGRAM_API_BASE": providers.base_url,
        "CHATGATE_TELEGRAM_ADMIN_CHAT_ID": ADMIN_CHAT,
        "CHATGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "CHATGATE_COOLDOWN_MS": "0",
        **{f"CHATGATE_{key.upper()}": value for key, value in overrides.items()},
    }
    return load_settings(env)


def script_providers(server: ProviderServer) -> None:
    """Answer the Graph API and the Bot API as they would."""
    server.script(f"/{meta_webhooks.PHONE_NUMBER_ID}/messages", [_graph_answer] * 1000)
    server.script(f"/bot{TELEGRAM_TOKEN}/sendMessage", [_telegram_answer] * 100)
    server.script(f"/bot{TELEGRAM_TOKEN}/answerCallbackQuery", [Response(200, {"ok": True, "result": True})] * 100)


async def start_gateway(settings, providers: ProviderServer, adjust=None):  # type: ignore[no-untyped-def]
    """The app over a fresh container; ``adjust(container)`` may override providers first."""
    await asyncio.to_thread(upgrade, settings.database.url)
    container = build_container(settings)
    if adjust is not None:
        adjust(container)
    app = create_app(container, admin_token=ADMIN_TOKEN, run_worker=True)
    return AsyncTestClient(app)

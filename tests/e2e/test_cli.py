"""The ``chatgate`` command as an operator runs it: real processes, real sockets."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

import meta_webhooks as wa
from gateway import APP_SECRET
from provider_server import ProviderServer

CHATGATE = str(Path(sys.executable).with_name("chatgate"))


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGATE_")}
    env["CHATGATE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    env.update({f"CHATGATE_{k.upper()}": v for k, v in values.items()})
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("COOLDOWN_MS", "soon"), ("WHATSAPP_PROVIDER", "whatsap"), ("DATABASE_URL", "not a url"), ("BOT", "nobody")],
)
def test_a_bad_setting_stops_every_command_with_one_sentence_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    # A pack may be stored after migrating, so `migrate` alone does not check BOT.
    commands = (["serve"], ["worker"]) if variable == "BOT" else (["serve"], ["migrate"], ["worker"])
    for command in commands:
        done = subprocess.run([CHATGATE, *command], env=_env(tmp_path, **{variable: value}),
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, done.stderr
        assert f"CHATGATE_{variable}" in lines[0] or variable.lower() in lines[0] or value in lines[0]


def test_meta_provider_without_its_secret_is_refused_at_start_up(tmp_path: Path) -> None:
    done = subprocess.run([CHATGATE, "serve"], env=_env(tmp_path, whatsapp_provider="meta"),
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and "CHATGATE_META_" in done.stderr and "Traceback" not in done.stderr


async def test_served_process_answers_a_signed_webhook_through_the_graph_api(tmp_path: Path) -> None:
    port = _free_port()
    async with ProviderServer() as graph:
        graph.script(f"/{wa.PHONE_NUMBER_ID}/messages", [
            lambda _: __import__("provider_server").Response(200, {"messages": [{"id": "wamid.OUT="}]})])
        env = _env(tmp_path, whatsapp_provider="meta", meta_app_secret=APP_SECRET, meta_access_token="t",
                   meta_verify_token="v", meta_phone_number_id=wa.PHONE_NUMBER_ID,
                   meta_api_base=graph.base_url, cooldown_ms="0", admin_token="cli-admin", bot="franchise_leads")
        migrate = await asyncio.to_thread(subprocess.run, [CHATGATE, "migrate"], env=env, capture_output=True,
                                          timeout=60, stdin=subprocess.DEVNULL)
        assert migrate.returncode == 0, migrate.stderr
        server = subprocess.Popen([CHATGATE, "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                await _until_ready(http)
                body = wa.text("6281234567890", "halo")
                async with http.post("/webhooks/meta", data=body,
                                     headers={"X-Hub-Signature-256": wa.sign(body, APP_SECRET)}) as response:
                    assert response.status == 200
                [request] = await graph.wait_for_requests(1, timeout=15)
                assert request.json["to"] == "6281234567890"
                assert request.headers["Authorization"] == "Bearer t"
                async with http.get("/api/v1/leads", headers={"Authorization": "Bearer cli-admin"}) as leads:
                    assert (await leads.json())["items"][0]["contact"]["phone"] == "+6281234567890"
        finally:
            server.send_signal(signal.SIGTERM)
            await asyncio.to_thread(server.wait, 15)
        assert "Traceback" not in server.stderr.read().decode()


async def _until_ready(http: aiohttp.ClientSession) -> None:
    for _ in range(150):
        try:
            async with http.get("/ready") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("chatgate serve did not become ready")


def test_chat_in_the_terminal_talks_to_the_bot(tmp_path: Path) -> None:
    done = subprocess.run([CHATGATE, "chat"], env=_env(tmp_path, cooldown_ms="0", bot="franchise_leads"),
                          input="hello\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "bot> " in done.stdout and "1. " in done.stdout


def test_flows_validate_names_each_problem_and_accepts_a_good_pack(tmp_path: Path) -> None:
    from importlib import resources
    import json

    good = tmp_path / "good.json"
    good.write_bytes(resources.files("domain.packs").joinpath("franchise_leads.json").read_bytes())
    ok = subprocess.run([CHATGATE, "flows", "validate", str(good)], env=_env(tmp_path), capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0 and "is valid" in ok.stdout

    broken = json.loads(good.read_text())
    first_flow = next(iter(broken["flows"].values()))
    first_flow["start"] = "missing_step"
    bad = tmp_path / "bad.yaml"
    import yaml

    bad.write_text(yaml.safe_dump(broken))
    refused = subprocess.run([CHATGATE, "flows", "validate", str(bad)], env=_env(tmp_path), capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 1 and "missing_step" in refused.stderr and "Traceback" not in refused.stderr


def test_flows_list_shows_the_packs_and_which_one_answers(tmp_path: Path) -> None:
    listed = subprocess.run([CHATGATE, "flows", "list"], env=_env(tmp_path, bot="franchise_leads"),
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0
    assert any(line.startswith("* franchise_leads") for line in listed.stdout.splitlines())

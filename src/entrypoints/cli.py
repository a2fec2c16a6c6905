"""The ``chatgate`` command: serve, worker, migrate, chat."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Sequence

from domain.bots import UnknownBot, bot_named
from domain.errors import DomainError
from entrypoints.settings import Settings, SettingsError, load_settings

log = logging.getLogger("chatgate")


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; a configuration mistake is one sentence and exit status 2."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get("CHATGATE_LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("twilio").setLevel(logging.WARNING)  # it logs every request at INFO
    try:
        settings = load_settings(os.environ)
        _check_bot(settings)
        return args.run(settings, args)
    except (SettingsError, DomainError) as exc:
        print(f"chatgate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatgate", description="A conversational messaging gateway.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="the HTTP server (webhooks, admin API, metrics, sandbox)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)
    commands.add_parser("worker", help="the outbox dispatcher and scheduler alone").set_defaults(run=_worker)
    commands.add_parser("migrate", help="bring the database schema to the newest version").set_defaults(run=_migrate)
    chat = commands.add_parser("chat", help="talk to the configured bot in the terminal")
    chat.add_argument("--channel", choices=("whatsapp", "telegram"), default="whatsapp")
    chat.add_argument("--contact", default=None, help="the contact you pretend to be (default: a test number)")
    chat.set_defaults(run=_chat)
    return parser


def _check_bot(settings: Settings) -> None:
    try:
        bot_named(settings.bot.name)
    except UnknownBot as exc:
        known = ", ".join(exc.known)
        raise SettingsError(f"CHATGATE_BOT must be one of {known}, got {settings.bot.name!r}.") from exc


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from adapters.sql.migrate import upgrade

    upgrade(settings.database.url)
    print("chatgate: the database schema is up to date.")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from entrypoints.container import build_container
    from entrypoints.http.app import create_app

    if settings.database.is_sqlite:
        _migrate_quietly(settings)
    token = settings.admin.token or _generated_token()
    container = build_container(settings)
    app = create_app(container, admin_token=token, run_worker=settings.worker.in_serve)
    config = uvicorn.Config(app, host=args.host, port=args.port, loop="uvloop", http="httptools",
                            access_log=False, log_level="warning", lifespan="on")
    for warning in settings.warnings():
        print(f"chatgate: warning: {warning}", file=sys.stderr, flush=True)
    print(f"chatgate: serving bot {settings.bot.name!r} on http://{args.host}:{args.port}", flush=True)
    uvicorn.Server(config).run()
    return 0


def _worker(settings: Settings, _: argparse.Namespace) -> int:
    from entrypoints.runner import run_worker

    asyncio.run(run_worker(settings))
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.terminal import run_chat

    if settings.database.is_sqlite:
        _migrate_quietly(settings)
    asyncio.run(run_chat(settings, channel=args.channel, contact=args.contact))
    return 0


def _migrate_quietly(settings: Settings) -> None:
    # The embedded database is ours alone: keep it current without a separate step.
    from adapters.sql.migrate import upgrade

    upgrade(settings.database.url)


def _generated_token() -> str:
    token = secrets.token_urlsafe(24)
    print(f"chatgate: CHATGATE_ADMIN_TOKEN is unset; this run's admin token is {token}", flush=True)
    return token


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

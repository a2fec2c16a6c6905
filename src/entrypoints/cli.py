"""The ``chatgate`` command: serve, worker, migrate, chat."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Sequence

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
    flows = commands.add_parser("flows", help="check a flow pack file; list the packs").add_subparsers(
        required=True, metavar="ACTION")
    validate = flows.add_parser("validate", help="check a pack file (JSON or YAML)")
    validate.add_argument("path")
    validate.set_defaults(run=_flows_validate)
    flows.add_parser("list", help="the packs there are, and which one answers").set_defaults(run=_flows_list)
    return parser


def _check_bot(settings: Settings) -> None:
    """BOT must name a pack: one Chatgate ships, or one stored through the admin API."""
    from adapters.packs.shipped import shipped_pack, shipped_pack_names

    _check_data_files(settings)
    name = settings.bot.name
    if shipped_pack(name) is not None or name in asyncio.run(_stored_pack_names(settings)):
        return
    known = ", ".join(shipped_pack_names())
    raise SettingsError(
        f"CHATGATE_BOT must name a pack ({known}, or one stored through /api/v1/flows), got {name!r}."
    )


def _check_data_files(settings: Settings) -> None:
    from adapters.packs.files import PackFileError, load_catalogue, load_reference

    for variable, path, load in (("CHATGATE_CATALOGUE_FILE", settings.bot.catalogue_file, load_catalogue),
                                 ("CHATGATE_REFERENCE_FILE", settings.bot.reference_file, load_reference)):
        if path:
            try:
                load(path)
            except PackFileError as exc:
                raise SettingsError(f"{variable} names a file that cannot be used: {exc}.") from exc


async def _stored_pack_names(settings: Settings) -> list[str]:
    from adapters.sql.database import open_database
    from adapters.sql.packs import SqlPackStore

    database = open_database(settings.database.url)
    try:
        return await SqlPackStore(database).names()
    except Exception:  # an unmigrated or unreachable database stores no pack
        return []
    finally:
        await database.dispose()


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
    _check_bot(settings)
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

    _check_bot(settings)
    asyncio.run(run_worker(settings))
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.terminal import run_chat

    if settings.database.is_sqlite:
        _migrate_quietly(settings)
    _check_bot(settings)
    asyncio.run(run_chat(settings, channel=args.channel, contact=args.contact))
    return 0


def _flows_validate(_: Settings, args: argparse.Namespace) -> int:
    from adapters.packs.files import PackFileError, load_pack

    try:
        pack = load_pack(args.path)
    except PackFileError as exc:
        for problem in exc.problems:
            print(f"{exc.path}: {problem}", file=sys.stderr)
        return 1
    languages = ", ".join(pack.languages)
    print(f"{args.path}: pack {pack.name!r} version {pack.version} is valid "
          f"({len(pack.flows)} flows; languages {languages}).")
    return 0


def _flows_list(settings: Settings, _: argparse.Namespace) -> int:
    for summary in asyncio.run(_pack_summaries(settings)):
        marker = "*" if summary.name == settings.bot.name else " "
        triggers = ", ".join(summary.triggers) or "-"
        print(f"{marker} {summary.name} v{summary.version} ({summary.source}): "
              f"flows {', '.join(summary.flows)}; triggers {triggers}; languages {', '.join(summary.languages)}")
    return 0


async def _pack_summaries(settings: Settings):  # type: ignore[no-untyped-def]
    from adapters.packs.shipped import shipped_pack, shipped_pack_names
    from adapters.sql.database import open_database
    from adapters.sql.packs import SqlPackStore
    from application.flows_admin import ManageFlows
    from entrypoints.container import SystemClock

    database = open_database(settings.database.url)
    try:
        flows = ManageFlows(packs=SqlPackStore(database), shipped=shipped_pack,
                            shipped_names=shipped_pack_names, clock=SystemClock())
        try:
            return await flows.list()
        except Exception:  # a database not migrated yet stores no pack: list the shipped ones
            return _shipped_summaries()
    finally:
        await database.dispose()


def _shipped_summaries():  # type: ignore[no-untyped-def]
    from adapters.packs.shipped import shipped_pack, shipped_pack_names
    from application.flows_admin import summarise

    return [summarise(pack, "shipped") for name in shipped_pack_names() if (pack := shipped_pack(name))]


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

"""Compare versions of chatgate under the same load, run after run, alternately.

On a shared VM the same run repeated moves webhook p99 by a factor of two within minutes, so
one run of each version says nothing: this runs ``bench/webhook_load.py`` for each variant in
turn, ``--rounds`` times, and prints every run and each variant's medians, with the load
generator's own CPU per webhook beside them as a gauge of the machine's speed at that moment.

    .venv/bin/python bench/ab.py --variant before=HEAD~1 --variant after=. --rounds 5 -- \\
        --instances 2 --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench \\
        --redis-url redis://127.0.0.1:6379/1 --mode open --rate 470 --duration 12 --server-cpus 0-1

A variant is ``name=.`` (this checkout), ``name=<git revision>`` (checked out into a temporary
worktree, removed afterwards) or ``name=<path to a src directory>``; it runs with that ``src``
first on ``PYTHONPATH``. Everything after ``--`` goes to ``webhook_load.py``; ``--args
name='--workers 1'`` adds options for one variant only (two layouts of the same code). Before every run
the PostgreSQL database named by ``--database-url`` is dropped and created again and the Redis
database of ``--redis-url`` is flushed (loopback servers only), so each run starts from nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import redis
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.", "localhost")


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _loopback(host: str | None, what: str) -> None:
    if not host or not host.startswith(LOOPBACK):
        sys.exit(f"{what} must be on loopback, not {host!r}")


async def _fresh_postgres(url: str) -> None:
    parsed = make_url(url)
    _loopback(parsed.host, "--database-url")
    conn = await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                 password=parsed.password, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()


def _fresh_state(load_args: list[str]) -> None:
    database_url = _option(load_args, "--database-url")
    if database_url and database_url.startswith("postgresql"):
        asyncio.run(_fresh_postgres(database_url))
    redis_url = _option(load_args, "--redis-url")
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        _loopback(client.connection_pool.connection_kwargs.get("host"), "--redis-url")
        client.flushdb()
        client.close()


@contextlib.contextmanager
def _sources(variants: list[str]) -> Iterator[dict[str, str | None]]:
    """Each variant's name and the src directory it runs from (None: this checkout)."""
    chosen: dict[str, str | None] = {}
    worktrees: list[str] = []
    try:
        for variant in variants:
            name, _, where = variant.partition("=")
            if not name or not where:
                sys.exit(f"--variant wants name=where, not {variant!r}")
            if where == ".":
                chosen[name] = None
            elif Path(where).is_dir():
                chosen[name] = str(Path(where).resolve())
            else:
                tree = tempfile.mkdtemp(prefix=f"chatgate-ab-{name}-")
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", tree, where],
                               check=True, capture_output=True)
                worktrees.append(tree)
                chosen[name] = str(Path(tree) / "src")
        yield chosen
    finally:
        for tree in worktrees:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", tree], capture_output=True)


def _run(src: str | None, load_args: list[str]) -> dict | None:
    _fresh_state(load_args)
    command = [sys.executable, str(ROOT / "bench" / "webhook_load.py"), "--json", *load_args]
    if src is not None:
        command += ["--env", f"PYTHONPATH={src}"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0 or not done.stdout.strip():
        print(f"  run failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-3:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout)


def _figures(summary: dict) -> dict[str, float]:
    cpu = summary["cpu_percent"]
    return {
        "webhook p50": summary["webhook_latency_ms"]["p50"],
        "webhook p99": summary["webhook_latency_ms"]["p99"],
        "reply p50": (summary["webhook_to_reply_ms"] or {}).get("p50") or 0.0,
        "answered/s": summary["e2e_answered_per_s"],
        "servers CPU %": round(sum(v for k, v in cpu.items() if k.startswith("server")), 1),
        "load us/webhook": summary["cpu_cost"].get("load_us_per_webhook") or 0.0,
    }


def main() -> None:
    argv = sys.argv[1:]
    load_args = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", required=True, help="name=. | name=<git rev> | name=<src dir>")
    parser.add_argument("--args", action="append", default=[], metavar="NAME=OPTIONS",
                        help="webhook_load.py options for that variant alone")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(own)
    if args.rounds < 1 or args.rounds > 20:
        sys.exit("--rounds: 1 to 20")

    extra = {name: shlex.split(options) for name, _, options in (a.partition("=") for a in args.args)}
    names = [variant.partition("=")[0] for variant in args.variant]
    if len(set(names)) != len(names) or not extra.keys() <= set(names):
        # A typo here would compare two identical runs under two names.
        sys.exit(f"--variant names must differ and --args must name one of them: {names}, {sorted(extra)}")
    results: dict[str, list[dict[str, float]]] = {}
    with _sources(args.variant) as sources:
        for round_no in range(1, args.rounds + 1):
            for name, src in sources.items():
                summary = _run(src, load_args + extra.get(name, []))
                if summary is None:
                    continue
                figures = _figures(summary)
                results.setdefault(name, []).append(figures)
                print(f"round {round_no} {name:>10}: " + "  ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    print("medians:")
    for name, runs in results.items():
        keys = runs[0].keys()
        print(f"  {name:>10} ({len(runs)} runs): "
              + "  ".join(f"{k} {round(statistics.median(r[k] for r in runs), 1)}" for k in keys))


if __name__ == "__main__":
    main()

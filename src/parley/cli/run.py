"""`parley run BOT_DIR...`: serve bots over HTTP, in one process or `--workers N`."""

from __future__ import annotations

import os
import secrets
from dataclasses import fields, replace
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console

from parley.bot import Bot
from parley.cli.options import Database, load_bots
from parley.config import Settings
from parley.errors import ParleyError
from parley.observability.logs import LOG_FORMATS, configure_logging
from parley.server.app import create_app
from parley.tuning import tune_gc

BOT_DIRS_ENV = "PARLEY_BOT_DIRS"
"""How `--workers` hands the bot folders to its worker processes (os.pathsep-separated)."""


def run(
    bot_dirs: Annotated[list[Path], typer.Argument(help="Bot folders (each with bot.yaml).")],
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [default: 127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: 8000].")] = None,
    database: Database = None,
    redis: Annotated[
        str | None,
        typer.Option(
            help="Redis URL shared by several workers (locks, live events)"
            " [default: $PARLEY_REDIS_URL, or none: one process].",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes sharing the port (needs --redis).")
    ] = 1,
    log_level: Annotated[str | None, typer.Option(help="debug, info, warning.")] = None,
    log_format: Annotated[
        str | None, typer.Option(help="text, or json: one object per line [default: text].")
    ] = None,
) -> None:
    """Serve the bots' dialog API, one log line per turn."""
    settings = Settings.from_env(
        host=host, port=port, database_url=database, redis_url=redis, log_level=log_level,
        log_format=log_format,
    )  # fmt: skip
    if settings.log_format not in LOG_FORMATS:
        raise ParleyError(f"log format must be text or json, not {settings.log_format!r}")
    if workers > 1:
        _check_shareable(settings, workers)
    bots = load_bots(bot_dirs)
    configure_logging(settings.log_level, settings.log_format)
    _banner(bots, settings, workers)
    uvicorn_options = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": False,
        # JSON: uvicorn's own loggers propagate to the root handler instead of their own
        "log_config": None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
    }
    if workers == 1:
        app = create_app(bots, settings)
        tune_gc()
        uvicorn.run(app, **uvicorn_options)  # type: ignore[arg-type]
        return
    if not settings.secret_key:  # every worker must verify the logic tokens the others mint
        settings = replace(settings, secret_key=secrets.token_urlsafe(32))
    os.environ.update(_environment(settings, bot_dirs))
    uvicorn.run(
        "parley.cli.run:worker_app", factory=True, workers=workers,
        **uvicorn_options,  # type: ignore[arg-type]
    )  # fmt: skip


def worker_app() -> FastAPI:
    """The app of one `--workers` process, rebuilt from the environment `run` set."""
    settings = Settings.from_env()
    bots = load_bots([Path(p) for p in os.environ[BOT_DIRS_ENV].split(os.pathsep)])
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(bots, settings)
    tune_gc()
    return app


def _check_shareable(settings: Settings, workers: int) -> None:
    """Workers share state only through Redis and PostgreSQL: refuse anything else."""
    if not settings.redis_url:
        raise ParleyError(
            f"--workers {workers} needs --redis URL (or PARLEY_REDIS_URL): without it each"
            " worker would lock conversations for itself"
        )
    if not settings.database_url.startswith(("postgresql", "postgres:")):
        raise ParleyError(
            f"--workers {workers} needs a PostgreSQL --database: SQLite and memory:// serve"
            " one process"
        )


def _asdict(settings: Settings) -> dict[str, object]:
    return {f.name: getattr(settings, f.name) for f in fields(settings)}


def _environment(settings: Settings, bot_dirs: list[Path]) -> dict[str, str]:
    env = {f"PARLEY_{name.upper()}": str(value) for name, value in _asdict(settings).items()}
    env[BOT_DIRS_ENV] = os.pathsep.join(str(p.resolve()) for p in bot_dirs)
    return env


def _banner(bots: list[Bot], settings: Settings, workers: int) -> None:
    out = Console(highlight=False, soft_wrap=True)
    base = f"http://{settings.host}:{settings.port}"
    shared = f", shared: {_redacted(settings.redis_url)}" if settings.redis_url else ""
    many = f" with {workers} workers" if workers > 1 else ""
    out.print(
        f"parley serving {len(bots)} bot(s) on {base}{many}"
        f"  (storage: {_redacted(settings.database_url)}{shared})"
    )
    for bot in bots:
        out.print(f"  {bot.spec.name}: POST {base}/api/v1/bots/{bot.spec.name}/dialog")
    out.print(f"  API docs: {base}/docs · web console: {base}/console")


def _redacted(url: str) -> str:
    """`url` without a password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{location}"

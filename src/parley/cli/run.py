"""`parley run BOT_DIR...`: serve bots over HTTP."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from parley.cli.options import Database, load_bots
from parley.config import Settings
from parley.errors import ParleyError
from parley.observability.logs import LOG_FORMATS, configure_logging
from parley.server.app import create_app


def run(
    bot_dirs: Annotated[list[Path], typer.Argument(help="Bot folders (each with bot.yaml).")],
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [default: 127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: 8000].")] = None,
    database: Database = None,
    log_level: Annotated[str | None, typer.Option(help="debug, info, warning.")] = None,
    log_format: Annotated[
        str | None, typer.Option(help="text, or json: one object per line [default: text].")
    ] = None,
) -> None:
    """Serve the bots' dialog API, one log line per turn."""
    settings = Settings.from_env(
        host=host, port=port, database_url=database, log_level=log_level, log_format=log_format
    )
    if settings.log_format not in LOG_FORMATS:
        raise ParleyError(f"log format must be text or json, not {settings.log_format!r}")
    bots = load_bots(bot_dirs)
    configure_logging(settings.log_level, settings.log_format)
    out = Console(highlight=False, soft_wrap=True)
    base = f"http://{settings.host}:{settings.port}"
    out.print(f"parley serving {len(bots)} bot(s) on {base}  (storage: {settings.database_url})")
    for bot in bots:
        out.print(f"  {bot.spec.name}: POST {base}/api/v1/bots/{bot.spec.name}/dialog")
    out.print(f"  API docs: {base}/docs")
    app = create_app(bots, settings)
    tune_gc()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        # JSON: uvicorn's own loggers propagate to the root handler instead of their own
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
    )


def tune_gc() -> None:
    """Fewer, cheaper garbage collections for a long-running server: everything loaded so far
    (modules, bots, the app) moves out of the collector's sight, and a young collection waits
    for 50,000 new objects instead of 700. With thousands of turns in flight, the default
    spent about a fifth of parley's CPU in collections (bench/many.py, py-spy)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)

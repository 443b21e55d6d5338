"""Options shared by several commands."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from parley.bot import Bot, load_bot
from parley.config import Settings
from parley.errors import BotInvalid, Problem
from parley.storage import Store, create_store

T = TypeVar("T")

Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Storage URL: sqlite:///path.db (default .parley/parley.db, or $PARLEY_DATABASE_URL), "
        "postgresql://... or memory://.",
        show_default=False,
    ),
]


def load_bots(paths: list[Path]) -> list[Bot]:
    """Load every bot, reporting the problems of all of them before giving up."""
    bots, problems = [], []
    for path in paths:
        try:
            bots.append(load_bot(path))
        except BotInvalid as exc:
            problems += exc.problems
    names = [b.spec.name for b in bots]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(str(paths[0]), None, "name", f"two bots are named {name!r}"))
    if problems:
        raise BotInvalid(problems)
    return bots


def with_store(database: str | None, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run `work` on the store of `--database` (or `PARLEY_DATABASE_URL`), opened for it."""
    url = Settings.from_env(database_url=database).database_url

    async def run() -> T:
        async with create_store(url) as store:
            return await work(store)

    return asyncio.run(run())


def printer() -> Console:
    """Where commands print: no highlighting, lines kept whole."""
    return Console(highlight=False, soft_wrap=True)

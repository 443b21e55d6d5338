"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from parley.bot import Bot, load_bot
from parley.errors import BotInvalid, Problem

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

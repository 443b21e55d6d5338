"""`parley check BOT_DIR`: validate a bot folder; exit status 1 on any problem."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from parley.bot import check_bot, load_bot
from parley.errors import BotInvalid


def check(
    bot_dirs: Annotated[list[Path], typer.Argument(help="Bot folders (each with bot.yaml).")],
) -> None:
    """Validate bots: every problem with file, line and key."""
    out = Console(highlight=False)
    problems = []
    for path in bot_dirs:
        found = check_bot(path)
        problems += found
        if not found:
            spec = load_bot(path).spec
            out.print(
                f"[green]ok[/green] {path}: bot {spec.name!r}, {len(spec.nodes)} nodes, "
                f"{len(spec.intents)} intents, {len(spec.entities)} entities"
            )
    if problems:
        raise BotInvalid(problems)

"""The parley CLI: run · chat · check · logs · init · deploy · releases · rollback · business ·
team · agent · credentials."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from parley.cli import accounts, chat, check, init, logs, releases, run
from parley.errors import BotInvalid, ParleyError

app = typer.Typer(
    name="parley",
    help="Bots as code, with your own webhooks in the conversation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _reported(command: Callable[..., None]) -> Callable[..., None]:
    """A ParleyError prints its message (every problem, for an invalid bot) and exits with
    its `exit_code`, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except ParleyError as exc:
            lines = [str(p) for p in exc.problems] if isinstance(exc, BotInvalid) else [exc.message]
            err = Console(stderr=True, highlight=False, soft_wrap=True)
            for line in lines:
                err.print(f"[red]error[/red] {escape(line)}")
            raise typer.Exit(exc.exit_code) from None

    return wrapper


app.command("run")(_reported(run.run))
app.command("chat")(_reported(chat.chat))
app.command("check")(_reported(check.check))
app.command("logs")(_reported(logs.logs))
app.command("init")(_reported(init.init))
accounts.register(app, _reported)
releases.register(app, _reported)


def main() -> None:
    """The `parley` console script."""
    sys.exit(app())

"""The `parley` command: run · chat · check · logs."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from parley.cli import chat, check, logs, run
from parley.errors import BotInvalid, ParleyError

app = typer.Typer(
    name="parley",
    help="Bots as code, with your own webhooks in the conversation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run.run)
app.command("chat")(chat.chat)
app.command("check")(check.check)
app.command("logs")(logs.logs)


def main() -> None:
    """Entry point: ParleyErrors print their message and exit with their `exit_code`."""
    err = Console(stderr=True)
    try:
        app(standalone_mode=True)
    except BotInvalid as exc:
        for problem in exc.problems:
            err.print(f"[red]error[/red] {problem}", markup=True, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except ParleyError as exc:
        err.print(f"[red]error[/red] {exc.message}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)

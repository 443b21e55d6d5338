"""`parley init DIR [--dialect D]`: a new bot folder with a webhook that runs as generated."""

from __future__ import annotations

import re
import shlex
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from parley.errors import ParleyError

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class ScaffoldDialect(StrEnum):
    HAPTIK = "haptik"
    AIMYLOGIC = "aimylogic"
    CAI = "cai"
    RASA = "rasa"
    DIALOGFLOW = "dialogflow"
    INITAI = "initai"


_PYTHON = ("bot.yaml", "webhook.py", "README.md")
_FILES = {
    ScaffoldDialect.HAPTIK: _PYTHON,
    ScaffoldDialect.AIMYLOGIC: _PYTHON,
    ScaffoldDialect.RASA: _PYTHON,
    ScaffoldDialect.DIALOGFLOW: _PYTHON,
    ScaffoldDialect.INITAI: _PYTHON,
    ScaffoldDialect.CAI: ("bot.yaml", "server.js", "package.json", "README.md"),
}


class FolderNotEmpty(ParleyError):
    code = "folder_not_empty"
    exit_code = 1


def init(
    folder: Annotated[Path, typer.Argument(help="The new bot folder (created; must be empty).")],
    dialect: Annotated[
        ScaffoldDialect, typer.Option(help="The webhook's wire format.")
    ] = ScaffoldDialect.HAPTIK,
    name: Annotated[
        str | None, typer.Option(help="The bot's name [default: from the folder's name].")
    ] = None,
) -> None:
    """Create a bot (bot.yaml) and a webhook for it, ready to run (Python on parley.sdk;
    Node/Express for cai; a self-hosted logic server for initai)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FolderNotEmpty(f"{folder} already exists and is not an empty folder")
    bot_name = name or bot_name_for(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scaffold = resources.files("parley.scaffolds") / dialect.value
    for file in _FILES[dialect]:
        text = (scaffold / file).read_text(encoding="utf-8")
        text = text.replace("__NAME__", bot_name).replace("__PKG__", bot_name.lower())
        text = text.replace("__DIR__/webhook.py", shlex.quote(str(folder / "webhook.py")))
        text = text.replace("__DIR__", shlex.quote(str(folder)))
        (folder / file).write_text(text, encoding="utf-8")
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"[green]created[/green] {folder}: bot {bot_name!r}, {dialect} webhook")
    quoted = shlex.quote(str(folder))
    if dialect is ScaffoldDialect.INITAI:
        out.print("Try it, in three terminals (README.md has the third's curl command):")
    else:
        out.print("Try it, in two terminals:")
    if dialect is ScaffoldDialect.CAI:
        out.print(f"  cd {quoted} && npm install && node server.js 9000")
    else:
        out.print(f"  python {shlex.quote(str(folder / 'webhook.py'))} 9000")
    if dialect is ScaffoldDialect.INITAI:  # the logic posts results to a running server
        out.print(f"  parley run {quoted}")
    else:
        out.print(f"  parley chat {quoted}")


def bot_name_for(folder: Path) -> str:
    """A valid bot name (`[A-Za-z0-9][A-Za-z0-9_.-]*`, up to 64) from a folder's name."""
    name = _UNSAFE.sub("-", folder.resolve().name).lstrip("_.-")[:64]
    return name or "bot"

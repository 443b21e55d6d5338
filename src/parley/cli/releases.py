"""`parley deploy BOT_DIR`, `parley releases`, `parley rollback N`: the seeds' "Train Bot".

A release is an immutable, numbered snapshot of the bot folder, stored in the same database
`parley run` uses; production conversations run the current one (docs/releases.md).
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from parley.cli.options import Database, printer, with_store
from parley.errors import NotFound, ParleyError
from parley.runtime import releases as ops
from parley.storage import Store
from parley.storage.releases import Release

Reported = Callable[[Callable[..., None]], Callable[..., None]]

BotName = Annotated[
    str | None,
    typer.Option("--bot", help="The bot's name; may be left out when only one was deployed."),
]


def deploy(
    bot_dir: Annotated[Path, typer.Argument(help="The bot folder.")],
    note: Annotated[str, typer.Option(help="Why: shown by `parley releases`.")] = "",
    author: Annotated[
        str | None, typer.Option(help="Who deploys [default: the login name].")
    ] = None,
    database: Database = None,
) -> None:
    """Check the bot folder and make its files the bot's next release, now in production."""
    who = _login() if author is None else author
    done = with_store(database, lambda store: ops.deploy(store, bot_dir, author=who, note=note))
    out, release = printer(), done.release
    out.print(f"[green]ok[/green] {escape(str(bot_dir))}: {len(done.files)} files checked")
    if done.skipped:
        out.print(f"left out (not UTF-8 text): {escape(', '.join(done.skipped))}")
    if not done.created:
        out.print(
            f"bot {release.bot!r}: release {release.number} is current and has these files"
            f" (digest {release.digest[:12]}): nothing to deploy"
        )
        return
    out.print(
        f"deployed bot {release.bot!r} release {release.number} (digest"
        f" {release.digest[:12]}): running servers switch to it within a second"
    )


def releases(bot: BotName = None, database: Database = None) -> None:
    """List the releases: number, when, digest, who, note; `*` marks the current one."""
    found = with_store(database, lambda store: store.releases(bot))
    out = printer()
    if not found:
        if bot is not None:
            raise NotFound(f"bot {bot!r} has no releases: `parley deploy BOT_DIR` makes the first")
        out.print("no releases yet: `parley deploy BOT_DIR` makes the first")
        return
    shown = None
    for release in found:
        if release.bot != shown:
            shown = release.bot
            out.print(f"[bold]{escape(release.bot)}[/bold]")
        out.print(escape(_line(release)))


def rollback(
    number: Annotated[int, typer.Argument(help="The release production should run.")],
    bot: BotName = None,
    database: Database = None,
) -> None:
    """Make an earlier (or any) release current again; nothing is deleted."""

    async def work(store: Store) -> tuple[int | None, Release]:
        name = bot or await _only_bot(store)
        before = await store.current_release(name)
        return before, await ops.rollback(store, name, number)

    before, release = with_store(database, work)
    if before == release.number:
        printer().print(f"bot {release.bot!r}: release {release.number} is already current")
        return
    printer().print(
        f"bot {release.bot!r}: production now runs release {release.number} (was {before});"
        " running servers switch to it within a second"
    )


def register(app: typer.Typer, reported: Reported) -> None:
    """Add deploy, releases and rollback to `app`, each wrapped by `reported`."""
    for command in (deploy, releases, rollback):
        app.command(command.__name__)(reported(command))


async def _only_bot(store: Store) -> str:
    bots = sorted({release.bot for release in await store.releases()})
    if not bots:
        raise NotFound("no bot has releases: `parley deploy BOT_DIR` makes the first")
    if len(bots) > 1:
        raise ParleyError(f"releases of several bots ({', '.join(bots)}): name one with --bot")
    return bots[0]


def _line(release: Release) -> str:
    when = dt.datetime.fromtimestamp(release.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    parts = [
        "*" if release.current else " ",
        f"{release.number:>4}",
        f"{when} UTC",
        release.digest[:12],
        release.author or "-",
    ]
    if release.note:
        parts.append(release.note)
    return "  ".join(parts)


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (some containers)
        return ""

"""`parley logs [--tail]`: the invocation log, every webhook call with why it failed."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from parley.cli.options import Database
from parley.config import Settings
from parley.model import Invocation
from parley.storage import create_store


def logs(
    tail: Annotated[bool, typer.Option("--tail", "-f", help="Keep printing new calls.")] = False,
    bot: Annotated[str | None, typer.Option(help="Only this bot.")] = None,
    conversation: Annotated[str | None, typer.Option(help="Only this conversation id.")] = None,
    limit: Annotated[int, typer.Option(help="How many of the newest calls to show first.")] = 20,
    bodies: Annotated[bool, typer.Option(help="Print request and response bodies.")] = True,
    database: Database = None,
    interval: Annotated[float, typer.Option(help="Polling interval for --tail, seconds.")] = 0.5,
) -> None:
    """Print webhook calls: time, bot, node, URL, status, latency, bodies, failure reason."""
    settings = Settings.from_env(database_url=database)
    out = Console(highlight=False, soft_wrap=True)
    asyncio.run(_logs(settings, out, tail, bot, conversation, limit, bodies, interval))


async def _logs(
    settings: Settings,
    out: Console,
    tail: bool,
    bot: str | None,
    conversation: str | None,
    limit: int,
    bodies: bool,
    interval: float,
) -> None:
    store = create_store(settings.database_url)
    await store.open()
    try:
        last, first = 0, True
        while True:
            rows = await store.invocations(
                bot=bot,
                conversation_id=conversation,
                after_id=last,
                limit=limit if first else 500,
                newest=first,
            )
            first = False
            for row in rows:
                print_invocation(out, row, bodies)
                last = row.id or last
            if not tail:
                break
            await asyncio.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        await store.close()


def print_invocation(out: Console, row: Invocation, bodies: bool) -> None:
    when = dt.datetime.fromtimestamp(row.created_at).strftime("%Y-%m-%d %H:%M:%S")
    status = str(row.status) if row.status is not None else "---"
    colour = "green" if row.error is None else "red"
    out.print(
        f"[dim]{when}[/dim] [{colour}]{status}[/{colour}] {escape(row.bot)}/{escape(row.node)} "
        f"{row.kind}:{row.dialect or '-'} {row.method} {escape(row.url)} {row.latency_ms:.0f} ms "
        f"[dim]conversation={row.conversation_id} turn={row.turn_id[:8]}[/dim]"
    )
    if row.error:
        out.print(f"  [red]failed:[/red] {escape(row.error)}")
    if bodies:
        out.print(f"  [dim]request headers:[/dim] {escape(json.dumps(row.request_headers))}")
        out.print(f"  [dim]request:[/dim] {escape(row.request_body)}")
        if row.response_body is not None:
            out.print(f"  [dim]response:[/dim] {escape(row.response_body)}")

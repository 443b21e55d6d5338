"""`parley chat BOT_DIR`: a terminal chat on the same runtime as the server."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from parley.cli.options import Database, load_bots
from parley.config import Settings
from parley.errors import ParleyError
from parley.model import Environment, Message
from parley.runtime import Callers, Inbound, Runtime
from parley.sandbox import SandboxPool
from parley.storage import create_store
from parley.webhooks import make_client
from parley.webhooks.guard import Guard

HELP = "Type a message; a number picks a choice; /history, /new, /quit."


def chat(
    bot_dir: Annotated[Path, typer.Argument(help="The bot folder.")],
    environment: Annotated[
        Environment, typer.Option(help="Which environment's webhooks to call.")
    ] = Environment.TEST,
    user: Annotated[str, typer.Option(help="User id (permanent user data follows it).")] = "cli",
    database: Database = None,
) -> None:
    """Chat with a bot in the terminal, webhooks and all."""
    settings = Settings.from_env(database_url=database)
    (bot,) = load_bots([bot_dir])
    asyncio.run(_chat(bot, settings, environment, user, Console(highlight=False, soft_wrap=True)))


async def _chat(
    bot: Any, settings: Settings, environment: Environment, user: str, out: Console
) -> None:
    store = create_store(settings.database_url)
    await store.open()
    client = make_client(guard=Guard.parse(settings.allowed_hosts))  # as `parley run` does
    sandbox = SandboxPool(settings.sandbox_isolation)  # code nodes and logic scripts
    callers = Callers(client, sandbox=sandbox, allow_weak_sandbox=True)  # a developer's chat
    runtime = Runtime([bot], store, callers, max_text_length=settings.max_text_length)
    conversation = f"cli-{uuid.uuid4().hex[:8]}"
    choices: list[dict[str, Any]] = []
    out.print(f"[bold]{bot.spec.name}[/bold] ({environment.value}) — {HELP}")
    try:
        while True:
            try:
                text = (await asyncio.to_thread(input, "you> ")).strip()
            except (EOFError, KeyboardInterrupt):
                break
            if not text:
                continue
            if text in ("/quit", "/exit"):
                break
            if text == "/new":
                conversation = f"cli-{uuid.uuid4().hex[:8]}"
                out.print("[dim]new conversation[/dim]")
                continue
            if text == "/history":
                for entry in await store.history(bot.spec.name, conversation):
                    out.print(f"[dim]{entry.sender}:[/dim] {entry.message.as_text()}")
                continue
            structured = False
            if text.isdigit() and 1 <= int(text) <= len(choices):
                choice = choices[int(text) - 1]
                text, structured = str(choice.get("value") or choice.get("title")), True
            inbound = Inbound(
                bot.spec.name, conversation, text, structured, environment, {"id": user}
            )
            try:
                output = await runtime.handle(inbound)
            except ParleyError as exc:
                out.print(f"[red]{exc.message}[/red]")
                continue
            choices = show(out, output.result.messages)
            state = output.result.conversation.state.value
            if state != "bot":
                out.print(f"[dim](conversation is now {state})[/dim]")
    finally:
        await callers.aclose()
        await client.close()
        await store.close()


def show(out: Console, messages: list[Message]) -> list[dict[str, Any]]:
    """Print the bot's messages; buttons and quick replies become numbered choices."""
    choices: list[dict[str, Any]] = []
    for message in messages:
        content = message.content
        if message.type == "text":
            out.print(f"[cyan]bot>[/cyan] {content}")
            continue
        cards = content if isinstance(content, list) else [content]
        for card in cards:
            if not isinstance(card, dict):
                out.print(f"[cyan]bot>[/cyan] [{message.type}] {card}")
                continue
            title = card.get("title") or card.get("text") or card.get("url") or ""
            out.print(f"[cyan]bot>[/cyan] {title}")
            if card.get("subtitle"):
                out.print(f"     {card['subtitle']}")
            for button in card.get("buttons") or []:
                choices.append(button)
                out.print(f"     [bold]{len(choices)}.[/bold] {button.get('title', '')}")
    return choices

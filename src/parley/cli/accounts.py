"""`parley business|team|agent add`, `parley credentials create|list`: accounts for the
hand-off and the integration API, in the same database `parley run` uses. Tokens are printed
once and stored only as hashes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from parley.cli.options import Database, printer, with_store
from parley.storage.accounts import Agent, Business, Credential, Team, hash_token, new_token

Reported = Callable[[Callable[..., None]], Callable[..., None]]

BusinessId = Annotated[int, typer.Option("--business", help="The business_id.")]
Inactive = Annotated[bool, typer.Option("--inactive", help="Create it inactive.")]


def business_add(
    name: Annotated[str, typer.Argument(help="A name for people.")],
    bot: Annotated[str, typer.Option(help="The bot this business (channel) fronts.")],
    business_id: Annotated[int | None, typer.Option("--id", help="[default: the next]")] = None,
    inactive: Inactive = False,
    database: Database = None,
) -> None:
    """Add a business: a numeric business_id for a channel a bot is deployed on."""
    business = Business(name, bot, not inactive, business_id)
    added = with_store(database, lambda store: store.add_business(business))
    printer().print(f"business {added.id} ({name}) fronts bot {bot}")


def team_add(
    name: Annotated[str, typer.Argument(help="The team_name partners and bots use.")],
    business: BusinessId,
    inactive: Inactive = False,
    database: Database = None,
) -> None:
    """Add a team of agents to a business."""
    with_store(database, lambda store: store.add_team(Team(business, name, not inactive)))
    printer().print(f"team {name} added to business {business}")


def agent_add(
    name: Annotated[str, typer.Argument(help="Shown to users as agent(NAME).")],
    team: Annotated[str, typer.Option(help="The agent's team.")],
    business: BusinessId,
    database: Database = None,
) -> None:
    """Add an agent and print their token (once: only its hash is stored)."""
    token = new_token()
    agent = Agent(business, team, name, hash_token(token))
    added = with_store(database, lambda store: store.add_agent(agent))
    out = printer()
    out.print(f"agent {added.id} ({name}) in team {team} of business {business}")
    out.print(f"token: {token}")
    out.print("Keep it now: it is not shown again. Log in at /agent with it.")


def credentials_create(
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="[default: a random one]")
    ] = None,
    businesses: Annotated[
        list[int] | None,
        typer.Option("--business", help="Limit to this business_id (repeatable). [default: all]"),
    ] = None,
    database: Database = None,
) -> None:
    """Create partner credentials for the integration API; print the token once."""
    chosen = client_id or f"client-{new_token()[:12]}"
    token = new_token()
    credential = Credential(chosen, hash_token(token), list(businesses or []))
    with_store(database, lambda store: store.add_credential(credential))
    out = printer()
    out.print(f"client-id: {chosen}")
    out.print(f"token: {token}")
    out.print("Keep the token now: it is not shown again.")


def credentials_list(database: Database = None) -> None:
    """List partner client ids (never tokens)."""
    found = with_store(database, lambda store: store.list_credentials())
    out = printer()
    for credential in found:
        scope = ", ".join(map(str, credential.businesses)) or "all businesses"
        out.print(f"{credential.client_id}  ({scope})")
    if not found:
        out.print("no credentials")


def register(app: typer.Typer, reported: Reported) -> None:
    """Add the account commands to `app`, each wrapped by `reported`."""
    groups: dict[str, list[tuple[str, Any]]] = {
        "business": [("add", business_add)],
        "team": [("add", team_add)],
        "agent": [("add", agent_add)],
        "credentials": [("create", credentials_create), ("list", credentials_list)],
    }
    for group, commands in groups.items():
        sub = typer.Typer(no_args_is_help=True, help=f"Manage {group} accounts.")
        for name, command in commands:
            sub.command(name)(reported(command))
        app.add_typer(sub, name=group)

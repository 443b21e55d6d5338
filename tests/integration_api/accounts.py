"""Accounts for hand-off tests, written to the database before the server starts."""

from __future__ import annotations

from dataclasses import dataclass

from parley.model import Conversation, TurnRecord, User
from parley.storage import create_store
from parley.storage.accounts import Agent, Business, Credential, Team, hash_token, new_token

BOT = """\
name: shop
environments:
  test: {{base_url: "{base}"}}
settings:
  human_assistance: true
  team: support
  handoff_message: "Let me connect you to one of our agents."
intents:
  greet: {{examples: [hi, hello]}}
  broken: {{examples: ["server error please"]}}
nodes:
  greet: {{intents: [greet], says: "Hello! Ask me a price."}}
  broken: {{intents: [broken], webhook: {{path: /500}}}}
"""


@dataclass(frozen=True)
class Accounts:
    client_id: str
    token: str
    ada: str
    bob: str
    other_team_agent: str
    narrow: str


async def create_accounts(url: str) -> Accounts:
    """Business 1 fronts `shop` with teams `support` and `closed` (inactive); business 2 is
    inactive; partner `acme` may use every business, partner `narrow` only business 2; user
    `lurker` exists but never talked to `shop`."""
    tokens = {name: new_token() for name in ("acme", "narrow", "ada", "bob", "sam")}
    async with create_store(url) as store:
        await store.add_business(Business("web", "shop", id=1))
        await store.add_business(Business("old", "shop", active=False, id=2))
        await store.add_team(Team(1, "support"))
        await store.add_team(Team(1, "sales"))
        await store.add_team(Team(1, "closed", active=False))
        for name, team in (("ada", "support"), ("bob", "support"), ("sam", "sales")):
            await store.add_agent(Agent(1, team, name.title(), hash_token(tokens[name])))
        await store.add_credential(Credential("acme", hash_token(tokens["acme"])))
        await store.add_credential(Credential("narrow", hash_token(tokens["narrow"]), [2]))
        lurker = Conversation("elsewhere", "other-bot", "lurker")  # never talked to `shop`
        await store.save_turn(TurnRecord("t", lurker, User("lurker"), [], [], 0))
    return Accounts(
        "acme", tokens["acme"], tokens["ada"], tokens["bob"], tokens["sam"], tokens["narrow"]
    )

"""`AccountStore` in process memory, for `MemoryStore`. Reads return copies."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from parley.errors import Conflict, NotFound
from parley.model import Conversation, State
from parley.storage import _rows
from parley.storage.accounts import AccountStore, Agent, Assignment, Business, Credential, Team


class MemoryAccounts(AccountStore):
    _conversations: dict[tuple[str, str], dict[str, Any]]

    def __init__(self) -> None:
        self._businesses: dict[int, Business] = {}
        self._teams: dict[tuple[int, str], Team] = {}
        self._agents: dict[int, Agent] = {}
        self._credentials: dict[str, Credential] = {}
        self._assignments: dict[tuple[str, str], Assignment] = {}

    async def add_business(self, business: Business) -> Business:
        chosen = business.id if business.id is not None else max(self._businesses, default=0) + 1
        if chosen in self._businesses:
            raise Conflict(f"business {chosen} exists")
        self._businesses[chosen] = replace(business, id=chosen)
        return replace(business, id=chosen)

    async def get_business(self, business_id: int) -> Business | None:
        found = self._businesses.get(business_id)
        return replace(found) if found else None

    async def add_team(self, team: Team) -> None:
        if team.business_id not in self._businesses:
            raise NotFound(f"no business {team.business_id}")
        key = (team.business_id, team.name)
        if key in self._teams:
            raise Conflict(f"business {team.business_id} has a team {team.name!r}")
        self._teams[key] = replace(team)

    async def get_team(self, business_id: int, name: str) -> Team | None:
        found = self._teams.get((business_id, name))
        return replace(found) if found else None

    async def add_agent(self, agent: Agent) -> Agent:
        if (agent.business_id, agent.team) not in self._teams:
            raise NotFound(f"business {agent.business_id} has no team {agent.team!r}")
        if any(a.token_hash == agent.token_hash for a in self._agents.values()):
            raise Conflict("an agent has this token")
        stored = replace(agent, id=max(self._agents, default=0) + 1)
        self._agents[stored.id or 0] = stored
        return replace(stored)

    async def agent_by_token_hash(self, token_hash: str) -> Agent | None:
        for agent in self._agents.values():
            if agent.token_hash == token_hash:
                return replace(agent)
        return None

    async def add_credential(self, credential: Credential) -> None:
        if credential.client_id in self._credentials:
            raise Conflict(f"client id {credential.client_id!r} exists")
        self._credentials[credential.client_id] = replace(
            credential, businesses=list(credential.businesses)
        )

    async def get_credential(self, client_id: str) -> Credential | None:
        found = self._credentials.get(client_id)
        return replace(found, businesses=list(found.businesses)) if found else None

    async def list_credentials(self) -> list[Credential]:
        found = sorted(self._credentials.values(), key=lambda c: c.created_at)
        return [replace(c, businesses=list(c.businesses)) for c in found]

    async def waiting(self, bot: str, team: str) -> list[Conversation]:
        waiting = (State.PENDING.value, State.AGENT.value)
        rows = [
            row
            for (row_bot, _), row in self._conversations.items()
            if row_bot == bot and row["state"] in waiting and row["team"] in (team, None)
        ]
        rows.sort(key=lambda row: (row["updated_at"], row["id"]))
        return [_rows.conversation(row) for row in rows]

    async def latest_conversation(self, bot: str, user_id: str) -> Conversation | None:
        rows = [
            row
            for (row_bot, _), row in self._conversations.items()
            if row_bot == bot and row["user_id"] == user_id
        ]
        if not rows:
            return None
        return _rows.conversation(max(rows, key=lambda row: row["updated_at"]))

    async def assign(self, assignment: Assignment) -> bool:
        key = (assignment.bot, assignment.conversation_id)
        if key in self._assignments:
            return False
        self._assignments[key] = replace(assignment)
        return True

    async def get_assignment(self, bot: str, conversation_id: str) -> Assignment | None:
        found = self._assignments.get((bot, conversation_id))
        return replace(found) if found else None

    async def unassign(self, bot: str, conversation_id: str) -> None:
        self._assignments.pop((bot, conversation_id), None)

"""`AccountStore` in plain SQL shared by the two SQL stores.

The statements use `:name` parameters, which both the stdlib sqlite3 driver and SQLAlchemy's
`text()` understand, and only SQL that SQLite 3.35+ and PostgreSQL share (`RETURNING`,
`ON CONFLICT DO NOTHING`). A store supplies `_sql_read` and `_sql_write`.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from parley.errors import Conflict, NotFound
from parley.model import Conversation
from parley.storage import _rows
from parley.storage.accounts import AccountStore, Agent, Assignment, Business, Credential, Team

Params = dict[str, Any]
Rows = Sequence[Any]
"""Rows that index by column name (sqlite3.Row, SQLAlchemy's RowMapping)."""

_NEXT_BUSINESS_ID = "SELECT COALESCE(MAX(id), 0) + 1 AS next FROM businesses"
_INSERT_BUSINESS = (
    "INSERT INTO businesses (id, name, bot, active, created_at)"
    " VALUES (:id, :name, :bot, :active, :now) ON CONFLICT DO NOTHING RETURNING id"
)
_INSERT_TEAM = (
    "INSERT INTO teams (business_id, name, active, created_at)"
    " VALUES (:business_id, :name, :active, :now) ON CONFLICT DO NOTHING RETURNING name"
)
_INSERT_AGENT = (
    "INSERT INTO agents (name, business_id, team, token_hash, active, created_at)"
    " VALUES (:name, :business_id, :team, :token_hash, :active, :now) RETURNING id"
)
_INSERT_CREDENTIAL = (
    "INSERT INTO credentials (client_id, token_hash, businesses, created_at)"
    " VALUES (:client_id, :token_hash, :businesses, :now)"
    " ON CONFLICT DO NOTHING RETURNING client_id"
)
_WAITING = (
    "SELECT * FROM conversations WHERE bot = :bot AND state IN ('pending', 'agent')"
    " AND (team = :team OR team IS NULL) ORDER BY updated_at, id"
)
_LATEST = (
    "SELECT * FROM conversations WHERE bot = :bot AND user_id = :user_id"
    " ORDER BY updated_at DESC LIMIT 1"
)
_ASSIGN = (
    "INSERT INTO assignments (bot, conversation_id, agent_id, agent_name, claimed_at)"
    " VALUES (:bot, :conversation_id, :agent_id, :agent_name, :claimed_at)"
    " ON CONFLICT DO NOTHING RETURNING agent_id"
)


class SqlAccounts(AccountStore):
    @abc.abstractmethod
    async def _sql_read(self, sql: str, params: Params) -> Rows: ...

    @abc.abstractmethod
    async def _sql_write(self, sql: str, params: Params) -> Rows:
        """Run one writing statement in a transaction of its own; its RETURNING rows."""

    async def add_business(self, business: Business) -> Business:
        params = {"name": business.name, "bot": business.bot, "active": int(business.active)}
        params["now"] = time.time()
        # Explicit ids everywhere: a PostgreSQL sequence would not skip ids an operator chose.
        for _ in range(5):
            chosen = business.id
            if chosen is None:
                chosen = int((await self._sql_read(_NEXT_BUSINESS_ID, {}))[0]["next"])
            if await self._sql_write(_INSERT_BUSINESS, {**params, "id": chosen}):
                return replace(business, id=chosen)
            if business.id is not None:
                break
        raise Conflict(f"business {business.id} exists")

    async def get_business(self, business_id: int) -> Business | None:
        rows = await self._sql_read("SELECT * FROM businesses WHERE id = :id", {"id": business_id})
        return _business(rows[0]) if rows else None

    async def add_team(self, team: Team) -> None:
        if await self.get_business(team.business_id) is None:
            raise NotFound(f"no business {team.business_id}")
        params = {"business_id": team.business_id, "name": team.name, "active": int(team.active)}
        if not await self._sql_write(_INSERT_TEAM, {**params, "now": time.time()}):
            raise Conflict(f"business {team.business_id} has a team {team.name!r}")

    async def get_team(self, business_id: int, name: str) -> Team | None:
        sql = "SELECT * FROM teams WHERE business_id = :business_id AND name = :name"
        rows = await self._sql_read(sql, {"business_id": business_id, "name": name})
        return (
            Team(rows[0]["business_id"], rows[0]["name"], bool(rows[0]["active"])) if rows else None
        )

    async def add_agent(self, agent: Agent) -> Agent:
        if await self.get_team(agent.business_id, agent.team) is None:
            raise NotFound(f"business {agent.business_id} has no team {agent.team!r}")
        params = {
            "name": agent.name,
            "business_id": agent.business_id,
            "team": agent.team,
            "token_hash": agent.token_hash,
            "active": int(agent.active),
            "now": time.time(),
        }
        rows = await self._sql_write(_INSERT_AGENT, params)
        return replace(agent, id=int(rows[0]["id"]))

    async def agent_by_token_hash(self, token_hash: str) -> Agent | None:
        sql = "SELECT * FROM agents WHERE token_hash = :token_hash"
        rows = await self._sql_read(sql, {"token_hash": token_hash})
        return _agent(rows[0]) if rows else None

    async def add_credential(self, credential: Credential) -> None:
        params = {
            "client_id": credential.client_id,
            "token_hash": credential.token_hash,
            "businesses": _rows.dumps(credential.businesses),
            "now": credential.created_at or time.time(),
        }
        if not await self._sql_write(_INSERT_CREDENTIAL, params):
            raise Conflict(f"client id {credential.client_id!r} exists")

    async def get_credential(self, client_id: str) -> Credential | None:
        sql = "SELECT * FROM credentials WHERE client_id = :client_id"
        rows = await self._sql_read(sql, {"client_id": client_id})
        return _credential(rows[0]) if rows else None

    async def list_credentials(self) -> list[Credential]:
        rows = await self._sql_read("SELECT * FROM credentials ORDER BY created_at", {})
        return [_credential(row) for row in rows]

    async def waiting(self, bot: str, team: str) -> list[Conversation]:
        rows = await self._sql_read(_WAITING, {"bot": bot, "team": team})
        return [_rows.conversation(row) for row in rows]

    async def latest_conversation(self, bot: str, user_id: str) -> Conversation | None:
        rows = await self._sql_read(_LATEST, {"bot": bot, "user_id": user_id})
        return _rows.conversation(rows[0]) if rows else None

    async def assign(self, assignment: Assignment) -> bool:
        params = {
            "bot": assignment.bot,
            "conversation_id": assignment.conversation_id,
            "agent_id": assignment.agent_id,
            "agent_name": assignment.agent_name,
            "claimed_at": assignment.claimed_at,
        }
        return bool(await self._sql_write(_ASSIGN, params))

    async def get_assignment(self, bot: str, conversation_id: str) -> Assignment | None:
        sql = "SELECT * FROM assignments WHERE bot = :bot AND conversation_id = :conversation_id"
        rows = await self._sql_read(sql, {"bot": bot, "conversation_id": conversation_id})
        if not rows:
            return None
        row = rows[0]
        return Assignment(
            row["bot"],
            row["conversation_id"],
            row["agent_id"],
            row["agent_name"],
            row["claimed_at"],
        )

    async def unassign(self, bot: str, conversation_id: str) -> None:
        sql = "DELETE FROM assignments WHERE bot = :bot AND conversation_id = :conversation_id"
        await self._sql_write(sql, {"bot": bot, "conversation_id": conversation_id})


def _business(row: Mapping[str, Any]) -> Business:
    return Business(row["name"], row["bot"], bool(row["active"]), int(row["id"]))


def _agent(row: Mapping[str, Any]) -> Agent:
    return Agent(
        int(row["business_id"]),
        row["team"],
        row["name"],
        row["token_hash"],
        bool(row["active"]),
        int(row["id"]),
    )


def _credential(row: Mapping[str, Any]) -> Credential:
    businesses = [int(b) for b in _rows.loads(row["businesses"])]
    return Credential(row["client_id"], row["token_hash"], businesses, row["created_at"])

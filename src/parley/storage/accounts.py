"""Who may hand chats over and answer them: businesses, teams, agents, partner credentials,
and which agent holds a chat. Every `Store` is also an `AccountStore`.

Tokens are never stored: only `hash_token(token)` (SHA-256 of a 32-byte random token, which
needs no salt or stretching: it is not a password a person chose).
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from parley.model import Conversation


@dataclass(slots=True)
class Business:
    """A channel a bot is deployed on; `id` is the seed's numeric `business_id`."""

    name: str
    bot: str
    active: bool = True
    id: int | None = None


@dataclass(slots=True)
class Team:
    """Agents of one business; chats handed over name their team (`Conversation.team`)."""

    business_id: int
    name: str
    active: bool = True


@dataclass(slots=True)
class Agent:
    business_id: int
    team: str
    name: str
    token_hash: str
    active: bool = True
    id: int | None = None


@dataclass(slots=True)
class Credential:
    """A partner's `client-id` and token hash; `businesses` empty means every business."""

    client_id: str
    token_hash: str
    businesses: list[int] = field(default_factory=list)
    created_at: float = 0.0


@dataclass(slots=True)
class Assignment:
    """The agent who claimed a chat, until the chat is closed or handed over again."""

    bot: str
    conversation_id: str
    agent_id: int
    agent_name: str
    claimed_at: float


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant time in the token: no timing tells how much of it was right."""
    return hmac.compare_digest(hash_token(token), stored_hash)


class AccountStore(abc.ABC):
    """Accounts and the hand-off queue. Done means: an `add_*` of a key that exists raises
    `parley.errors.Conflict` and writes nothing; reads return fresh objects; `assign` is the
    one arbiter when two agents claim a chat at once (exactly one gets True)."""

    @abc.abstractmethod
    async def add_business(self, business: Business) -> Business:
        """Store it; without an `id` the store picks the next one. Returns it with its id."""

    @abc.abstractmethod
    async def get_business(self, business_id: int) -> Business | None: ...

    @abc.abstractmethod
    async def add_team(self, team: Team) -> None: ...

    @abc.abstractmethod
    async def get_team(self, business_id: int, name: str) -> Team | None: ...

    @abc.abstractmethod
    async def add_agent(self, agent: Agent) -> Agent:
        """Store it (its team must exist); returns it with its id."""

    @abc.abstractmethod
    async def agent_by_token_hash(self, token_hash: str) -> Agent | None: ...

    @abc.abstractmethod
    async def add_credential(self, credential: Credential) -> None: ...

    @abc.abstractmethod
    async def get_credential(self, client_id: str) -> Credential | None: ...

    @abc.abstractmethod
    async def list_credentials(self) -> list[Credential]: ...

    @abc.abstractmethod
    async def waiting(self, bot: str, team: str) -> list[Conversation]:
        """The bot's `pending` and `agent` conversations for `team` or for no team, oldest
        change first."""

    @abc.abstractmethod
    async def latest_conversation(self, bot: str, user_id: str) -> Conversation | None:
        """The user's most recently changed conversation with the bot."""

    @abc.abstractmethod
    async def assign(self, assignment: Assignment) -> bool:
        """Record who holds the chat; False (and nothing written) if someone already does."""

    @abc.abstractmethod
    async def get_assignment(self, bot: str, conversation_id: str) -> Assignment | None: ...

    @abc.abstractmethod
    async def unassign(self, bot: str, conversation_id: str) -> None: ...

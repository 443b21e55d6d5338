"""Chats handed to human agents: the queue, claim, reply, close, and `send_chat_to_agent`.

Every change holds the conversation's lock (the one turns hold) and is saved like a turn:
`save_turn` with the version it read, so it never interleaves with a turn of the same chat.
Who holds a chat is the store's `Assignment`; the conversation's `state` says where it is.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from parley.errors import Conflict, NotFound
from parley.model import Conversation, HistoryEntry, Message, State, TurnRecord, User
from parley.runtime.events import publish_history, publish_state
from parley.runtime.runner import Runtime, conversation_key
from parley.storage.accounts import Agent, Assignment

WAITING = (State.PENDING, State.AGENT)


def agent_sender(name: str) -> str:
    return f"agent({name})"


@dataclass(frozen=True, slots=True)
class Desk:
    """One agent at work: who they are and the bot whose chats their team answers."""

    agent: Agent
    bot: str


@dataclass(frozen=True, slots=True)
class Waiting:
    conversation: Conversation
    agent: str | None


class Handoff:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = runtime.store

    async def queue(self, desk: Desk) -> list[Waiting]:
        """The team's pending chats and the ones its agents hold, oldest change first."""
        out = []
        for conv in await self.store.waiting(desk.bot, desk.agent.team):
            held = await self.store.get_assignment(conv.bot, conv.id)
            out.append(Waiting(conv, held.agent_name if held else None))
        return out

    async def request(self, bot: str, conversation_id: str, team: str) -> Conversation:
        """`send_chat_to_agent`: pending for `team`, taken back from any agent holding it."""
        async with self.runtime.lock(bot, conversation_id):
            conv, user = await self._load(bot, conversation_id)
            conv.state, conv.team, conv.node, conv.asking = State.PENDING, team, None, None
            await self.store.unassign(bot, conversation_id)
            await self._save(conv, user, [])
        await publish_state(self.runtime.events, conv)
        return conv

    async def claim(self, desk: Desk, conversation_id: str) -> Conversation:
        async with self.runtime.lock(desk.bot, conversation_id):
            conv, user = await self._visible(desk, conversation_id)
            if conv.state is not State.PENDING:
                raise Conflict(f"chat {conversation_id!r} is already claimed")
            agent = desk.agent
            assignment = Assignment(conv.bot, conv.id, agent.id or 0, agent.name, time.time())
            if not await self.store.assign(assignment):
                raise Conflict(f"chat {conversation_id!r} is already claimed")
            conv.state, conv.team = State.AGENT, conv.team or agent.team
            try:
                await self._save(conv, user, [])
            except BaseException:
                await self.store.unassign(conv.bot, conv.id)
                raise
        await publish_state(self.runtime.events, conv, agent.name)
        return conv

    async def reply(self, desk: Desk, conversation_id: str, text: str) -> HistoryEntry:
        async with self.runtime.lock(desk.bot, conversation_id):
            conv, user = await self._held(desk, conversation_id)
            entry = HistoryEntry(
                conv.id,
                conv.bot,
                conv.conversation_no,
                agent_sender(desk.agent.name),
                Message.text(text),
                time.time(),
            )
            await self._save(conv, user, [entry])
            await self.runtime.agent_wrote.mark(conversation_key(conv.bot, conv.id))
        await publish_history(self.runtime.events, conv, [entry])
        return entry

    async def close(self, desk: Desk, conversation_id: str, *, complete: bool) -> Conversation:
        """Back to the bot, or `complete` (the next message starts a new conversation_no)."""
        async with self.runtime.lock(desk.bot, conversation_id):
            conv, user = await self._held(desk, conversation_id)
            conv.state = State.COMPLETE if complete else State.BOT
            conv.team, conv.node, conv.asking = None, None, None
            await self._save(conv, user, [])
            await self.store.unassign(conv.bot, conv.id)
        await publish_state(self.runtime.events, conv)
        return conv

    async def history(self, desk: Desk, conversation_id: str) -> list[HistoryEntry]:
        conv, _ = await self._visible(desk, conversation_id)
        return await self.store.history(conv.bot, conv.id, conv.conversation_no)

    # -- helpers -------------------------------------------------------------------------

    async def _load(self, bot: str, conversation_id: str) -> tuple[Conversation, User]:
        conv, user = await self.store.load(bot, conversation_id)
        if conv is None:
            raise NotFound(f"bot {bot!r} has no conversation {conversation_id!r}")
        return conv, user or User(conv.user_id)

    async def _visible(self, desk: Desk, conversation_id: str) -> tuple[Conversation, User]:
        """The chat if it waits for the desk's team (or for any team); else NotFound."""
        conv, user = await self.store.load(desk.bot, conversation_id)
        if conv is None or conv.state not in WAITING or conv.team not in (desk.agent.team, None):
            raise NotFound(f"no chat {conversation_id!r} waits for team {desk.agent.team!r}")
        return conv, user or User(conv.user_id)

    async def _held(self, desk: Desk, conversation_id: str) -> tuple[Conversation, User]:
        conv, user = await self._visible(desk, conversation_id)
        held = await self.store.get_assignment(conv.bot, conv.id)
        if conv.state is not State.AGENT or held is None or held.agent_id != desk.agent.id:
            raise Conflict(f"chat {conversation_id!r} is not claimed by {desk.agent.name!r}")
        return conv, user

    async def _save(self, conv: Conversation, user: User, history: list[HistoryEntry]) -> None:
        turn_id = uuid.uuid4().hex
        for entry in history:
            entry.turn_id = turn_id
        await self.store.save_turn(TurnRecord(turn_id, conv, user, history, [], conv.version))


async def agent_messages_since_last_turn(
    runtime: Runtime, bot: str, conversation_id: str, turn_id: str
) -> list[HistoryEntry]:
    """Agents' messages stored between the user's previous message and this turn's: what a
    client that does not listen to the event stream has missed."""
    recent = await runtime.store.history(bot, conversation_id, limit=200)
    ours = [i for i, e in enumerate(recent) if e.turn_id == turn_id and e.sender == "user"]
    if not ours:
        return []
    missed: list[HistoryEntry] = []
    for entry in reversed(recent[: ours[0]]):
        if entry.sender == "user":
            break
        if entry.sender.startswith("agent("):
            missed.append(entry)
    return missed[::-1]

"""Live events of conversations: new history messages and state changes, for streams.

`Events` is the interface; `LocalEvents` serves one process, `RedisEvents`
(`runtime.redis_events`) several workers: publishers and subscribers only see `Event`s on
topics.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from parley.model import Conversation, HistoryEntry, Invocation


@dataclass(frozen=True, slots=True)
class Event:
    """`kind` is `message` (`data` is a history entry as JSON), `state` (the new state) or
    `invocation` (an invocation-log entry; only on `INVOCATIONS_TOPIC`, never on a
    conversation's or bot's stream, which users and agents read)."""

    kind: str
    bot: str
    conversation_id: str
    team: str | None
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


INVOCATIONS_TOPIC = "invocations"


def bot_topic(bot: str) -> str:
    return f"bot/{bot}"


def event_topics(event: Event) -> tuple[str, ...]:
    """Where `event` goes: an invocation to the console's topic only, anything else to its
    bot's and its conversation's topics."""
    if event.kind == "invocation":
        return (INVOCATIONS_TOPIC,)
    return bot_topic(event.bot), conversation_topic(event.bot, event.conversation_id)


def conversation_topic(bot: str, conversation_id: str) -> str:
    return f"bot/{bot}/conversation/{conversation_id}"


class Events(abc.ABC):
    """Every event goes to its conversation's topic and to its bot's topic. Delivery is at
    most once: a subscriber that falls behind loses events and should re-read history."""

    @abc.abstractmethod
    async def publish(self, event: Event) -> None: ...

    async def publish_many(self, events: list[Event]) -> None:
        """`publish` each, in order (a shared bus sends them together)."""
        for event in events:
            await self.publish(event)

    @abc.abstractmethod
    def subscribe(self, topic: str) -> AbstractAsyncContextManager[asyncio.Queue[Event]]:
        """A queue that receives the topic's events while the context is open."""

    def listened(self, bot: str, conversation_id: str) -> bool:
        """Whether anyone may receive this conversation's events (publishing can be skipped
        when not); a shared bus that cannot tell says True."""
        return True

    def topic_listened(self, topic: str) -> bool:
        """Whether anyone may receive `topic`'s events; a shared bus says True."""
        return True

    async def aclose(self) -> None:  # noqa: B027  (optional: only shared buses hold any)
        """Let go of shared resources (connections, background tasks)."""


class LocalEvents(Events):
    def __init__(self, backlog: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = {}
        self._backlog = backlog

    async def publish(self, event: Event) -> None:
        for topic in event_topics(event):
            self.deliver(topic, event)

    def deliver(self, topic: str, event: Event) -> None:
        """Hands `event` to this process's subscribers of `topic` only."""
        for queue in self._subscribers.get(topic, ()):
            if queue.full():
                continue  # a stalled reader must not hold up turns
            queue.put_nowait(event)

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[asyncio.Queue[Event]]:
        return self._subscription(topic)

    def listened(self, bot: str, conversation_id: str) -> bool:
        subscribed = self._subscribers
        return (
            bot_topic(bot) in subscribed or conversation_topic(bot, conversation_id) in subscribed
        )

    def topic_listened(self, topic: str) -> bool:
        return topic in self._subscribers

    @asynccontextmanager
    async def _subscription(self, topic: str) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._backlog)
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers[topic]
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[topic]


def entry_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "conversation_no": entry.conversation_no,
        "sender": entry.sender,
        "message": entry.message.to_json(),
        "created_at": entry.created_at,
    }


async def publish_history(
    events: Events, conv: Conversation, entries: Iterable[HistoryEntry]
) -> None:
    if not events.listened(conv.bot, conv.id):
        return
    await events.publish_many(
        [Event("message", conv.bot, conv.id, conv.team, entry_json(e), e.id) for e in entries]
    )


async def publish_state(events: Events, conv: Conversation, agent: str | None = None) -> None:
    if not events.listened(conv.bot, conv.id):
        return
    data = {"state": conv.state.value, "team": conv.team, "agent": agent}
    await events.publish(Event("state", conv.bot, conv.id, conv.team, data))


async def publish_turn(
    events: Events,
    conv: Conversation,
    entries: Iterable[HistoryEntry],
    invocations: Iterable[Invocation],
    state_changed: bool,
) -> None:
    """A turn's events in one `publish_many` (one round trip on a shared bus): its history
    entries and, after a hand-off, the new state to the conversation's listeners; its
    invocation-log entries (stored, with their ids) to `INVOCATIONS_TOPIC`, the console."""
    out: list[Event] = []
    if events.listened(conv.bot, conv.id):
        out += [
            Event("message", conv.bot, conv.id, conv.team, entry_json(e), e.id) for e in entries
        ]
        if state_changed:
            data = {"state": conv.state.value, "team": conv.team, "agent": None}
            out.append(Event("state", conv.bot, conv.id, conv.team, data))
    if events.topic_listened(INVOCATIONS_TOPIC):
        out += [
            Event("invocation", i.bot, i.conversation_id, None, i.to_json()) for i in invocations
        ]
    if out:
        await events.publish_many(out)

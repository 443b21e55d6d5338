"""Live events shared by every worker over Redis pub/sub: an agent whose stream is open on
one worker sees the turns another worker serves.

Each topic is a channel; a worker subscribes to a channel while one of its streams listens to
it (one pub/sub connection per worker) and hands what arrives to its local subscribers.
Delivery stays at most once: a publish while Redis is down is logged and dropped (the turn
is saved already), and streams re-read history when they reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from redis.asyncio import Redis

from parley.errors import Unavailable
from parley.runtime.events import Event, Events, LocalEvents, event_topics
from parley.runtime.redis_errors import REDIS_DOWN

log = logging.getLogger("parley.events")


class RedisEvents(Events):
    def __init__(self, client: Redis, *, prefix: str = "parley:", backlog: int = 1000) -> None:
        self._client, self._prefix = client, prefix + "events:"
        self._local = LocalEvents(backlog)
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._channels: dict[str, int] = {}
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, event: Event) -> None:
        await self.publish_many([event])

    async def publish_many(self, events: list[Event]) -> None:
        """One round trip for all: each event to its topics' channels (`event_topics`)."""
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for event in events:
                    payload = json.dumps(dataclasses.asdict(event), separators=(",", ":"))
                    for topic in event_topics(event):
                        pipe.publish(self._prefix + topic, payload)
                await pipe.execute()
        except REDIS_DOWN as exc:
            log.warning("%d event(s) not published: %s", len(events), exc)

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[asyncio.Queue[Event]]:
        return self._subscription(topic)

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        with contextlib.suppress(*REDIS_DOWN):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    @asynccontextmanager
    async def _subscription(self, topic: str) -> AsyncIterator[asyncio.Queue[Event]]:
        channel = self._prefix + topic
        if not self._channels.get(channel):
            try:
                await self._pubsub.subscribe(channel)
            except REDIS_DOWN as exc:
                raise Unavailable(f"the event service (Redis) is unavailable: {exc}") from exc
        self._channels[channel] = self._channels.get(channel, 0) + 1
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read())
        try:
            async with self._local.subscribe(topic) as queue:
                yield queue
        finally:
            self._channels[channel] -= 1
            if not self._channels[channel]:
                del self._channels[channel]
                with contextlib.suppress(*REDIS_DOWN):
                    await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        while self._channels:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except REDIS_DOWN as exc:  # reconnects (and subscribes again) on the next read
                log.warning("event subscription interrupted: %s", exc)
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            topic = (channel.decode() if isinstance(channel, bytes) else channel)[
                len(self._prefix) :
            ]
            try:
                event = Event(**json.loads(message["data"]))
            except (TypeError, ValueError):
                log.warning("ignored a malformed event on %s", topic)
                continue
            self._local.deliver(topic, event)

"""Init.ai logic results that reach another worker than the one whose turn awaits them.

A waiting invocation lives in the memory of the worker that sent it. With Redis, that worker
records itself as the invocation's owner before the webhook goes out and listens on a channel
of its own; a worker that gets a result (or payload request) for an invocation it does not
know publishes it to the owner's channel and waits for the owner's answer on a reply list, so
the logic server sees the same answer whichever worker it reached.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from parley.runtime.redis_errors import REDIS_DOWN

_NO_ANSWER: tuple[type[Exception], ...] = (*REDIS_DOWN, ValueError, KeyError, TypeError)

log = logging.getLogger("parley.logic")

Answer = tuple[int, Any]
Handler = Callable[[str, str, str, bytes], Awaitable[Answer]]
"""(kind `result` or `payload`, invocation id, bearer token, body) -> (status, JSON body)."""

_REPLY_WAIT = 4  # seconds; under the client's socket timeout


class LogicRelay:
    def __init__(self, client: Redis, *, prefix: str = "parley:", ttl: float = 3600) -> None:
        self._client, self._prefix, self._ttl = client, prefix + "logic:", int(ttl)
        self.owner = uuid.uuid4().hex
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def announce(self, invocation_id: str) -> None:
        """Records this worker as the invocation's owner (for the token's lifetime)."""
        try:
            await self._client.set(self._owner_key(invocation_id), self.owner, ex=self._ttl)
        except REDIS_DOWN as exc:  # its result can still reach this worker directly
            log.warning("logic invocation %s not announced: %s", invocation_id, exc)

    async def serve(self, handler: Handler) -> None:
        """Answers what other workers forward to this one with `handler`."""
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self._reader = asyncio.create_task(self._read(self._pubsub, handler))

    async def forward(
        self, kind: str, invocation_id: str, token: str, body: bytes
    ) -> Answer | None:
        """The owner's answer; None when no other live worker owns the invocation."""
        try:
            found = await self._client.get(self._owner_key(invocation_id))
            owner = found.decode() if isinstance(found, bytes) else found
            if owner is None or owner == self.owner:
                return None
            reply = f"{self._prefix}reply:{uuid.uuid4().hex}"
            request = {"kind": kind, "id": invocation_id, "token": token, "reply": reply}
            request["body"] = base64.b64encode(body).decode()
            if not await self._client.publish(self._channel(owner), json.dumps(request)):
                return None  # its worker is gone, and the invocation with it
            answered = await self._client.blpop([reply], timeout=_REPLY_WAIT)
        except REDIS_DOWN as exc:
            return 503, {
                "message": f"the shared service (Redis) is unavailable: {exc}",
                "code": 503,
            }
        if answered is None:
            return 503, {
                "message": "the worker awaiting this invocation did not answer",
                "code": 503,
            }
        status, answer = json.loads(answered[1])
        return int(status), answer

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(*REDIS_DOWN):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    def _owner_key(self, invocation_id: str) -> str:
        return f"{self._prefix}owner:{invocation_id}"

    def _channel(self, owner: str) -> str:
        return f"{self._prefix}worker:{owner}"

    async def _read(self, pubsub: PubSub, handler: Handler) -> None:
        while True:
            try:
                if not pubsub.subscribed:  # at start, or Redis was down then
                    await pubsub.subscribe(self._channel(self.owner))
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except REDIS_DOWN as exc:
                log.warning("logic relay interrupted: %s", exc)
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            task = asyncio.create_task(self._answer(message["data"], handler))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, data: bytes, handler: Handler) -> None:
        try:
            request = json.loads(data)
            body = base64.b64decode(request["body"])
            status, answer = await handler(request["kind"], request["id"], request["token"], body)
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.rpush(request["reply"], json.dumps([status, answer]))
                pipe.expire(request["reply"], 30)
                await pipe.execute()
        except _NO_ANSWER as exc:
            log.warning("a forwarded logic request was not answered: %s", exc)

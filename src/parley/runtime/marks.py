"""Marks: one-shot flags per conversation that outlive a turn, e.g. "an agent wrote here
since the user's last message". `mark` sets one, `take` reads and clears it."""

from __future__ import annotations

import abc
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from parley.errors import Unavailable

log = logging.getLogger("parley.marks")

_KEPT_SECONDS = 30 * 24 * 3600  # a chat the user never comes back to lets its mark go


class Marks(abc.ABC):
    @abc.abstractmethod
    async def mark(self, key: str) -> None: ...

    @abc.abstractmethod
    async def take(self, key: str) -> bool:
        """Whether `key` was marked; the mark is gone afterwards."""


class LocalMarks(Marks):
    def __init__(self) -> None:
        self._marked: set[str] = set()

    async def mark(self, key: str) -> None:
        self._marked.add(key)

    async def take(self, key: str) -> bool:
        if key in self._marked:
            self._marked.discard(key)
            return True
        return False


class RedisMarks(Marks):
    def __init__(self, client: Redis, *, prefix: str = "parley:") -> None:
        self._client, self._prefix = client, prefix + "mark:"

    async def mark(self, key: str) -> None:
        try:
            await self._client.set(self._prefix + key, b"1", ex=_KEPT_SECONDS)
        except RedisError as exc:
            log.warning("could not mark %r: %s", key, exc)

    async def take(self, key: str) -> bool:
        try:
            return await self._client.getdel(self._prefix + key) is not None
        except RedisError as exc:
            raise Unavailable(f"the shared state service (Redis) is unavailable: {exc}") from exc

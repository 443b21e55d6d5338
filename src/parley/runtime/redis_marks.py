"""Marks in Redis, shared by every worker (see marks.py)."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from parley.errors import Unavailable
from parley.runtime.marks import Marks
from parley.runtime.redis_errors import REDIS_DOWN

log = logging.getLogger("parley.marks")

_KEPT_SECONDS = 30 * 24 * 3600  # a chat the user never comes back to lets its mark go


class RedisMarks(Marks):
    def __init__(self, client: Redis, *, prefix: str = "parley:") -> None:
        self._client, self._prefix = client, prefix + "mark:"

    async def mark(self, key: str) -> None:
        try:
            await self._client.set(self._prefix + key, b"1", ex=_KEPT_SECONDS)
        except REDIS_DOWN as exc:
            log.warning("could not mark %r: %s", key, exc)

    async def take(self, key: str) -> bool:
        try:
            return await self._client.getdel(self._prefix + key) is not None
        except REDIS_DOWN as exc:
            raise Unavailable(f"the shared state service (Redis) is unavailable: {exc}") from exc

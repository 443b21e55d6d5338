"""What the workers of one deployment share: conversation locks, live events and marks.

In one process they live in memory; with a Redis URL (`PARLEY_REDIS_URL`) they live in Redis,
so several workers — `parley run --workers N`, or `parley run`s on several hosts — can serve
one database, and an Init.ai logic result may reach any of them. Circuit breakers stay per
worker (each learns an endpoint's failures itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from parley.runtime.events import Events, LocalEvents
from parley.runtime.locks import LocalLocks, Locks
from parley.runtime.marks import LocalMarks, Marks

if TYPE_CHECKING:  # Redis is imported when a URL asks for it: one process starts faster
    from redis.asyncio import Redis

    from parley.runtime.logic_relay import LogicRelay


@dataclass
class Shared:
    locks: Locks = field(default_factory=LocalLocks)
    events: Events = field(default_factory=LocalEvents)
    marks: Marks = field(default_factory=LocalMarks)
    relay: LogicRelay | None = None
    """Forwards Init.ai logic results to the worker whose turn awaits them (Redis only)."""
    client: Redis | None = None

    @classmethod
    def connect(cls, redis_url: str, *, lease: float = 10.0, prefix: str = "parley:") -> Shared:
        """Backed by the Redis at `redis_url`; connects lazily, on first use. A worker that
        dies lets go of its locks `lease` seconds after its last heartbeat."""
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError, TimeoutError

        from parley.runtime.logic_relay import LogicRelay
        from parley.runtime.redis_events import RedisEvents
        from parley.runtime.redis_locks import RedisLocks
        from parley.runtime.redis_marks import RedisMarks

        # A connection Redis dropped (a restart) is retried on a new one, briefly: while Redis
        # is down, turns fail fast with 503 rather than wait.
        retry = Retry(ExponentialBackoff(cap=0.2, base=0.02), 3)
        client = Redis.from_url(
            redis_url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=15,
            retry=retry, retry_on_error=[ConnectionError, TimeoutError],
        )  # fmt: skip
        return cls(
            RedisLocks(client, prefix=prefix, lease=lease),
            RedisEvents(client, prefix=prefix),
            RedisMarks(client, prefix=prefix),
            LogicRelay(client, prefix=prefix),
            client,
        )

    @classmethod
    def open(cls, redis_url: str, *, lease: float = 10.0) -> Shared:
        return cls.connect(redis_url, lease=lease) if redis_url else cls()

    async def aclose(self) -> None:
        await self.locks.aclose()
        await self.events.aclose()
        if self.relay is not None:
            await self.relay.aclose()
        if self.client is not None:
            await self.client.aclose()

"""Per-conversation locks shared by every worker through Redis.

Each key is a queue in Redis: a sorted set of the waiters' tokens scored by a ticket taken on
arrival (one `INCR`), so turns run in the order they reached Redis, across workers. The head
of the queue holds the lock. A token is `<owner>:<n>`, the owner being one `RedisLocks` (one
worker process); every owner keeps a deadline in a shared sorted set, renewed while it lives
(every `lease / 3`), so a worker that dies — holding a lock or waiting for one — is skipped
once its lease runs out, and a live worker keeps its locks however long its turn takes.
Times are Redis's own clock (`TIME` in the scripts), never the workers'.

Only one coroutine per worker and key polls Redis while others wait: when a worker releases
a lock whose next holder is one of its own waiters, it hands it over without asking again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from parley.errors import Unavailable
from parley.runtime.locks import Locks
from parley.runtime.redis_errors import REDIS_DOWN

log = logging.getLogger("parley.locks")

_HEAD = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function head(queue, owners, now)
  while true do
    local first = redis.call('ZRANGE', queue, 0, 0)[1]
    if not first then return false end
    local deadline = redis.call('ZSCORE', owners, string.match(first, '^[^:]+'))
    if deadline and tonumber(deadline) > now then return first end
    redis.call('ZREM', queue, first)
  end
end
"""
# KEYS: queue, owners, ticket counter; ARGV: token, owner, lease ms, queue expiry ms
_ENQUEUE = (
    _HEAD
    + """
local now = now_ms()
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[2])
-- NX: a retry of this script keeps the token's place
redis.call('ZADD', KEYS[1], 'NX', redis.call('INCR', KEYS[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return head(KEYS[1], KEYS[2], now)
"""
)
# KEYS: queue, owners, released; ARGV: token; answers the head after it. A released token is
# remembered for a minute, so a poll sent before the release but run after it (a new
# connection, a retry) cannot queue it again with nobody left to release it.
_RELEASE = (
    _HEAD
    + """
local now = now_ms()
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 60000)
redis.call('PEXPIRE', KEYS[3], 120000)
return head(KEYS[1], KEYS[2], now)
"""
)
# KEYS: queue, owners, ticket counter, released; ARGV: owner, lease ms, queue expiry ms,
# tokens... Tokens missing from the queue (Redis lost its data, or thought this worker dead)
# queue again, unless they were released.
_POLL = (
    _HEAD
    + """
local now = now_ms()
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
for i = 4, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) and not redis.call('ZSCORE', KEYS[4], ARGV[i]) then
    redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[3]), ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return head(KEYS[1], KEYS[2], now)
"""
)
# KEYS: owners; ARGV: owner, lease ms
_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3600000)
return now
"""

_QUEUE_EXPIRY_MS = 3_600_000  # an abandoned queue's key outlives any turn, then goes


@dataclass
class _Key:
    """This worker's waiters for one key and the task polling Redis for them."""

    waiters: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    poller: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class RedisLocks(Locks):
    def __init__(
        self, client: Redis, *, prefix: str = "parley:", lease: float = 10.0, poll: float = 0.1
    ) -> None:
        self._client, self._prefix = client, prefix
        self._lease_ms, self._poll = int(lease * 1000), poll
        self.owner = uuid.uuid4().hex
        self._serial = itertools.count()
        self._keys: dict[str, _Key] = {}
        self._unreleased: set[tuple[str, str]] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._enqueue = client.register_script(_ENQUEUE)
        self._release = client.register_script(_RELEASE)
        self._poll_head = client.register_script(_POLL)
        self._beat = client.register_script(_HEARTBEAT)
        self.waiting = 0

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        self._start()
        token = f"{self.owner}:{next(self._serial)}"
        queue = self._queue(key)
        self.waiting += 1
        try:
            try:
                head = await self._enqueue(
                    [queue, self._owners, self._tickets],
                    [token, self.owner, self._lease_ms, _QUEUE_EXPIRY_MS],
                )
                if _text(head) != token:
                    await self._wait(key, token)
            except BaseException as exc:
                await self._drop(key, token)
                if isinstance(exc, REDIS_DOWN):
                    raise _unavailable(exc) from exc
                raise
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            await self._drop(key, token)

    async def aclose(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        for state in self._keys.values():
            if state.poller is not None:
                state.poller.cancel()
        with contextlib.suppress(*REDIS_DOWN):
            await self._client.zrem(self._owners, self.owner)

    @property
    def _owners(self) -> str:
        return self._prefix + "lock-owners"

    @property
    def _tickets(self) -> str:
        return self._prefix + "lock-tickets"

    def _queue(self, key: str) -> str:
        return f"{self._prefix}lock:{key}"

    def _released(self, key: str) -> str:
        return f"{self._prefix}lock-released:{key}"

    def _release_keys(self, key: str) -> list[str]:
        return [self._queue(key), self._owners, self._released(key)]

    def _start(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beating())

    async def _wait(self, key: str, token: str) -> None:
        state = self._keys.setdefault(key, _Key())
        future = asyncio.get_running_loop().create_future()
        state.waiters[token] = future
        if state.poller is None or state.poller.done():
            state.poller = asyncio.create_task(self._polling(key, state))
        try:
            await future
        finally:
            state.waiters.pop(token, None)
            if not state.waiters and self._keys.get(key) is state:
                del self._keys[key]
                state.changed.set()

    async def _polling(self, key: str, state: _Key) -> None:
        """Asks Redis for the head until none of this worker's waiters is left."""
        delay = self._poll / 8
        while state.waiters:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.changed.wait(), delay)
            state.changed.clear()
            delay = min(delay * 2, self._poll)
            if not state.waiters:
                return
            try:
                head = await self._poll_head(
                    [self._queue(key), self._owners, self._tickets, self._released(key)],
                    [self.owner, self._lease_ms, _QUEUE_EXPIRY_MS, *state.waiters],
                )
            except REDIS_DOWN as exc:
                self._fail(state, exc)
                return
            self._grant(state, _text(head))

    def _grant(self, state: _Key, head: str | None) -> None:
        future = state.waiters.pop(head, None) if head is not None else None
        if future is not None and not future.done():
            future.set_result(None)

    def _fail(self, state: _Key, exc: Exception) -> None:
        for future in state.waiters.values():
            if not future.done():
                future.set_exception(_unavailable(exc))
        state.waiters.clear()

    async def _drop(self, key: str, token: str) -> None:
        """Leaves the queue (holder or waiter); when Redis cannot be reached, the heartbeat
        retries, so a live worker never keeps a token it gave up."""
        release = self._release(self._release_keys(key), [token])
        try:
            head = await asyncio.shield(release)  # a cancelled turn still lets go
        except REDIS_DOWN as exc:
            log.warning("could not release lock %r yet: %s", key, exc)
            self._unreleased.add((key, token))
            return
        except asyncio.CancelledError:
            self._unreleased.add((key, token))  # the heartbeat makes sure
            raise
        state = self._keys.get(key)
        if state is not None:
            self._grant(state, _text(head))
            state.changed.set()

    async def _beating(self) -> None:
        while True:
            try:
                await self._beat([self._owners], [self.owner, self._lease_ms])
                for key, token in list(self._unreleased):
                    await self._release(
                        [self._queue(key), self._owners, self._released(key)], [token]
                    )
                    self._unreleased.discard((key, token))
            except REDIS_DOWN as exc:
                log.warning("lock heartbeat failed: %s", exc)
            await asyncio.sleep(self._lease_ms / 3000)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _unavailable(exc: Exception) -> Unavailable:
    return Unavailable(f"the shared lock service (Redis) is unavailable: {exc}")

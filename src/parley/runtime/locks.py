"""Per-conversation locks: turns of one conversation run one after the other, in arrival
order; different conversations run in parallel."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager


class Locks(abc.ABC):
    """Mutual exclusion per key, granted in arrival order. `hold` raises
    `parley.errors.Unavailable` when a shared backend cannot be reached."""

    waiting: int = 0
    """Holders waiting for their key now (the `parley_lock_waiting` gauge)."""

    @abc.abstractmethod
    def hold(self, key: str) -> AbstractAsyncContextManager[None]: ...

    async def aclose(self) -> None:  # noqa: B027  (optional: only shared locks hold any)
        """Let go of shared resources (connections, background tasks)."""


class LocalLocks(Locks):
    """Locks for one process. asyncio.Lock wakes waiters first in, first out, so turns keep
    the order in which they arrived. A lock is dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self.waiting = 0

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            self.waiting += 1
            try:
                await lock.acquire()
            finally:
                self.waiting -= 1
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)

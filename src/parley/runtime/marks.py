"""Marks: one-shot flags per conversation that outlive a turn, e.g. "an agent wrote here
since the user's last message". `mark` sets one, `take` reads and clears it. `RedisMarks`
(redis_marks.py) shares them between workers."""

from __future__ import annotations

import abc


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

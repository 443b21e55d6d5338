"""Per-endpoint concurrency limits: at most `limit` calls in flight to one (bot, endpoint).

Calls beyond the limit wait for a slot inside their own deadline. A slot table entry exists
only while calls are in flight or waiting, so rendered URLs cannot grow it without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

__all__ = ["EndpointLimits", "TooManyInFlight"]


class TooManyInFlight(Exception):
    """No slot freed up before the deadline."""


@dataclass(slots=True)
class _Slots:
    limit: int
    semaphore: asyncio.Semaphore
    in_flight: int = 0
    waiters: int = 0


class EndpointLimits:
    def __init__(self) -> None:
        self._slots: dict[tuple[str, str], _Slots] = {}

    def in_flight(self, bot: str, endpoint: str) -> int:
        slots = self._slots.get((bot, endpoint))
        return slots.in_flight if slots is not None else 0

    @asynccontextmanager
    async def slot(
        self, bot: str, endpoint: str, limit: int, timeout: float
    ) -> AsyncIterator[None]:
        """Hold one of `limit` slots for the block; `TooManyInFlight` after `timeout` s."""
        key = (bot, endpoint)
        slots = self._slots.get(key)
        if slots is None:  # a changed limit (bot reload) applies once the endpoint is idle
            slots = self._slots[key] = _Slots(limit, asyncio.Semaphore(limit))
        slots.waiters += 1
        try:
            if slots.semaphore.locked():  # wait, inside the deadline (a free slot needs no timer)
                async with asyncio.timeout(max(timeout, 0)):
                    await slots.semaphore.acquire()
            else:
                await slots.semaphore.acquire()
            slots.in_flight += 1
        except TimeoutError:
            raise TooManyInFlight from None
        finally:
            slots.waiters -= 1
            self._forget_if_idle(key, slots)
        try:
            yield
        finally:
            slots.in_flight -= 1
            slots.semaphore.release()
            self._forget_if_idle(key, slots)

    def _forget_if_idle(self, key: tuple[str, str], slots: _Slots) -> None:
        if slots.in_flight == 0 and slots.waiters == 0 and self._slots.get(key) is slots:
            del self._slots[key]

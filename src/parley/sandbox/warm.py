"""Which warm process serves a call, and when one is ended: the worker's bookkeeping of
processes kept alive between the calls of one code (AWS Lambda's model), without I/O.

A key names one bot's code with its settings (worker.py `job_key`); a process serves only
jobs of its key. A key keeps at most `PER_KEY` processes (a call that finds them all busy
waits a moment for one, or gets a fresh one, ended after answering), the worker at most
`TOTAL` idle ones (the least recently used is ended first); a process is ended after
`CALLS` calls or `IDLE_SECONDS` without one.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

PER_KEY = 4
"""Processes one key keeps while its calls overlap: 8 concurrent dialog clients of one bot
rarely have more than a few code calls in flight, and more than the cores buys nothing."""
TOTAL = 32
"""Idle processes the worker keeps across keys (each holds a few MB of its own)."""
CALLS = 1000
"""Calls a process serves before it is replaced: a slow leak stays bounded."""
IDLE_SECONDS = 300.0
"""Seconds a process waits for its key's next call before it is ended."""


class Process(Protocol):
    key: str
    calls: int
    idle_since: float


P = TypeVar("P", bound=Process)


class WarmSet(Generic[P]):
    """The processes given to keys: `take` an idle one, `adopt` a fresh one, `release` it
    after its call; what these return is for the caller to end."""

    def __init__(
        self,
        per_key: int = PER_KEY,
        total: int = TOTAL,
        calls: int = CALLS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.per_key, self.total, self.calls, self.idle_seconds = (
            per_key,
            total,
            calls,
            idle_seconds,
        )
        self._members: dict[str, set[P]] = {}
        self._idle: dict[str, list[P]] = {}  # most recently used last

    def take(self, key: str) -> P | None:
        """The idle process of `key` used last, if any (its module is warm)."""
        idle = self._idle.get(key)
        if not idle:
            return None
        process = idle.pop()
        if not idle:
            del self._idle[key]
        return process

    def adopt(self, process: P, key: str) -> None:
        """A fresh process now serves `key`."""
        process.key = key
        self._members.setdefault(key, set()).add(process)

    def release(self, process: P, now: float) -> list[P]:
        """`process` answered cleanly: keep it idle for its key's next call, unless it has
        served its calls or its key has more than `per_key`. The processes to end."""
        members = self._members.get(process.key, set())
        if process.calls >= self.calls or len(members) > self.per_key:
            self.discard(process)
            return [process]
        process.idle_since = now
        self._idle.setdefault(process.key, []).append(process)
        ended = []
        while self.idle_count() > self.total:
            oldest = min((stack[0] for stack in self._idle.values()), key=lambda p: p.idle_since)
            self.discard(oldest)
            ended.append(oldest)
        return ended

    def discard(self, process: P) -> None:
        """Forget `process` (it is being ended); doing it twice is harmless."""
        members = self._members.get(process.key)
        if members is not None:
            members.discard(process)
            if not members:
                del self._members[process.key]
        idle = self._idle.get(process.key)
        if idle is not None and process in idle:
            idle.remove(process)
            if not idle:
                del self._idle[process.key]

    def expired(self, now: float) -> list[P]:
        """The idle processes whose wait is over, forgotten: the caller ends them."""
        old = [
            process
            for stack in self._idle.values()
            for process in stack
            if process.idle_since + self.idle_seconds <= now
        ]
        for process in old:
            self.discard(process)
        return old

    def next_expiry(self) -> float | None:
        """When the oldest idle process's wait is over, if any is idle."""
        firsts = [stack[0].idle_since for stack in self._idle.values()]
        return min(firsts) + self.idle_seconds if firsts else None

    def idle_count(self) -> int:
        return sum(len(stack) for stack in self._idle.values())

    def count(self, key: str) -> int:
        """Processes serving `key`, idle or in a call."""
        return len(self._members.get(key, ()))

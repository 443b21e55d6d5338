"""Per-endpoint circuit breakers: stop calling a webhook that keeps failing, probe it later.

An endpoint is scheme, host, port and path (no query, no credentials), counted per bot: one
bot's broken webhook never opens another bot's breaker. After `threshold` consecutive failures
the breaker opens and calls fail at once, without touching the network; after `cool_down`
seconds it lets ONE probe through (half-open): success closes it, failure opens it again for
another cool-down. Only endpoints with failures are remembered, so rendered URLs (the HTTP
block) cannot grow the table without bound.

State lives in one process: each worker has its own breakers. Time comes from an injectable
monotonic clock (tests pass their own); the wall clock only dates the "retrying at" message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from urllib.parse import urlsplit

from parley.webhooks.redact import mask_url

__all__ = ["BreakerState", "Breakers", "Clock", "endpoint_of"]

log = logging.getLogger("parley.webhooks")

Clock = Callable[[], float]


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


def endpoint_of(url: str) -> str:
    """`scheme://host:port/path` of `url`: what a breaker and a concurrency limit count by."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return mask_url(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    where = f"{host}:{port}" if port is not None else host
    return f"{scheme}://{where}{parts.path or '/'}"


@dataclass(slots=True)
class _Breaker:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False


class Breakers:
    """The breakers of every (bot, endpoint) this process has seen fail."""

    def __init__(self, clock: Clock = time.monotonic, wall: Clock = time.time) -> None:
        self._clock = clock
        self._wall = wall
        self._breakers: dict[tuple[str, str], _Breaker] = {}

    def endpoints(self) -> list[tuple[str, str]]:
        """(bot, endpoint) of every breaker remembered (each has failures): for metrics."""
        return list(self._breakers)

    def state(self, bot: str, endpoint: str, cool_down: float) -> BreakerState:
        breaker = self._breakers.get((bot, endpoint))
        if breaker is None or breaker.opened_at is None:
            return BreakerState.CLOSED
        if breaker.probing or self._clock() - breaker.opened_at >= cool_down:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def admit(self, bot: str, endpoint: str, threshold: int, cool_down: float) -> str | None:
        """None to let the call through (taking the probe when half-open); else why not.

        A call admitted here must end with `success`, `failure` or `release`.
        """
        if threshold <= 0:
            return None
        breaker = self._breakers.get((bot, endpoint))
        if breaker is None or breaker.opened_at is None:
            return None
        now = self._clock()
        retry_at = breaker.opened_at + cool_down
        if now < retry_at:
            when = datetime.fromtimestamp(self._wall() + (retry_at - now), UTC)
            return (
                f"circuit open for {endpoint} after {breaker.failures} failures; "
                f"retrying at {when.isoformat(timespec='seconds').replace('+00:00', 'Z')}"
            )
        if breaker.probing:
            return f"circuit half-open for {endpoint}: a probe call is in flight"
        breaker.probing = True
        log.info("webhook breaker half-open for %s (bot %s): probing", endpoint, bot)
        return None

    def success(self, bot: str, endpoint: str) -> None:
        breaker = self._breakers.pop((bot, endpoint), None)
        if breaker is not None and breaker.opened_at is not None:
            log.warning("webhook breaker closed for %s (bot %s): probe succeeded", endpoint, bot)

    def failure(self, bot: str, endpoint: str, threshold: int, reason: str) -> None:
        if threshold <= 0:
            return
        breaker = self._breakers.setdefault((bot, endpoint), _Breaker())
        breaker.failures += 1
        if breaker.probing or (breaker.opened_at is None and breaker.failures >= threshold):
            breaker.opened_at = self._clock()
            breaker.probing = False
            log.warning(
                "webhook breaker open for %s (bot %s) after %d consecutive failures; last: %s",
                endpoint,
                bot,
                breaker.failures,
                reason,
            )

    def release(self, bot: str, endpoint: str) -> None:
        """The call ended without a verdict (cancelled): free the probe for the next call."""
        breaker = self._breakers.get((bot, endpoint))
        if breaker is not None:
            breaker.probing = False

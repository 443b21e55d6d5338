"""Prometheus metrics of one server (one registry per app, never the global default).

Labels stay bounded: bot, node, kind, dialect and status come from the bots' files and
HTTP; endpoints (breakers only) are `scheme://host:port/path`, never a query, and only
endpoints that failed are remembered. No conversation or user ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from parley.model import Invocation

__all__ = ["CONTENT_TYPE_LATEST", "BreakerSource", "Metrics"]

BreakerSource = Callable[[], Iterable[tuple[str, str, float]]]
"""Yields (bot, endpoint, value) at scrape time: 1 open, 0.5 half-open, 0 closed."""

_TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _Breakers(Collector):
    def __init__(self) -> None:
        self.source: BreakerSource | None = None

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "parley_breaker_open",
            "Circuit breaker per bot and endpoint: 1 open, 0.5 half-open, 0 closed.",
            labels=["bot", "endpoint"],
        )
        for bot, endpoint, value in self.source() if self.source else ():
            family.add_metric([bot, endpoint], value)
        yield family


class Metrics:
    """The server's metrics; `render()` is the `/metrics` body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.turns = Counter(
            "parley_turns", "Turns served, by the conversation's state after the turn "
            "(`error` when the turn raised).", ["bot", "state"], registry=r,
        )  # fmt: skip
        self.turn_seconds = Histogram(
            "parley_turn_seconds", "Turn latency, lock to save, in seconds.", ["bot"],
            buckets=_TURN_BUCKETS, registry=r,
        )  # fmt: skip
        self.in_flight = Gauge(
            "parley_turns_in_flight", "Turns running now (holding their lock).", registry=r
        )
        self.calls = Counter(
            "parley_calls", "Outbound calls (webhook, event, http, logic) by HTTP status, or "
            "`error` when no status came back.", ["bot", "node", "kind", "dialect", "status"],
            registry=r,
        )  # fmt: skip
        self.call_seconds = Histogram(
            "parley_call_seconds", "Outbound call latency in seconds (retries included).",
            ["bot", "dialect", "kind"], buckets=_CALL_BUCKETS, registry=r,
        )  # fmt: skip
        self.lock_waiting = Gauge(
            "parley_lock_waiting", "Turns (and agent actions) waiting for their conversation's"
            " lock.", registry=r,
        )  # fmt: skip
        self._breakers = _Breakers()
        r.register(self._breakers)
        self._children: dict[tuple[Any, ...], Any] = {}

    def watch_lock_waiting(self, source: Callable[[], float]) -> None:
        self.lock_waiting.set_function(source)

    def watch_breakers(self, source: BreakerSource) -> None:
        self._breakers.source = source

    def turn(self, bot: str, state: str, seconds: float) -> None:
        self._child(self.turns, bot, state).inc()
        self._child(self.turn_seconds, bot).observe(seconds)

    def call(self, invocation: Invocation) -> None:
        dialect = invocation.dialect or ""
        status = str(invocation.status) if invocation.status is not None else "error"
        bot, kind = invocation.bot, invocation.kind
        self._child(self.calls, bot, invocation.node, kind, dialect, status).inc()
        self._child(self.call_seconds, bot, dialect, kind).observe(invocation.latency_ms / 1000)

    def _child(self, metric: Any, *labels: str) -> Any:
        # `labels()` takes a lock and builds a key on every call; on the hot path of every
        # turn a plain dict of the (bounded) label tuples is cheaper.
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)

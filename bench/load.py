"""Closed-loop load on a dialog API (127.0.0.1 only).

N workers, each with its own keep-alive connection and one conversation at a time: send a
message, wait for the reply, send the next; after `turns` messages a worker starts a fresh
conversation_id. A reply counts only if one of its messages is exactly the webhook's text.
Each level runs a short unmeasured warm-up, then stops at its duration or its message
budget, whichever comes first, while the given processes' RSS (sampled, peak) and CPU time
are read from /proc.

    python -m bench.load --url http://127.0.0.1:8000/api/v1/bots/shop/dialog \\
        --concurrency 16 --duration 10 --pid server=1234
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import os
import sys
import time
import types
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.procfs import cpu_s, rss_kb, tree_cpu_s, tree_rss_kb
from bench.workload import MESSAGES

_SAMPLE_EVERY_S = 0.1
_MAX_SAMPLES = 5
LOAD = "load"  # the name this process's own CPU is reported under


@dataclass(frozen=True)
class Plan:
    concurrency: int
    duration_s: float = 15.0
    max_messages: int = 100_000
    turns: int = 10
    warmup_s: float = 2.0
    request_timeout_s: float = 30.0


@dataclass
class _Tally:
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def fail(self, why: str) -> None:
        self.errors += 1
        if len(self.samples) < _MAX_SAMPLES:
            self.samples.append(why)


@dataclass(frozen=True)
class Level:
    """One measured level: throughput, latency and what each process cost."""

    concurrency: int
    duration_s: float
    ok: int
    errors: int
    error_samples: list[str]
    turns_per_s: float
    latency_ms: dict[str, float | None]
    peak_rss_mb: dict[str, float]
    cpu_s: dict[str, float]
    cpu_ms_per_turn: dict[str, float | None]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def answer_sniffio_locally() -> None:
    """Spare the load generator a failed import on every request.

    httpcore asks `sniffio` which event loop runs on each request; with sniffio not installed
    (recent anyio no longer brings it) every ask is a failed search of sys.path, about a fifth
    of this process's CPU per request. The generator only ever runs on asyncio, so a stand-in
    answers for it. The servers under test are left as they are.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        stand_in = types.ModuleType("sniffio")
        stand_in.__dict__["current_async_library"] = lambda: "asyncio"
        sys.modules["sniffio"] = stand_in


def require_loopback(url: str) -> None:
    if urlsplit(url).hostname != "127.0.0.1":
        raise SystemExit(f"refusing {url!r}: the bench only talks to 127.0.0.1")


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def open_clients(
    stack: AsyncExitStack, url: str, count: int, timeout: float
) -> list[httpx.AsyncClient]:
    """`count` keep-alive clients of one connection each, for `url`, closed with `stack`.

    One client per worker, not one shared pool: with many requests in flight, httpx's pool
    costs about 2.5 times the CPU per request (measured 1.4-1.8 ms against 0.6 ms on this
    machine), and the load generator shares the cores with the servers it measures.
    """
    require_loopback(url)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return [
        await stack.enter_async_context(
            httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False)
        )
        for _ in range(count)
    ]


async def run_levels(url: str, plans: Sequence[Plan], pids: Mapping[str, int]) -> list[Level]:
    """Every plan in turn against one URL."""
    async with AsyncExitStack() as stack:
        count = max(p.concurrency for p in plans)
        timeout = max(p.request_timeout_s for p in plans)
        clients = await open_clients(stack, url, count, timeout)
        return [await measure(clients, url, plan, pids) for plan in plans]


async def smoke(url: str) -> None:
    """One conversation asking each question once; raises RuntimeError on a wrong reply."""
    require_loopback(url)
    async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
        for text, expected in MESSAGES:
            why = await _turn(client, url, f"smoke-{os.getpid()}", text, expected)
            if why is not None:
                raise RuntimeError(f"{url} answered {text!r} wrongly: {why}")


async def measure(
    clients: Sequence[httpx.AsyncClient], url: str, plan: Plan, pids: Mapping[str, int]
) -> Level:
    require_loopback(url)
    tag = f"r{os.getpid()}-{int(time.time())}-c{plan.concurrency}"
    await _closed_loop(clients, url, plan, f"{tag}-warm", plan.warmup_s, plan.max_messages)
    pids = {**pids, LOAD: os.getpid()}
    cpu_before = {name: process_cpu_s(name, pid) for name, pid in pids.items()}
    peak = {name: process_rss_kb(name, pid) for name, pid in pids.items()}
    sampler = asyncio.create_task(_sample_rss(pids, peak))
    started = time.perf_counter()
    try:
        tally = await _closed_loop(clients, url, plan, tag, plan.duration_s, plan.max_messages)
    finally:
        sampler.cancel()
    elapsed = time.perf_counter() - started
    cpu = {
        name: round(process_cpu_s(name, pid) - cpu_before[name], 3) for name, pid in pids.items()
    }
    return _level(plan, elapsed, tally, peak, cpu)


def _level(
    plan: Plan, elapsed: float, tally: _Tally, peak: dict[str, int], cpu: dict[str, float]
) -> Level:
    ordered = sorted(tally.latencies)
    ok = len(ordered)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return Level(
        concurrency=plan.concurrency,
        duration_s=round(elapsed, 3),
        ok=ok,
        errors=tally.errors,
        error_samples=tally.samples,
        turns_per_s=round(ok / elapsed, 1),
        latency_ms={
            "p50": ms(percentile(ordered, 50)),
            "p95": ms(percentile(ordered, 95)),
            "p99": ms(percentile(ordered, 99)),
            "max": ms(ordered[-1] if ordered else None),
        },
        peak_rss_mb={name: round(kb / 1024, 1) for name, kb in peak.items()},
        cpu_s=cpu,
        cpu_ms_per_turn={n: round(s * 1000 / ok, 3) if ok else None for n, s in cpu.items()},
    )


def process_cpu_s(name: str, pid: int) -> float:
    """A service's CPU with its workers'; the load generator's own (its children are the
    services)."""
    return cpu_s(pid) if name == LOAD else tree_cpu_s(pid)


def process_rss_kb(name: str, pid: int) -> int:
    return rss_kb(pid) if name == LOAD else tree_rss_kb(pid)


async def _sample_rss(pids: Mapping[str, int], peak: dict[str, int]) -> None:
    while True:
        for name, pid in pids.items():
            peak[name] = max(peak[name], process_rss_kb(name, pid))
        await asyncio.sleep(_SAMPLE_EVERY_S)


async def _closed_loop(
    clients: Sequence[httpx.AsyncClient],
    url: str,
    plan: Plan,
    tag: str,
    seconds: float,
    budget: int,
) -> _Tally:
    tally = _Tally()
    stop_at = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        client, turn = clients[n], 0
        while time.perf_counter() < stop_at and tally.sent < budget:
            tally.sent += 1
            text, expected = MESSAGES[(n + turn) % len(MESSAGES)]
            conversation_id = f"{tag}-w{n}-{turn // plan.turns}"
            turn += 1
            started = time.perf_counter()
            why = await _turn(client, url, conversation_id, text, expected)
            if why is None:
                tally.latencies.append(time.perf_counter() - started)
            else:
                tally.fail(why)

    # The request timeout bounds each turn, this bounds the level even if something hangs.
    async with asyncio.timeout(seconds + plan.request_timeout_s + 5):
        await asyncio.gather(*(worker(n) for n in range(plan.concurrency)))
    return tally


async def _turn(
    client: httpx.AsyncClient, url: str, conversation_id: str, text: str, expected: str
) -> str | None:
    """None for a right reply, else why it is wrong."""
    request = {"conversation_id": conversation_id, "message": {"type": "text", "content": text}}
    try:
        response = await client.post(url, json=request)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return repr(exc)[:200]
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    messages = body.get("messages") if isinstance(body, dict) else None
    if isinstance(messages, list) and any(
        isinstance(m, dict) and m.get("content") == expected for m in messages
    ):
        return None
    return f"no {expected!r} in {str(messages)[:200]}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, action="append", required=True)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--max-messages", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--pid", action="append", default=[], help="name=pid to sample")
    args = parser.parse_args()
    answer_sniffio_locally()
    pids = {name: int(pid) for name, _, pid in (p.partition("=") for p in args.pid)}
    plans = [
        Plan(c, duration_s=args.duration, max_messages=args.max_messages, turns=args.turns)
        for c in args.concurrency
    ]
    for level in asyncio.run(run_levels(args.url, plans, pids)):
        print(json.dumps(level.to_json()))


if __name__ == "__main__":
    main()

"""Code nodes' cost: `python -m bench.code_nodes` (about a minute; `--seconds` per phase).

1. The sandbox alone: a trivial `main()` cold (a new pool: worker start-up and first call),
   warm (p50/p95/p99 over calls back to back, and over calls 50 ms apart: the code's warm
   process serves them), and the first call of a new code (a fresh process, 50 ms apart).
2. Turns per second through the dialog API: a code node against the same `main()` served
   as a Haptik webhook on loopback (`parley.sdk.haptik.haptik_main_app`), with concurrent
   clients, in alternating rounds (the machine's load drifts: both sides see the same).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from parley.bot import load_bot
from parley.config import Settings
from parley.sandbox import Job, SandboxPool
from parley.sdk.haptik import haptik_main_app
from parley.server.app import create_app

MAIN = """\
import json
def main(event, context):
    body = json.loads(event["body"])
    answer = {"status": True, "response": ["ok " + body["user"]["user_id"]]}
    return {"statusCode": 200, "body": json.dumps(answer)}
"""


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, p99 {cuts[98]:.1f} ms"


async def sandbox_latency(seconds: float) -> None:
    job = Job(MAIN, "main.py", "main", '{"user": {"user_id": "u"}}')
    cold = []
    for _ in range(5):
        started = time.perf_counter()
        pool = SandboxPool()
        level = await pool.start()
        await pool.run(job)
        cold.append((time.perf_counter() - started) * 1000)
        await pool.aclose()
    pool = SandboxPool()
    await pool.start()
    warm, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = await pool.run(job)
        assert result.ok, result.error
        warm.append(result.latency_ms)
    paced = []  # one call every 50 ms, as a bot's traffic comes: spares are ready each time
    for _ in range(100):
        result = await pool.run(job)
        assert result.ok, result.error
        paced.append(result.latency_ms)
        await asyncio.sleep(0.05)
    fresh = []  # each a new bot's first call: a spare process loads the code
    for n in range(50):
        result = await pool.run(replace(job, owner=f"bot-{n}"))
        assert result.ok, result.error
        fresh.append(result.latency_ms)
        await asyncio.sleep(0.05)
    await pool.aclose()
    print(f"isolation: {level.value}")
    print(f"cold (new worker + call): median {statistics.median(cold):.1f} ms of {len(cold)}")
    print(f"warm trivial main(), back to back: {percentiles(warm)} ({len(warm)} calls)")
    print(f"warm trivial main(), one every 50 ms: {percentiles(paced)} ({len(paced)} calls)")
    print(f"first call of a new code, one every 50 ms: {percentiles(fresh)} ({len(fresh)} calls)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(app: Any) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def write_bot(folder: Path, name: str, integration: str) -> Path:
    folder = folder / name
    folder.mkdir()
    text = (
        f"name: {name}\nintents: {{go: {{examples: [go]}}}}\n"
        f"nodes:\n  go:\n    intents: go\n{textwrap.indent(integration, ' ' * 4)}"
    )
    (folder / "bot.yaml").write_text(text)
    return folder


async def turns(base: str, bot: str, seconds: float, clients: int) -> float:
    done = 0
    deadline = time.monotonic() + seconds

    async def client(n: int) -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=base, timeout=30) as api:
            while time.monotonic() < deadline:
                body = {
                    "conversation_id": f"{bot}-{n}-{done}",
                    "message": {"type": "text", "content": "go"},
                    "user": {"id": f"u{n}"},
                }
                answer = await api.post(f"/api/v1/bots/{bot}/dialog", json=body)
                assert answer.status_code == 200 and "ok" in answer.text, answer.text
                done += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return done / seconds


async def throughput(seconds: float, clients: int, rounds: int = 4) -> None:
    namespace: dict[str, Any] = {}
    exec(MAIN, namespace)
    with tempfile.TemporaryDirectory() as tmp, running(haptik_main_app(namespace["main"])) as hook:
        folder = Path(tmp)
        code_yaml = "code: |\n" + textwrap.indent(MAIN, "  ")
        code_bot = write_bot(folder, "code", code_yaml)
        hook_bot = write_bot(folder, "hook", f"webhook: {{url: '{hook}/'}}")
        settings = Settings(database_url=f"sqlite:///{folder}/parley.db")
        app = create_app([load_bot(code_bot), load_bot(hook_bot)], settings)
        with running(app) as base:
            rates: dict[str, list[float]] = {"code": [], "hook": []}
            for bot in rates:
                await turns(base, bot, 1.0, clients)  # warm up
            for _ in range(rounds):
                for bot, done in rates.items():
                    done.append(await turns(base, bot, seconds / rounds, clients))
            for bot, done in rates.items():
                label = "code node" if bot == "code" else "loopback webhook"
                rounds_shown = " ".join(f"{rate:.0f}" for rate in done)
                print(
                    f"{label}: {statistics.mean(done):.0f} turns/s ({clients} clients, "
                    f"{seconds:g} s in {rounds} rounds: {rounds_shown})"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent dialog clients")
    args = parser.parse_args()
    asyncio.run(sandbox_latency(args.seconds))
    asyncio.run(throughput(args.seconds, args.clients))


if __name__ == "__main__":
    main()

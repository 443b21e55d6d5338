"""Several `parley run` processes on one PostgreSQL and one Redis, and a client that retries
a message by its `message_id` until some server answers it."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.harness import free_port
from tests.scale.services import wait_port

PARLEY = [sys.executable, "-c", "from parley.cli import main; main()"]
DIALOG = "/api/v1/bots/shop/dialog"
LEASE = "2"  # seconds: a killed server's locks go this long after its last heartbeat


@dataclass
class Server:
    """One `parley run` process; `kill` is SIGKILL, `start` brings it back on its port."""

    bot: Path
    database: str
    redis: str
    port: int = field(default_factory=free_port)
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        args = [*PARLEY, "run", str(self.bot), "--port", str(self.port)]
        args += ["--database", self.database, "--redis", self.redis, "--log-level", "warning"]
        args += ["--workers", str(self.workers)]
        env = {**os.environ, "PARLEY_LOCK_LEASE": LEASE, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)

    def wait(self) -> None:
        wait_port(self.port, self.process, limit=60)

    def start(self) -> None:
        self.spawn()
        self.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def servers(count: int, bot: Path, database: str, redis: str) -> Iterator[list[Server]]:
    made = [Server(bot, database, redis) for _ in range(count)]
    try:
        for server in made:
            server.spawn()
        for server in made:
            server.wait()
        yield made
    finally:
        for server in made:
            server.stop()


@dataclass
class Failures:
    """Every answer that was not a 200: its status and error code (0: no answer at all)."""

    seen: list[tuple[int, str]] = field(default_factory=list)


async def send(
    client: httpx.AsyncClient,
    bases: list[str],
    conversation: str,
    message_id: str,
    failures: Failures,
    text: str = "count one more",
    give_up: float = 45.0,
) -> dict[str, Any]:
    """Sends until a server answers 200, turning to the next server after each failure."""
    body = {"conversation_id": conversation, "message": {"content": text}}
    body["message_id"] = message_id
    deadline = asyncio.get_running_loop().time() + give_up
    for base in itertools.cycle(bases):
        try:
            response = await client.post(base + DIALOG, json=body)
        except httpx.TransportError:
            failures.seen.append((0, "transport"))
        else:
            if response.status_code == 200:
                answer: dict[str, Any] = response.json()
                return answer
            failures.seen.append((response.status_code, response.json()["error"]["code"]))
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{conversation}/{message_id} was never answered")
        await asyncio.sleep(0.05)
    raise AssertionError("unreachable")


def count_of(answer: dict[str, Any]) -> int:
    count: int = answer["conversation"]["data"]["count"]
    assert answer["messages"][0]["content"] == f"count {count}"
    return count


async def transcript(client: httpx.AsyncClient, base: str, conversation: str) -> list[str]:
    """The conversation's history as `sender: text` lines, oldest first."""
    url = f"{base}/api/v1/bots/shop/conversations/{conversation}"
    response = await client.get(url, params={"limit": 1000})
    assert response.status_code == 200, response.text
    return [f"{h['sender']}: {h['message']['content']}" for h in response.json()["history"]]

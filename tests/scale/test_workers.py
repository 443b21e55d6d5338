"""Two parley servers (one with two workers) on one PostgreSQL and one Redis, under load from
clients that retry by `message_id`: a server killed, Redis restarted, PostgreSQL restarted —
every message and its reply stored exactly once, no update lost, no conversation left
locked."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from typer.testing import CliRunner

from parley.cli import app
from tests.scale.deployment import DIALOG, Failures, Server, count_of, send, transcript
from tests.scale.services import PostgresServer, RedisServer
from tests.server.test_dialog_e2e import make_bot
from tests.webhooks.seed_server import running

CONVERSATIONS, MESSAGES = 5, 6


@dataclass
class Deployment:
    """`one` is `parley run --workers 2`, `two` a single process; both on `redis` and one
    PostgreSQL database. Tests share it (each with conversations of its own) and may kill
    `two`, restart Redis or restart PostgreSQL."""

    one: Server
    two: Server
    redis: RedisServer

    @property
    def bases(self) -> list[str]:
        return [self.one.url, self.two.url]


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, postgres_cluster: PostgresServer
) -> Iterator[Deployment]:
    database = asyncio.run(create_database(postgres_cluster))
    redis = RedisServer()
    redis.start()
    with running() as webhook:
        bot = make_bot(tmp_path_factory.mktemp("bots"), webhook)
        one = Server(bot, database, redis.url, workers=2)
        two = Server(bot, database, redis.url)
        try:
            one.spawn()
            two.spawn()
            one.wait()
            two.wait()
            yield Deployment(one, two, redis)
        finally:
            one.stop()
            two.stop()
            redis.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


async def load(
    client: httpx.AsyncClient,
    bases: list[str],
    prefix: str,
    failures: Failures,
    chaos: Callable[[], Awaitable[None]],
    after: int = 8,
) -> None:
    """CONVERSATIONS clients send MESSAGES each, alternating servers; once `after` answers
    came back, `chaos` runs while they go on. Each client sees its counter go 1, 2, 3..."""
    answered = 0

    async def talk(conversation: str) -> None:
        nonlocal answered
        for i in range(MESSAGES):
            order = bases[i % len(bases) :] + bases[: i % len(bases)]
            answer = await send(client, order, conversation, f"{conversation}-{i}", failures)
            assert count_of(answer) == i + 1
            answered += 1

    async def trouble() -> None:
        while answered < after:
            await asyncio.sleep(0.01)
        await chaos()

    await asyncio.gather(*(talk(f"{prefix}{n}") for n in range(CONVERSATIONS)), trouble())


async def assert_exactly_once(client: httpx.AsyncClient, bases: list[str], prefix: str) -> None:
    """Every transcript holds each message and its reply once, and every conversation still
    takes a new message on every server."""
    for n in range(CONVERSATIONS):
        lines = await transcript(client, bases[0], f"{prefix}{n}")
        expected = []
        for count in range(1, MESSAGES + 1):
            expected += ["user: count one more", f"bot: count {count}"]
        assert lines == expected
    failures = Failures()
    for i, base in enumerate(bases):
        for n in range(CONVERSATIONS):
            answer = await asyncio.wait_for(
                send(client, [base], f"{prefix}{n}", f"after-{i}", failures), 15
            )
            assert count_of(answer) == MESSAGES + 1 + i
    assert failures.seen == []


def assert_failed_cleanly(failures: Failures) -> None:
    """No failure was a 500: each was a lost connection, a JSON 503, or a 409 when a lock
    was lost (a Redis restart, or a worker stalled past its lease) and the store's version
    check refused the second writer."""
    assert all(status in (0, 503, 409) for status, _ in failures.seen), failures.seen


async def probe(client: httpx.AsyncClient, base: str) -> httpx.Response:
    body = {"conversation_id": "probe", "message": {"content": "hi"}, "message_id": "probe-1"}
    return await client.post(base + DIALOG, json=body)


async def create_database(cluster: PostgresServer) -> str:
    name = f"parley_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return cluster.url(name)


async def test_a_killed_server_loses_no_message_and_holds_no_conversation(
    deployment: Deployment, client: httpx.AsyncClient
) -> None:
    failures = Failures()

    async def kill_and_restart() -> None:
        deployment.two.kill()
        await asyncio.to_thread(deployment.two.start)

    await load(client, deployment.bases, "kill", failures, kill_and_restart)
    assert_failed_cleanly(failures)
    assert (0, "transport") in failures.seen  # the load did reach the killed server
    await assert_exactly_once(client, deployment.bases, "kill")


async def test_redis_restart_fails_turns_with_503_then_they_succeed(
    deployment: Deployment, client: httpx.AsyncClient
) -> None:
    failures = Failures()

    async def restart_redis() -> None:
        deployment.redis.stop()
        down = await probe(client, deployment.one.url)
        assert down.status_code == 503, down.text
        assert down.json()["error"]["code"] == "unavailable"
        await asyncio.sleep(0.3)
        deployment.redis.start()

    await load(client, deployment.bases, "redis", failures, restart_redis)
    assert_failed_cleanly(failures)
    await assert_exactly_once(client, deployment.bases, "redis")


async def test_postgres_restart_fails_turns_with_503_then_they_succeed(
    deployment: Deployment, postgres_cluster: PostgresServer, client: httpx.AsyncClient
) -> None:
    failures = Failures()

    async def restart_postgres() -> None:
        await asyncio.to_thread(postgres_cluster.stop)
        down = await probe(client, deployment.one.url)
        assert down.status_code == 503, down.text
        assert down.json()["error"]["code"] == "storage_error"
        await asyncio.to_thread(postgres_cluster.start)

    await load(client, deployment.bases, "pg", failures, restart_postgres)
    assert_failed_cleanly(failures)
    await assert_exactly_once(client, deployment.bases, "pg")


async def test_concurrent_senders_through_two_servers_lose_no_update(
    deployment: Deployment, client: httpx.AsyncClient
) -> None:
    senders, each = 8, 5
    failures = Failures()
    bases = deployment.bases

    async def sender(s: int) -> list[int]:
        counts = []
        for i in range(each):
            order = bases[(s + i) % 2 :] + bases[: (s + i) % 2]
            counts.append(count_of(await send(client, order, "shared", f"s{s}-{i}", failures)))
        return counts

    seen = await asyncio.gather(*(sender(s) for s in range(senders)))

    assert_failed_cleanly(failures)  # a worker's first query after PostgreSQL's restart
    assert sorted(c for counts in seen for c in counts) == list(range(1, senders * each + 1))
    assert all(counts == sorted(counts) for counts in seen)  # each sender's order kept
    lines = await transcript(client, bases[0], "shared")
    assert [line for line in lines if line.startswith("bot:")] == [
        f"bot: count {n}" for n in range(1, senders * each + 1)
    ]


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--database", "postgresql://u@db/parley"], "needs --redis URL"),
        (["--redis", "redis://r", "--database", "sqlite:///x.db"], "needs a PostgreSQL"),
    ],
)
def test_several_workers_need_redis_and_postgresql(
    tmp_path: Path, options: list[str], says: str
) -> None:
    bot = make_bot(tmp_path, "http://127.0.0.1:9")
    result = CliRunner().invoke(app, ["run", str(bot), "--workers", "2", *options])
    assert result.exit_code == 1
    assert says in result.output

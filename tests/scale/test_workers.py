"""Several parley servers on one PostgreSQL and one Redis, under load from clients that retry
by `message_id`: a server killed, Redis restarted, PostgreSQL restarted — every message and
its reply stored exactly once, no update lost, no conversation left locked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from parley.cli import app
from tests.scale.deployment import (
    DIALOG,
    Failures,
    Server,
    count_of,
    send,
    servers,
    transcript,
)
from tests.scale.services import PostgresServer, RedisServer
from tests.server.test_dialog_e2e import make_bot
from tests.webhooks.seed_server import running

CONVERSATIONS, MESSAGES = 6, 8


@pytest.fixture
def bot(tmp_path: Path) -> AsyncIterator[Path]:
    with running() as webhook:
        yield make_bot(tmp_path, webhook)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


async def load(
    client: httpx.AsyncClient,
    bases: list[str],
    failures: Failures,
    chaos: Callable[[], Awaitable[None]],
    after: int = 12,
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

    await asyncio.gather(*(talk(f"c{n}") for n in range(CONVERSATIONS)), trouble())


async def assert_exactly_once(client: httpx.AsyncClient, bases: list[str]) -> None:
    """Every transcript holds each message and its reply once, and every conversation still
    takes a new message on every server."""
    for n in range(CONVERSATIONS):
        lines = await transcript(client, bases[0], f"c{n}")
        expected = []
        for count in range(1, MESSAGES + 1):
            expected += ["user: count one more", f"bot: count {count}"]
        assert lines == expected
    failures = Failures()
    for i, base in enumerate(bases):
        for n in range(CONVERSATIONS):
            answer = await asyncio.wait_for(
                send(client, [base], f"c{n}", f"after-{i}", failures), 15
            )
            assert count_of(answer) == MESSAGES + 1 + i
    assert failures.seen == []


def assert_failed_cleanly(failures: Failures) -> None:
    """No failure was a 500: each was a lost connection or a JSON 503."""
    assert all(status in (0, 503) for status, _ in failures.seen), failures.seen


async def probe(client: httpx.AsyncClient, base: str) -> httpx.Response:
    body = {"conversation_id": "probe", "message": {"content": "hi"}, "message_id": "probe-1"}
    return await client.post(base + DIALOG, json=body)


async def test_a_killed_server_loses_no_message_and_holds_no_conversation(
    bot: Path, postgres_url: str, redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    with servers(2, bot, postgres_url, redis_server.url) as (one, two):
        failures = Failures()

        async def kill_and_restart() -> None:
            one.kill()
            await asyncio.to_thread(one.start)

        await load(client, [one.url, two.url], failures, kill_and_restart)
        assert_failed_cleanly(failures)
        await assert_exactly_once(client, [one.url, two.url])


async def test_redis_restart_fails_turns_with_503_then_they_succeed(
    bot: Path, postgres_url: str, redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    with servers(2, bot, postgres_url, redis_server.url) as (one, two):
        failures = Failures()

        async def restart_redis() -> None:
            redis_server.stop()
            down = await probe(client, one.url)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "unavailable"
            await asyncio.sleep(0.3)
            redis_server.start()

        await load(client, [one.url, two.url], failures, restart_redis)
        assert_failed_cleanly(failures)
        await assert_exactly_once(client, [one.url, two.url])


async def test_postgres_restart_fails_turns_with_503_then_they_succeed(
    bot: Path,
    postgres_url: str,
    postgres_cluster: PostgresServer,
    redis_server: RedisServer,
    client: httpx.AsyncClient,
) -> None:
    with servers(2, bot, postgres_url, redis_server.url) as (one, two):
        failures = Failures()

        async def restart_postgres() -> None:
            await asyncio.to_thread(postgres_cluster.stop)
            down = await probe(client, one.url)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "storage_error"
            await asyncio.to_thread(postgres_cluster.start)

        await load(client, [one.url, two.url], failures, restart_postgres)
        assert_failed_cleanly(failures)
        await assert_exactly_once(client, [one.url, two.url])


async def test_concurrent_senders_through_two_servers_lose_no_update(
    bot: Path, postgres_url: str, redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    senders, each = 8, 5
    with servers(2, bot, postgres_url, redis_server.url) as (one, two):
        failures = Failures()
        bases = [one.url, two.url]

        async def sender(s: int) -> list[int]:
            counts = []
            for i in range(each):
                order = bases[(s + i) % 2 :] + bases[: (s + i) % 2]
                counts.append(count_of(await send(client, order, "shared", f"s{s}-{i}", failures)))
            return counts

        seen = await asyncio.gather(*(sender(s) for s in range(senders)))

        assert failures.seen == []
        assert sorted(c for counts in seen for c in counts) == list(range(1, senders * each + 1))
        assert all(counts == sorted(counts) for counts in seen)  # each sender's order kept
        lines = await transcript(client, one.url, "shared")
        assert [line for line in lines if line.startswith("bot:")] == [
            f"bot: count {n}" for n in range(1, senders * each + 1)
        ]


async def test_workers_share_one_port(
    bot: Path, postgres_url: str, redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    server = Server(bot, postgres_url, redis_server.url, workers=2)
    server.start()
    try:
        failures = Failures()
        answers = await asyncio.gather(
            *(send(client, [server.url], f"w{n}", "m-1", failures) for n in range(8))
        )
        assert [count_of(a) for a in answers] == [1] * 8
        assert failures.seen == []
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--database", "postgresql://u@db/parley"], "needs --redis URL"),
        (["--redis", "redis://r", "--database", "sqlite:///x.db"], "needs a PostgreSQL"),
    ],
)
def test_several_workers_need_redis_and_postgresql(
    bot: Path, options: list[str], says: str
) -> None:
    result = CliRunner().invoke(app, ["run", str(bot), "--workers", "2", *options])
    assert result.exit_code == 1
    assert says in result.output

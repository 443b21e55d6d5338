"""State that several workers share through Redis: live events and agents' marks, between
two apps (two "workers") on one Redis and one PostgreSQL database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from parley.config import Settings
from parley.errors import Unavailable
from parley.runtime.events import Event, conversation_topic
from parley.runtime.redis_events import RedisEvents
from parley.runtime.redis_marks import RedisMarks
from tests.harness import serve, write_bot
from tests.initai.test_callbacks import BOT as LOGIC_BOT
from tests.initai.test_callbacks import said, start_turn
from tests.scale.services import RedisServer
from tests.server.test_dialog_e2e import make_bot
from tests.webhooks.seed_server import running


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_server.url, socket_connect_timeout=1)
    try:
        yield redis
    finally:
        await redis.aclose()


async def test_an_event_published_by_one_worker_reaches_anothers_subscriber(
    client: Redis,
) -> None:
    one, two = RedisEvents(client), RedisEvents(client)
    event = Event("message", "shop", "c1", "support", {"sender": "bot"}, 7)
    try:
        async with two.subscribe(conversation_topic("shop", "c1")) as queue:
            await asyncio.sleep(0.05)  # the subscription reaches Redis
            await one.publish(event)
            await one.publish(Event("message", "shop", "c2", None))  # another conversation
            assert await asyncio.wait_for(queue.get(), 5) == event
            await asyncio.sleep(0.1)
            assert queue.empty()
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_mark_set_by_one_worker_is_taken_once_by_another(client: Redis) -> None:
    one, two = RedisMarks(client), RedisMarks(client)
    await one.mark("shop\0c1")
    assert await two.take("shop\0c1") is True
    assert await one.take("shop\0c1") is False


async def test_taking_a_mark_without_redis_is_unavailable(redis_server: RedisServer) -> None:
    redis = Redis.from_url(redis_server.url, socket_connect_timeout=1)
    redis_server.stop()
    try:
        with pytest.raises(Unavailable):
            await RedisMarks(redis).take("shop\0c1")
    finally:
        await redis.aclose()


async def test_a_stream_on_one_server_shows_a_turn_served_by_another(
    tmp_path: Path, postgres_url: str, redis_server: RedisServer
) -> None:
    settings = Settings(database_url=postgres_url, redis_url=redis_server.url)
    with running() as webhook:
        bot = make_bot(tmp_path, webhook)
        with serve([bot], settings) as one, serve([bot], settings) as two:
            async with httpx.AsyncClient(timeout=10) as http:
                frames = asyncio.create_task(_first_messages(http, one, "c1", count=2))
                await asyncio.sleep(0.3)  # the stream is open and subscribed
                body = {"conversation_id": "c1", "message": {"content": "hello"}}
                sent = await http.post(f"{two}/api/v1/bots/shop/dialog", json=body)
                assert sent.status_code == 200, sent.text
                messages = await asyncio.wait_for(frames, 10)
    assert [(m["sender"], m["message"]["content"]) for m in messages] == [
        ("user", "hello"),
        ("bot", "Hello! Ask me a price."),
    ]


async def _first_messages(
    http: httpx.AsyncClient, base: str, conversation: str, count: int
) -> list[dict[str, object]]:
    url = f"{base}/api/v1/bots/shop/conversations/{conversation}/events"
    found: list[dict[str, object]] = []
    async with http.stream("GET", url) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                found.append(json.loads(line[6:]))
                if len(found) == count:
                    return found
    return found


async def test_a_logic_result_posted_to_another_server_reaches_the_waiting_turn(
    tmp_path: Path, postgres_url: str, redis_server: RedisServer, logic_url: str
) -> None:
    settings = Settings(database_url=postgres_url, redis_url=redis_server.url, secret_key="s")
    bot = write_bot(tmp_path / "remote", LOGIC_BOT.format(url=logic_url))
    with serve([bot], settings) as one, serve([bot], settings) as other:
        async with httpx.AsyncClient(base_url=one, timeout=10) as api:
            turn = await start_turn(api)
            url = other + turn.url  # the logic server reached the other server

            fetched = await api.get(url.replace("/result", "/payload"), headers=turn.auth())
            envelope = turn.envelope(messages=said("Hi!"))
            first = await api.post(url, json=envelope, headers=turn.auth())
            again = await api.post(url, json=turn.envelope(), headers=turn.auth())
            unknown = await api.post(
                url.replace(turn.id, "nope"), json=turn.envelope(), headers=turn.auth()
            )

            assert fetched.status_code == 200, fetched.text
            assert fetched.json()["body"]["payload"]["payload"] == turn.payload
            assert (first.status_code, first.json()) == (200, {"body": "OK", "error": None})
            assert again.status_code == 409  # the owner remembers it is finished
            assert unknown.status_code == 401  # the token names another invocation
            answer = await turn.answer()
            assert [m["content"] for m in answer["messages"]] == ["Hi!"]


async def test_a_stream_opened_while_redis_is_down_is_a_503_json_error(
    tmp_path: Path, postgres_url: str, redis_server: RedisServer
) -> None:
    settings = Settings(database_url=postgres_url, redis_url=redis_server.url)
    with running() as webhook, serve([make_bot(tmp_path, webhook)], settings) as base:
        redis_server.stop()
        async with httpx.AsyncClient(timeout=10) as http:
            url = f"{base}/api/v1/bots/shop/conversations/c1/events"
            answer = await http.get(url)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "unavailable"

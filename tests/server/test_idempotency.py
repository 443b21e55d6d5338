"""Idempotent turns end to end: a real parley server, the seed's real webhook on 127.0.0.1, and
clients that retry by `message_id`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from parley.bot import load_bot
from parley.config import Settings
from parley.model import HistoryEntry, Message, TurnRecord
from parley.runtime import Callers, Inbound, Runtime
from parley.storage import MemoryStore
from tests.harness import serve, write_bot
from tests.server.test_dialog_e2e import make_bot
from tests.webhooks.seed_server import running

DIALOG = "/api/v1/bots/shop/dialog"


@pytest.fixture(params=["sqlite", "memory"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path}/parley.db" if request.param == "sqlite" else "memory://"
    return Settings(database_url=url, max_body_bytes=16_384)


@pytest.fixture
async def api(tmp_path: Path, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    with running() as webhook, serve([make_bot(tmp_path, webhook)], settings) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield client


async def send(
    api: httpx.AsyncClient,
    text: str,
    message_id: str | None,
    conversation: str = "c1",
    kind: str = "text",
) -> httpx.Response:
    body: dict[str, Any] = {
        "conversation_id": conversation,
        "message": {"type": kind, "content": text},
    }
    if message_id is not None:
        body["message_id"] = message_id
    return await api.post(DIALOG, json=body)


async def calls(api: httpx.AsyncClient, conversation: str = "c1") -> int:
    response = await api.get(
        "/api/v1/invocations", params={"conversation_id": conversation, "limit": 1000}
    )
    return len(response.json()["invocations"])


async def history(api: httpx.AsyncClient, conversation: str = "c1") -> list[Any]:
    response = await api.get(f"/api/v1/bots/shop/conversations/{conversation}")
    return list(response.json()["history"])


async def test_retry_returns_the_stored_answer_and_runs_nothing(api: httpx.AsyncClient) -> None:
    first = await send(api, "count one more", "m-1")
    assert first.status_code == 200, first.text
    assert first.json()["conversation"]["data"] == {"count": 1}

    retries = [await send(api, "count one more", "m-1") for _ in range(3)]

    assert all(r.status_code == 200 for r in retries)
    assert all(r.content == first.content for r in retries)  # byte for byte, same turn_id
    assert await calls(api) == 1
    assert [h["sender"] for h in await history(api)] == ["user", "bot"]
    # a new message id runs a new turn on top
    second = await send(api, "count one more", "m-2")
    assert second.json()["conversation"]["data"] == {"count": 2}
    assert second.json()["turn_id"] != first.json()["turn_id"]
    assert await calls(api) == 2


async def test_same_id_with_another_message_is_a_conflict(api: httpx.AsyncClient) -> None:
    first = await send(api, "count one more", "m-1")
    assert first.status_code == 200

    other_text = await send(api, "hello", "m-1")
    other_type = await send(api, "count one more", "m-1", kind="postback")

    for response in (other_text, other_type):
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "conflict" and "m-1" in error["message"]
    assert await calls(api) == 1
    assert len(await history(api)) == 2
    again = await send(api, "count one more", "m-1")
    assert again.content == first.content


async def test_message_ids_are_kept_per_conversation(api: httpx.AsyncClient) -> None:
    one = await send(api, "count one more", "m-1", conversation="a")
    two = await send(api, "hello", "m-1", conversation="b")

    assert one.status_code == two.status_code == 200
    assert one.json()["turn_id"] != two.json()["turn_id"]
    assert two.json()["messages"][0]["content"] == "Hello! Ask me a price."


async def test_turns_without_a_message_id_are_not_deduplicated(api: httpx.AsyncClient) -> None:
    answers = [(await send(api, "count one more", None)).json() for _ in range(2)]
    assert [a["conversation"]["data"]["count"] for a in answers] == [1, 2]
    assert await calls(api) == 2


async def test_concurrent_duplicates_run_one_turn(api: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(*(send(api, "count one more", "dup") for _ in range(6)))

    assert all(r.status_code == 200 for r in responses)
    assert len({r.content for r in responses}) == 1
    assert responses[0].json()["conversation"]["data"] == {"count": 1}
    assert await calls(api) == 1
    assert [h["sender"] for h in await history(api)] == ["user", "bot"]


async def test_eight_concurrent_senders_count_exactly_even_when_they_retry(
    api: httpx.AsyncClient,
) -> None:
    ids = [f"sender-{n}" for n in range(8)]

    firsts = await asyncio.gather(*(send(api, "count one more", i) for i in ids))
    # every sender retries (say its connection dropped), all at once, twice over
    retries = await asyncio.gather(*(send(api, "count one more", i) for i in ids + ids))

    assert sorted(r.json()["conversation"]["data"]["count"] for r in firsts) == list(range(1, 9))
    for n, retry in enumerate(retries):
        assert retry.content == firsts[n % 8].content
    assert await calls(api) == 8
    assert len(await history(api)) == 16
    final = await send(api, "count one more", "after")
    assert final.json()["conversation"]["data"] == {"count": 9}


@pytest.mark.parametrize("message_id", ["", "x" * 129, "has space", "é", 42])
async def test_malformed_message_ids_are_refused(api: httpx.AsyncClient, message_id: Any) -> None:
    response = await send(api, "hello", message_id)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert (await api.get("/api/v1/bots/shop/conversations/c1")).status_code == 404


async def test_longest_message_id_is_accepted(api: httpx.AsyncClient) -> None:
    message_id = "aZ09_.:@+-" * 12 + "12345678"
    assert len(message_id) == 128
    first = await send(api, "hello", message_id)
    assert first.status_code == 200
    assert (await send(api, "hello", message_id)).content == first.content


async def test_stored_answer_survives_a_restart(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")
    bodies = []
    with running() as webhook:
        bot = make_bot(tmp_path, webhook)
        for _ in range(2):
            with serve([bot], settings) as base:
                async with httpx.AsyncClient(base_url=base, timeout=30) as api:
                    bodies.append((await send(api, "count one more", "m-1")).content)
                    count = await calls(api)
    assert bodies[0] == bodies[1]
    assert count == 1


async def test_stored_answer_carries_the_agent_messages_the_user_missed(tmp_path: Path) -> None:
    """In process: the answer saved with the turn is built before the save, so it must find
    the agents' messages the way the answer of a turn without a message id does."""
    yaml = """\
    name: shop
    intents: {greet: {examples: [hello, are you there]}}
    nodes: {greet: {intents: [greet], says: Hi}}
    """
    bot = load_bot(write_bot(tmp_path / "shop", yaml))
    async with MemoryStore() as store, aiohttp.ClientSession() as client:
        runtime = Runtime([bot], store, Callers(client))
        await runtime.handle_once(Inbound("shop", "c1", "hello"), "m-1")
        conv = await store.get_conversation("shop", "c1")
        assert conv is not None
        said = HistoryEntry("c1", "shop", 1, "agent(Ada)", Message.text("Ada here"), 1.0, "a")
        user = await store.get_user(conv.user_id)
        assert user is not None
        await store.save_turn(TurnRecord("a", conv, user, [said], [], conv.version))
        await runtime.agent_wrote.mark("shop\0c1")

        reply = await runtime.handle_once(Inbound("shop", "c1", "are you there?"), "m-2")
        replay = await runtime.handle_once(Inbound("shop", "c1", "are you there?"), "m-2")

    assert not reply.replayed and replay.replayed
    assert [m["message"]["content"] for m in reply.answer["agent_messages"]] == ["Ada here"]
    assert replay.answer == reply.answer

"""The whole hand-off through the real HTTP API: a failing webhook hands the chat to the
team, an agent claims it, the reply reaches the user's event stream, and after closing the
bot answers again."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration_api.accounts import Accounts
from tests.integration_api.test_integration_api import talk

Events = asyncio.Queue[tuple[str, dict[str, Any]]]


@contextlib.asynccontextmanager
async def listening(
    http: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[Events]:
    """Server-sent events of `url`, parsed into (event, data) pairs, while the block runs."""
    events: Events = asyncio.Queue()
    connected = asyncio.Event()

    async def read() -> None:
        async with http.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith(": connected"):
                    connected.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.put_nowait((kind, json.loads(line[6:])))

    task = asyncio.create_task(read())
    await asyncio.wait_for(connected.wait(), 5)
    try:
        yield events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def next_message(events: Events) -> dict[str, Any]:
    while True:
        kind, data = await asyncio.wait_for(events.get(), 5)
        if kind == "message":
            return data


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_failed_webhook_to_agent_and_back_to_the_bot(
    http: httpx.AsyncClient, accounts: Accounts
) -> None:
    ada, bob, sam = bearer(accounts.ada), bearer(accounts.bob), bearer(accounts.other_team_agent)
    user_stream = "/api/v1/bots/shop/conversations/c1/events"
    async with (
        listening(http, user_stream) as user_events,
        listening(http, "/api/v1/agent/events", ada) as agent_events,
    ):
        broke = await talk(http, "server error please")
        assert broke["conversation"]["state"] == "pending"
        assert broke["conversation"]["team"] == "support"
        assert broke["messages"][0]["content"] == "Let me connect you to one of our agents."

        queue = (await http.get("/api/v1/agent/queue", headers=ada)).json()["chats"]
        assert [(c["conversation_id"], c["state"], c["agent"]) for c in queue] == [
            ("c1", "pending", None)
        ]
        assert (await http.get("/api/v1/agent/queue", headers=sam)).json()["chats"] == []

        claimed = await http.post("/api/v1/agent/chats/c1/claim", headers=ada)
        assert claimed.json()["chat"]["state"] == "agent"
        again = await http.post("/api/v1/agent/chats/c1/claim", headers=bob)
        assert again.status_code == 409
        refused = await http.post(
            "/api/v1/agent/chats/c1/messages", json={"text": "x"}, headers=bob
        )
        assert refused.status_code == 409

        sent = await http.post(
            "/api/v1/agent/chats/c1/messages", json={"text": "Hi, I am Ada."}, headers=ada
        )
        assert sent.status_code == 201
        while (message := await next_message(user_events))["sender"] != "agent(Ada)":
            pass
        assert message["message"] == {"type": "text", "content": "Hi, I am Ada."}

        answer = await talk(http, "thanks, my order is late")
        assert answer["messages"] == []
        assert [m["message"]["content"] for m in answer["agent_messages"]] == ["Hi, I am Ada."]
        while (seen := await next_message(agent_events))["sender"] != "user" or (
            seen["message"]["content"] != "thanks, my order is late"
        ):
            pass

        history = (await http.get("/api/v1/agent/chats/c1/history", headers=ada)).json()
        assert [h["sender"] for h in history["history"]] == ["user", "bot", "agent(Ada)", "user"]

        bye = {"text": "It ships today. Bye!"}
        await http.post("/api/v1/agent/chats/c1/messages", json=bye, headers=ada)
        closed = await http.post("/api/v1/agent/chats/c1/close", json={}, headers=ada)
        assert closed.json()["chat"]["state"] == "bot"

    back = await talk(http, "hi")
    assert [m["content"] for m in back["messages"]] == ["Hello! Ask me a price."]
    assert back["conversation"]["state"] == "bot"
    # the agent's last words, written after the user's previous message, still reach them
    assert [m["message"]["content"] for m in back["agent_messages"]] == ["It ships today. Bye!"]
    again = await talk(http, "hello")
    assert again["agent_messages"] == []


async def test_closing_as_complete_starts_a_new_conversation_number(
    http: httpx.AsyncClient, accounts: Accounts
) -> None:
    ada = bearer(accounts.ada)
    await talk(http, "server error please")
    await http.post("/api/v1/agent/chats/c1/claim", headers=ada)

    closed = await http.post("/api/v1/agent/chats/c1/close", json={"complete": True}, headers=ada)
    assert closed.json()["chat"]["state"] == "complete"

    answer = await talk(http, "hi")
    assert answer["conversation"]["conversation_no"] == 2


async def test_the_event_stream_replays_what_a_reconnecting_client_missed(
    http: httpx.AsyncClient, accounts: Accounts
) -> None:
    first = await talk(http, "hi")
    await talk(http, "hello")
    history = (await http.get("/api/v1/bots/shop/conversations/c1")).json()["history"]

    async with listening(
        http, "/api/v1/bots/shop/conversations/c1/events?after_id=" + str(history[1]["id"])
    ) as events:
        replayed = [await next_message(events) for _ in range(2)]

    assert first["turn_id"]
    assert [m["message"]["content"] for m in replayed] == ["hello", "Hello! Ask me a price."]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}]
)
async def test_the_agent_api_wants_a_valid_agent_token(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await http.get("/api/v1/agent/queue", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_an_agent_cannot_claim_a_chat_that_is_not_waiting(
    http: httpx.AsyncClient, accounts: Accounts
) -> None:
    await talk(http, "hi")
    response = await http.post("/api/v1/agent/chats/c1/claim", headers=bearer(accounts.ada))
    assert response.status_code == 404

"""A bot whose node calls a Rasa action server, through the whole parley server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot

BOT = """\
name: shop
settings:
  bot_break_message: "Sorry, something went wrong."
entities:
  product_name:
    values:
      speaker: [speaker, alarm clock speaker]
      powerbank: [powerbank, power bank]
intents:
  ask_price:
    examples: ["how much is the speaker", "price of powerbank", "what does a {{product_name}} cost"]
  buy: {{examples: ["buy it", "i want to buy"]}}
nodes:
  price:
    intents: [ask_price]
    entities:
      product_name: {{required: true, prompt: "Which product?"}}
    webhook: {{url: "{url}", dialect: rasa, action: action_price, timeout: 5}}
  buy:
    intents: [buy]
    webhook: {{url: "{url}", dialect: rasa, action: action_checkout, timeout: 5}}
"""


@pytest.fixture
async def api(tmp_path: Path, action_server: str) -> AsyncIterator[httpx.AsyncClient]:
    bot = write_bot(tmp_path / "shop", BOT.format(url=action_server + "/webhook"))
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")
    with serve([bot], settings) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield client


async def say(api: httpx.AsyncClient, text: str) -> Any:
    body = {"conversation_id": "c1", "message": {"type": "text", "content": text}}
    response = await api.post("/api/v1/bots/shop/dialog", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_price_node_runs_the_rasa_action_and_keeps_its_slots(
    api: httpx.AsyncClient,
) -> None:
    first = await say(api, "how much is the alarm clock speaker")
    second = await say(api, "price of powerbank")

    buttons, seen = first["messages"]
    assert buttons["type"] == "buttons"
    assert buttons["content"]["title"] == "The speaker costs Rs.1599"
    assert [b["value"] for b in buttons["content"]["buttons"]] == [
        '/buy{"product_name":"speaker"}',
        "/list_products",
    ]
    assert seen["type"] == "custom"
    assert seen["content"]["sender_id"] == "c1"
    assert seen["content"]["intent"] == "ask_price"
    assert seen["content"]["said"] == "speaker"
    assert first["conversation"]["data"]["last_product"] == "speaker"
    assert second["messages"][0]["content"]["title"] == "The powerbank costs Rs.1799"
    assert second["messages"][1]["content"]["visits"] == 1
    assert second["conversation"]["data"]["visits"] == 2


async def test_unknown_action_is_a_bot_break_logged_with_the_servers_error(
    api: httpx.AsyncClient,
) -> None:
    answer = await say(api, "i want to buy")

    assert [m["content"] for m in answer["messages"]] == ["Sorry, something went wrong."]
    response = await api.get("/api/v1/invocations", params={"conversation_id": "c1"})
    (invocation,) = response.json()["invocations"]
    assert invocation["dialect"] == "rasa"
    assert invocation["status"] == 404
    assert invocation["error"] == (
        "action server: No registered action found for name 'action_checkout'. (HTTP 404)"
    )
    assert '"next_action": "action_checkout"' in invocation["request_body"]

"""A `dialect: dialogflow` bot on a real parley server, calling real fulfillment servers:
a context the webhook sets in turn 1 comes back to it in turn 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot

from .flask_app import PASSWORD, USERNAME

BOT = """\
name: shop
environments:
  test: {{base_url: "{base}"}}
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
  buy: {{examples: ["buy it", "I will take it", "add it to my cart"]}}
templates:
  fulfillment:
    auth: {{type: basic, username: {user}, password: "${{DF_PASSWORD}}"}}
nodes:
  check_price:
    intents: [ask_price]
    entities:
      product_name: {{required: true, prompt: "Which product would you like to price?"}}
    webhook: {{path: /webhook, dialect: dialogflow, template: fulfillment, timeout: 5}}
  buy:
    intents: [buy]
    webhook: {{path: /webhook, dialect: dialogflow, template: fulfillment, timeout: 5}}
"""


async def _say(api: httpx.AsyncClient, text: str) -> Any:
    body = {"conversation_id": "c1", "message": {"type": "text", "content": text}}
    response = await api.post("/api/v1/bots/shop/dialog", json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("server", ["flask_url", "node_url"])
async def test_context_from_turn_one_reaches_the_webhook_in_turn_two(
    server: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DF_PASSWORD", PASSWORD)
    bot = write_bot(
        tmp_path / "shop", BOT.format(base=request.getfixturevalue(server), user=USERNAME)
    )
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")

    with serve([bot], settings) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as api:
            first = await _say(api, "what does a power bank cost")
            second = await _say(api, "buy it")
            calls = (await api.get("/api/v1/invocations", params={"conversation_id": "c1"})).json()

    assert first["messages"][0] == {"type": "text", "content": "The powerbank costs Rs.1799."}
    assert first["conversation"]["data"]["last_product"] == "powerbank"
    assert second["messages"] == [{"type": "text", "content": "Added the powerbank to your cart."}]
    contexts = second["conversation"]["data"]["_dialogflow"]["contexts"]
    assert "shop" not in contexts  # the webhook deleted it with lifespanCount 0
    invocations = calls["invocations"]
    assert [i["status"] for i in invocations] == [200, 200]
    assert all(i["request_headers"]["Authorization"].startswith("Basic ") for i in invocations)

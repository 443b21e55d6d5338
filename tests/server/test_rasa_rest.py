"""Rasa's REST channel on a real parley server: a Rasa front end talks to a parley bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from parley.config import Settings
from parley.model import Message
from parley.server.rasa_rest import rest_message
from tests.harness import serve, write_bot
from tests.webhooks.seed_server import running

BOT = """\
name: shop
environments:
  test: {{base_url: "{base}"}}
entities:
  product_name:
    values: {{speaker: [speaker], powerbank: [powerbank, power bank]}}
intents:
  greet: {{examples: [hi, hello]}}
  ask_price: {{examples: ["price of {{product_name}}", "how much is the {{product_name}}"]}}
nodes:
  greet:
    intents: [greet]
    says:
      - type: quick_replies
        content:
          title: "Hello! What would you like to price?"
          buttons:
            - {{title: Speaker, value: "price of speaker", type: postback}}
            - {{title: Powerbank, value: "price of powerbank", type: postback}}
  check_price:
    intents: [ask_price]
    entities:
      product_name: {{required: true, prompt: "Which product?"}}
    webhook: {{path: /price, secret: test}}
    end: true
"""
URL = "/api/v1/bots/shop/webhooks/rest/webhook"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")
    with running() as hook:
        bot = write_bot(tmp_path / "shop", BOT.format(base=hook))
        with serve([bot], settings) as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                yield client


async def test_a_rasa_front_end_chats_with_buttons_and_a_webhook(api: httpx.AsyncClient) -> None:
    greeting = await api.post(URL, json={"sender": "u-1", "message": "hello"})
    assert greeting.status_code == 200
    [message] = greeting.json()
    assert message["recipient_id"] == "u-1"
    assert message["text"] == "Hello! What would you like to price?"
    assert message["quick_replies"][0] == {"title": "Speaker", "payload": "price of speaker"}

    clicked = await api.post(URL, json={"sender": "u-1", "message": "price of speaker"})
    texts = [m.get("text") for m in clicked.json()]
    assert any("speaker" in (t or "").lower() for t in texts), texts

    conv = await api.get("/api/v1/bots/shop/conversations/u-1")
    assert [h["sender"] for h in conv.json()["history"]][:2] == ["user", "bot"]


async def test_the_rest_channel_answers_bad_input_with_json_errors(
    api: httpx.AsyncClient,
) -> None:
    missing = await api.post(URL, json={"sender": "u-2"})
    assert missing.status_code == 422
    assert missing.json()["error"]["code"]
    not_json = await api.post(URL, content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    unknown = await api.post(
        "/api/v1/bots/nobody/webhooks/rest/webhook", json={"sender": "u", "message": "hi"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    bad_env = await api.post(f"{URL}?environment=staging", json={"sender": "u", "message": "hi"})
    assert bad_env.status_code == 422


async def test_the_rest_channel_has_rasas_health_route(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/v1/bots/shop/webhooks/rest/")).json() == {"status": "ok"}


def test_rich_messages_take_rasas_rest_output_shapes() -> None:
    shop = {"title": "Shop", "value": "https://x/shop", "type": "web_url"}
    card = {
        "title": "Speaker",
        "subtitle": "Rs.1599",
        "image_url": "https://x/s.png",
        "buttons": [shop],
    }
    assert rest_message("u", Message("card", card)) == {
        "recipient_id": "u",
        "elements": [{**card, "buttons": [{"title": "Shop", "url": "https://x/shop"}]}],
    }
    assert rest_message("u", Message("image", "https://x/i.png"))["image"] == "https://x/i.png"
    assert rest_message("u", Message("file", "https://x/f.pdf"))["attachment"] == "https://x/f.pdf"
    assert rest_message("u", Message("custom", {"a": 1}))["custom"] == {"a": 1}
    assert rest_message("u", Message.text("hi")) == {"recipient_id": "u", "text": "hi"}

"""Haptik rules through the real server: environments, user data, HSL, the data limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from parley.dialects.signatures import verify_sha1
from tests.harness import serve, write_bot
from tests.webhooks.seed_server import running

BOT = """\
name: {name}
environments:
  test: {{base_url: "{base}"}}
  production: {{base_url: "{production}"}}
settings: {{data_limit: {limit}, bot_break_message: "Sorry, something went wrong."}}
intents:
  save: {{examples: ["remember me"]}}
  echo: {{examples: ["show what you got"]}}
  buttons: {{examples: ["show buttons"]}}
nodes:
  save: {{intents: [save], webhook: {{path: /data}}}}
  echo: {{intents: [echo], webhook: {{path: /echo, secret: s3cret}}}}
  buttons: {{intents: [buttons], webhook: {{path: /hsl}}}}
"""


@pytest.fixture
def webhook() -> Iterator[str]:
    with running() as base_url:
        yield base_url


def bot(tmp_path: Path, name: str, base: str, production: str = "", limit: int = 500) -> Path:
    production = production or "https://parley-test.invalid/hooks"
    text = BOT.format(name=name, base=base, production=production, limit=limit)
    return write_bot(tmp_path / name, text)


def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/parley.db")


async def say(
    api: httpx.AsyncClient, bot_name: str, text: str, user: str = "u1", **extra: Any
) -> Any:
    body = {
        "conversation_id": f"{bot_name}-{user}",
        "message": {"type": "text", "content": text},
        "user": {"id": user, **extra.pop("user_fields", {})},
        **extra,
    }
    response = await api.post(f"/api/v1/bots/{bot_name}/dialog", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_permanent_user_data_is_shared_by_every_bot_of_the_user(
    tmp_path: Path, webhook: str
) -> None:
    bots = [bot(tmp_path, "alpha", webhook), bot(tmp_path, "beta", webhook, limit=0)]
    with serve(bots, settings(tmp_path)) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            saved = await say(api, "alpha", "remember me")
            echoed = await say(api, "beta", "show what you got")
            stranger = await say(api, "beta", "show what you got", user="u2")
    assert saved["conversation"]["data"] == {"order_id": "A-17", "payment_mode": "COD"}
    sent = json.loads(echoed["conversation"]["data"]["received_body"])
    assert sent["permanent_user_data"] == {"phone_number": 8826755986}
    assert sent["conversation_data"] == {}
    assert (
        json.loads(stranger["conversation"]["data"]["received_body"])["permanent_user_data"] == {}
    )


async def test_the_webhook_receives_the_haptik_request_signed_over_its_exact_bytes(
    tmp_path: Path, webhook: str
) -> None:
    with serve([bot(tmp_path, "alpha", webhook, limit=0)], settings(tmp_path)) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            answer = await say(api, "alpha", "show what you got", "u9", user_fields={"name": "ada"})
    received = answer["conversation"]["data"]
    body = received["received_body"]
    assert verify_sha1("s3cret", body.encode(), received["received_headers"]["x-hub-signature"])
    request = json.loads(body)
    assert set(request) == {
        "node", "event", "user", "conversation_no", "conversation_data", "permanent_user_data",
        "entities",
    }  # fmt: skip
    assert (request["node"], request["event"]) == ("echo", "API_INTEGRATION")
    assert request["user"]["user_id"] == "u9" and request["user"]["user_name"] == "ada"


async def test_production_conversations_only_use_the_production_base_url(
    tmp_path: Path, webhook: str
) -> None:
    with serve([bot(tmp_path, "alpha", webhook)], settings(tmp_path)) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            test_answer = await say(api, "alpha", "remember me", environment="test")
            prod = await say(api, "alpha", "remember me", user="u3", environment="production")
            calls = (await api.get("/api/v1/invocations")).json()["invocations"]
    assert test_answer["messages"] == [{"type": "text", "content": "saved"}]
    assert prod["messages"] == [{"type": "text", "content": "Sorry, something went wrong."}]
    assert [c["url"] for c in calls] == [
        f"{webhook}/data",
        "https://parley-test.invalid/hooks/data",
    ]
    assert calls[1]["environment"] == "production" and "resolve" in calls[1]["error"]


async def test_hsl_button_element_becomes_a_structured_message(
    tmp_path: Path, webhook: str
) -> None:
    with serve([bot(tmp_path, "alpha", webhook)], settings(tmp_path)) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            answer = await say(api, "alpha", "show buttons")
    (message,) = answer["messages"]
    assert message["type"] == "buttons"
    assert message["content"]["title"] == "COMPLETE BLOOD COUNT; CBC"
    assert [b["title"] for b in message["content"]["buttons"]] == ["View Price", "View Details"]
    assert message["meta"]["hsl"]["type"] == "BUTTON"


async def test_data_over_the_limit_is_refused_logged_and_not_stored(
    tmp_path: Path, webhook: str
) -> None:
    with serve([bot(tmp_path, "alpha", webhook, limit=40)], settings(tmp_path)) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            answer = await say(api, "alpha", "remember me")
            (call,) = (await api.get("/api/v1/invocations")).json()["invocations"]
    assert answer["messages"] == [{"type": "text", "content": "Sorry, something went wrong."}]
    assert answer["conversation"]["data"] == {}
    assert call["status"] == 200 and "over the limit of 40" in call["error"]

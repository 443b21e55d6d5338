"""The dialog API end to end: a real parley server and the seed's real webhook on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot
from tests.webhooks.seed_server import running

BOT = """\
name: shop
environments:
  test: {{base_url: "{base}"}}
  production: {{base_url: "https://hooks.example.invalid/shop"}}
settings:
  bot_break_message: "Sorry, something went wrong."
  human_assistance: {human}
  team: support
entities:
  product_name:
    values:
      speaker: [speaker, alarm clock speaker]
      powerbank: [powerbank, power bank]
intents:
  ask_price:
    examples: ["how much is the speaker", "price of powerbank", "what does a {{product_name}} cost"]
  greet: {{examples: [hi, hello]}}
  slow: {{examples: ["slow answer please"]}}
  broken: {{examples: ["server error please"]}}
  html: {{examples: ["html answer please"]}}
  big: {{examples: ["big answer please"]}}
  count: {{examples: ["count one more"]}}
nodes:
  greet: {{intents: [greet], says: "Hello! Ask me a price."}}
  check_price:
    intents: [ask_price]
    entities:
      product_name: {{required: true, prompt: "Which product would you like to price?"}}
    webhook: {{path: /price, secret: "{secret}", timeout: 5}}
    end: true
  slow:
    intents: [slow]
    webhook: {{path: "/slow?s=5", timeout: 0.5}}
  broken: {{intents: [broken], webhook: {{path: /500}}}}
  html: {{intents: [html], webhook: {{path: /html}}}}
  big: {{intents: [big], webhook: {{path: /big, max_response_bytes: 100000}}}}
  count: {{intents: [count], webhook: {{path: /counter}}}}
"""


@pytest.fixture
def webhook() -> Iterator[str]:
    with running() as base_url:
        yield base_url


def make_bot(tmp_path: Path, base: str, *, secret: str = "test", human: bool = False) -> Path:
    return write_bot(
        tmp_path / "shop", BOT.format(base=base, secret=secret, human=str(human).lower())
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/parley.db", max_body_bytes=16_384)


@pytest.fixture
async def api(tmp_path: Path, webhook: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    with serve([make_bot(tmp_path, webhook)], settings) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield client


async def say(api: httpx.AsyncClient, text: str, conversation: str = "c1", **extra: Any) -> Any:
    body = {"conversation_id": conversation, "message": {"type": "text", "content": text}, **extra}
    response = await api.post("/api/v1/bots/shop/dialog", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def texts(answer: dict[str, Any]) -> list[str]:
    return [m["content"] for m in answer["messages"]]


async def log(api: httpx.AsyncClient, conversation: str = "c1") -> list[dict[str, Any]]:
    response = await api.get("/api/v1/invocations", params={"conversation_id": conversation})
    return list(response.json()["invocations"])


async def test_price_question_reaches_the_signed_webhook_and_completes(
    api: httpx.AsyncClient,
) -> None:
    answer = await say(api, "how much is the speaker")
    assert texts(answer) == ["The Wireless Radio Alarm Clock Speaker can be yours only for Rs.1599"]
    assert answer["conversation"]["state"] == "complete"
    assert answer["nlp"]["intents"][0]["name"] == "ask_price"
    assert answer["nlp"]["entities"]["product_name"][0]["value"] == "speaker"
    (call,) = await log(api)
    assert call["status"] == 200 and call["error"] is None
    assert call["request_headers"]["X-Hub-Signature"].startswith("sha1=")
    assert "sha1=" + "0" * 8 not in call["request_headers"]["X-Hub-Signature"]


async def test_slot_filling_across_turns_then_next_conversation_number(
    api: httpx.AsyncClient,
) -> None:
    first = await say(api, "what does it cost")
    assert texts(first) == ["Which product would you like to price?"]
    assert first["conversation"]["asking"] == "product_name"
    second = await say(api, "a power bank")
    assert texts(second) == ["The Ambrane Powerbank can be yours only for Rs.1799"]
    assert second["conversation"]["conversation_no"] == 1
    third = await say(api, "hello")
    assert third["conversation"]["conversation_no"] == 2
    history = (await api.get("/api/v1/bots/shop/conversations/c1")).json()["history"]
    assert [(h["sender"], h["conversation_no"]) for h in history] == [
        ("user", 1), ("bot", 1), ("user", 1), ("bot", 1), ("user", 2), ("bot", 2),
    ]  # fmt: skip


async def test_wrong_secret_is_refused_by_the_webhook_and_becomes_a_bot_break(
    tmp_path: Path, webhook: str, settings: Settings
) -> None:
    with serve([make_bot(tmp_path, webhook, secret="wrong")], settings) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            answer = await say(api, "how much is the speaker")
            (call,) = await log(api)
    assert texts(answer) == ["Sorry, something went wrong."]
    assert call["status"] == 401 and "401" in call["error"]
    assert call["request_headers"]["X-Hub-Signature"] == "sha1=****"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("slow answer please", "timed out"),
        ("server error please", "500"),
        ("html answer please", "JSON"),
        ("big answer please", "100000 bytes"),
    ],
)
async def test_webhook_failures_are_bot_breaks_with_the_reason_logged(
    api: httpx.AsyncClient, text: str, reason: str
) -> None:
    answer = await say(api, text)
    assert texts(answer) == ["Sorry, something went wrong."]
    assert answer["conversation"]["state"] == "bot"
    (call,) = await log(api)
    assert reason in call["error"]


async def test_refused_connection_is_a_bot_break(tmp_path: Path, settings: Settings) -> None:
    with running() as stopped:
        pass  # the port is free again: connecting is refused
    with serve([make_bot(tmp_path, stopped)], settings) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            answer = await say(api, "how much is the speaker")
            (call,) = await log(api)
    assert texts(answer) == ["Sorry, something went wrong."]
    assert "refused" in call["error"]


async def test_failure_with_human_assistance_moves_to_pending_and_bot_goes_quiet(
    tmp_path: Path, webhook: str, settings: Settings
) -> None:
    with serve([make_bot(tmp_path, webhook, human=True)], settings) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            answer = await say(api, "server error please")
            assert answer["conversation"]["state"] == "pending"
            assert answer["conversation"]["team"] == "support"
            later = await say(api, "hello?")
            history = (await api.get("/api/v1/bots/shop/conversations/c1")).json()["history"]
    assert later["messages"] == [] and later["conversation"]["state"] == "pending"
    assert history[-1] == {
        **history[-1],
        "sender": "user",
        "message": {"type": "text", "content": "hello?"},
    }


async def test_concurrent_turns_on_one_conversation_lose_no_update(api: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(*(say(api, "count one more") for _ in range(12)))
    counts = sorted(a["conversation"]["data"]["count"] for a in answers)
    assert counts == list(range(1, 13))


async def test_conversations_run_in_parallel(api: httpx.AsyncClient) -> None:
    """Eight slow turns on eight conversations take about one timeout, not eight."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(say(api, "slow answer please", f"p{n}") for n in range(8)))
    assert loop.time() - started < 8 * 0.5

"""SAP CAI's dialog API, `POST /build/v1/dialog`, answered by parley in CAI's shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot

BOT = """\
name: weather
entities: {city: {values: {paris: [paris], pune: [pune]}}}
intents:
  ask: {examples: ["weather in {city}", "what is the weather"]}
nodes:
  forecast:
    intents: [ask]
    entities: {city: {required: true, prompt: "Which city?"}}
    says:
      - "Sunny in {{ memory.city.raw }}."
      - type: quick_replies
        content: {title: "Anything else?", buttons: [{title: "Pune", value: "weather in pune"}]}
"""


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    bots = [write_bot(tmp_path / "weather", BOT)]
    with serve(bots, Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            yield client


async def test_cai_dialog_answers_in_cai_shapes(api: httpx.AsyncClient) -> None:
    body = {"message": {"type": "text", "content": "weather in Paris"}, "conversation_id": "k1"}
    answer = (await api.post("/build/v1/dialog", json=body)).json()
    assert answer["messages"] == [
        {"type": "text", "content": "Sunny in Paris."},
        {"type": "quickReplies", "content": {"title": "Anything else?", "buttons": [
            {"title": "Pune", "value": "weather in pune", "type": "postback"}]}},
    ]  # fmt: skip
    assert answer["conversation"]["id"] == "k1" and answer["conversation"]["skill"] == "forecast"
    assert answer["conversation"]["memory"]["city"] == {
        "value": "paris", "raw": "Paris", "confidence": 1.0,
    }  # fmt: skip
    assert answer["nlp"]["source"] == "weather in Paris"
    assert answer["nlp"]["intents"][0]["slug"] == "ask"


async def test_cai_dialog_keeps_the_conversation_across_calls(api: httpx.AsyncClient) -> None:
    ask = {"message": {"content": "what is the weather"}, "conversation_id": "k2"}
    first = (await api.post("/build/v1/dialog", json=ask)).json()
    assert first["messages"] == [{"type": "text", "content": "Which city?"}]
    city = {"message": {"content": "pune"}, "conversation_id": "k2", "language": "en"}
    second = (await api.post("/build/v1/dialog", json=city)).json()
    assert second["messages"][0] == {"type": "text", "content": "Sunny in pune."}


async def test_cai_dialog_rejects_bad_input_with_json_errors(api: httpx.AsyncClient) -> None:
    response = await api.post("/build/v1/dialog", json={"message": {"content": 3}})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    response = await api.post(
        "/build/v1/dialog", json={"message": {"content": "hi"}, "conversation_id": "k", "bot": "x"}
    )
    assert response.status_code == 404

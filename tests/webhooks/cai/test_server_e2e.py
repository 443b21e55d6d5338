"""A CAI bot through the whole parley server, its webhook the seed's Express sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from parley.config import Settings
from tests.harness import serve, write_bot

BOT = """\
name: weather
environments:
  test: {{base_url: "{base}"}}
settings: {{data_limit: 0, bot_break_message: "Sorry, something went wrong."}}
entities:
  city: {{values: {{paris: [paris], london: [london]}}}}
intents:
  weather: {{examples: ["weather in {{city}}", "what is the weather like"]}}
  roger: {{examples: ["over to you"]}}
  replies: {{examples: ["show me everything"]}}
  broken: {{examples: ["break it please"]}}
templates:
  crm:
    auth: {{type: basic, username: recast, password: s3cret}}
    headers: {{X-Team: crm}}
nodes:
  weather:
    intents: [weather]
    entities: {{city: {{required: true, prompt: "Which city?"}}}}
    webhook: {{path: /visit, dialect: cai}}
  roger:
    intents: [roger]
    webhook:
      path: /echo
      dialect: cai
      method: PUT
      template: crm
      body: {{city: "{{{{ memory.city.raw }}}}", said: "{{{{ nlp.source }}}}"}}
  replies: {{intents: [replies], webhook: {{path: /every-reply, dialect: cai}}}}
  broken: {{intents: [broken], webhook: {{path: /500, dialect: cai}}}}
"""


async def say(api: httpx.AsyncClient, text: str) -> Any:
    body = {"conversation_id": "cai-1", "message": {"type": "text", "content": text}}
    response = await api.post("/api/v1/bots/weather/dialog", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_cai_webhook_through_the_dialog_api(tmp_path: Path, express_url: str) -> None:
    folder = write_bot(tmp_path / "weather", BOT.format(base=express_url))
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")
    with serve([folder], settings) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            asked = await say(api, "what is the weather like")
            first = await say(api, "paris")
            second = await say(api, "weather in london")
            echoed = await say(api, "over to you")
            everything = await say(api, "show me everything")
            broken = await say(api, "break it please")

    assert [m["content"] for m in asked["messages"]] == ["Which city?"]
    assert [m["content"] for m in first["messages"]] == ["visit 1 in en"]
    # the returned memory replaced the data (the city the webhook saw is gone) ...
    assert first["conversation"]["data"] == {"visits": 1}
    # ... and the language switched for the next call
    assert first["conversation"]["language"] == "fr"
    assert [m["content"] for m in second["messages"]] == ["visit 2 in fr"]

    received = echoed["conversation"]["data"]
    assert received["method"] == "PUT"
    assert received["body"] == {"city": "london", "said": "over to you"}
    assert received["headers"]["authorization"] == "Basic cmVjYXN0OnMzY3JldA=="
    assert received["headers"]["x-team"] == "crm"

    assert len(everything["messages"]) == 9
    assert everything["messages"][5]["type"] == "card"
    assert everything["messages"][5]["meta"]["cai"]["type"] == "card"

    assert [m["content"] for m in broken["messages"]] == ["Sorry, something went wrong."]

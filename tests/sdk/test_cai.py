"""`parley.sdk.cai`: typed requests, Bot Connector builders and apps, checked against parley's
own CAI encoder and decoder, on real sockets and behind a real parley server."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from parley.dialects import get_dialect
from parley.dialects.base import WireResponse
from parley.sdk import (
    CaiRequest,
    CaiResponse,
    WebhookError,
    cai_app,
    cai_button,
    cai_buttons,
    cai_card,
    cai_carousel,
    cai_picture,
    cai_quick_replies,
    cai_wsgi,
)
from parley.sdk.testing import WebhookClient, sample_call
from tests.harness import serve, write_bot
from tests.sdk.servers import asgi_server, wsgi_server

AUTH = ("bot", "pw")
Factory = Callable[..., Any]
Server = Callable[[Any], AbstractContextManager[str]]
BOTH = pytest.mark.parametrize(
    ("factory", "server"), [(cai_app, asgi_server), (cai_wsgi, wsgi_server)], ids=["asgi", "wsgi"]
)


def weather(request: CaiRequest) -> CaiResponse | None:
    city = request.memory_value("city")
    if city == "atlantis":
        raise WebhookError(404, "no such city")
    if city is None:
        return None  # a GET/DELETE webhook often answers nothing
    visits = int(request.memory_value("visits") or 0) + 1
    return CaiResponse.reply(
        f"Sunny in {request.conversation.memory['city']['raw']}.",
        cai_quick_replies("More?", "rain", "wind"),
        memory={"visits": visits},
        language="fr" if city == "paris" else None,
    )


def decode(body: dict[str, Any]) -> Any:
    call = sample_call("cai", "http://hook/")
    response = WireResponse(200, {"content-type": "application/json"}, _json(body))
    return get_dialect("cai").decode(call, response)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_the_request_model_reads_parleys_default_body() -> None:
    call = sample_call(
        "cai", "http://hook/", "get_weather", entities={"city": "paris"}, data={"visits": 2},
        text="weather in Paris", intent="weather",
    )  # fmt: skip
    request = CaiRequest.model_validate_json(get_dialect("cai").encode(call, "http://h/").body)

    assert request.conversation.skill == "get_weather" and request.conversation.language == "en"
    assert request.memory_value("city") == "paris" and request.memory_value("visits") == 2
    assert request.memory_value("nothing") is None
    assert request.intent == "weather" and request.nlp.source == "weather in Paris"
    assert request.nlp.entities["city"][0]["value"] == "paris"


def test_every_reply_builder_is_a_reply_parley_understands() -> None:
    answer = CaiResponse.reply(
        "Hello",
        cai_picture("https://x.example/a.png"),
        cai_quick_replies("Pick", "tea", cai_button("Coffee", "coffee")),
        cai_buttons("Links", cai_button("Site", "https://x.example", type="web_url")),
        cai_carousel(cai_card("Tea", "Rs. 120", image_url="https://x.example/t.png",
                              buttons=["Buy"])),
        memory={"a": 1},
        language="de",
    )  # fmt: skip
    outcome = decode(answer.to_json())

    assert outcome.failure is None
    assert [m.type for m in outcome.messages] == [
        "text", "image", "quick_replies", "buttons", "carousel",
    ]  # fmt: skip
    assert outcome.messages[2].content["buttons"][1] == {
        "title": "Coffee", "type": "postback", "value": "coffee",
    }  # fmt: skip
    assert outcome.messages[4].content[0]["image_url"] == "https://x.example/t.png"
    assert outcome.data == {"a": 1} and outcome.language == "de"
    assert CaiResponse.reply("x").to_json() == {"replies": [{"type": "text", "content": "x"}]}


@BOTH
def test_the_app_on_a_real_socket_answers_parleys_request(factory: Factory, server: Server) -> None:
    with server(factory(weather, auth=AUTH)) as base:
        client = WebhookClient(f"{base}/weather", dialect="cai", auth=AUTH)
        result = client.send("get_weather", entities={"city": "paris"}, data={"visits": 2})
        empty = client.send("get_weather", method="GET")
        missing = client.send("get_weather", entities={"city": "atlantis"})

    assert result.status == 200 and result.outcome.failure is None
    assert [m.type for m in result.outcome.messages] == ["text", "quick_replies"]
    assert result.outcome.messages[0].content == "Sunny in paris."
    assert result.outcome.data == {"visits": 3} and result.outcome.language == "fr"
    assert empty.request.body == b"" and (empty.status, empty.outcome.failure) == (200, None)
    assert (missing.status, missing.outcome.failure) == (404, "webhook answered HTTP 404")


@BOTH
def test_refusals(factory: Factory, server: Server) -> None:
    with server(factory(weather, auth=AUTH, secret="s")) as base:
        good = WebhookClient(base, dialect="cai", auth=AUTH, secret="s")
        no_auth = WebhookClient(base, dialect="cai", secret="s")
        wrong = WebhookClient(base, dialect="cai", auth=("bot", "nope"), secret="s")
        unsigned = WebhookClient(base, dialect="cai", auth=AUTH)

        assert good.send(entities={"city": "oslo"}).status == 200
        assert no_auth.send(entities={"city": "oslo"}).status == 401
        assert wrong.send(entities={"city": "oslo"}).status == 401
        assert unsigned.send(entities={"city": "oslo"}).status == 401
        assert good.post(b"<html>").status == 400
        assert good.post(b'{"conversation": []}').status == 400
        assert good.post(b"{}", content_type="text/plain").status == 400
    in_process = WebhookClient(factory(weather, auth=AUTH), dialect="cai", auth=AUTH)
    assert in_process.post(b"x" * 1_000_001).status == 413  # in-process: no racing socket


def test_a_handler_returning_the_wrong_type_is_500() -> None:
    result = WebhookClient(cai_wsgi(lambda r: {"replies": []}), dialect="cai").send()

    assert result.status == 500 and result.outcome.failure == "webhook answered HTTP 500"


CAI_BOT = """\
name: sdkcai
environments: {{test: {{base_url: "{base}"}}}}
settings: {{bot_break_message: "Sorry, something went wrong."}}
entities: {{city: {{values: {{paris: [], oslo: [], atlantis: []}}}}}}
intents:
  weather: {{examples: ["weather in {{city}}", "how is the weather in {{city}}"]}}
nodes:
  get_weather:
    intents: [weather]
    entities: {{city: {{required: true}}}}
    webhook:
      path: /weather
      dialect: cai
      auth: {{type: basic, username: bot, password: pw}}
"""


async def test_a_cai_sdk_webhook_answers_through_parley(tmp_path: Path) -> None:
    with asgi_server(cai_app(weather, auth=AUTH)) as hook:
        bot = write_bot(tmp_path / "bot", CAI_BOT.format(base=hook))
        with serve([bot], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            oslo = await _ask(base, "weather in oslo")
            again = await _ask(base, "how is the weather in oslo")
            atlantis = await _ask(base, "weather in atlantis")

    assert [m["type"] for m in oslo["messages"]] == ["text", "quick_replies"]
    assert oslo["messages"][0]["content"] == "Sunny in oslo."
    assert oslo["conversation"]["data"]["visits"] == 1
    assert again["conversation"]["data"]["visits"] == 2
    assert [m["content"] for m in atlantis["messages"]] == ["Sorry, something went wrong."]


async def _ask(base: str, text: str) -> dict[str, Any]:
    body = {"conversation_id": "c1", "message": {"content": text}, "user": {"id": "u1"}}
    async with httpx.AsyncClient(base_url=base) as api:
        response = await api.post("/api/v1/bots/sdkcai/dialog", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())

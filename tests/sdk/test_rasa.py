"""`parley.sdk.rasa`: an action server in a few lines, answering as rasa-sdk does, checked
against parley's own Rasa encoder and decoder, on real sockets and behind parley."""

from __future__ import annotations

import asyncio
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
    RasaActionCall,
    RasaActionResult,
    WebhookError,
    rasa_app,
    rasa_wsgi,
)
from parley.sdk.testing import WebhookClient, sample_call
from tests.harness import serve, write_bot
from tests.sdk.servers import asgi_server, wsgi_server

Factory = Callable[..., Any]
Server = Callable[[Any], AbstractContextManager[str]]
BOTH = pytest.mark.parametrize(
    ("factory", "server"), [(rasa_app, asgi_server), (rasa_wsgi, wsgi_server)],
    ids=["asgi", "wsgi"],
)  # fmt: skip
PRICES = {"tea": 120, "coffee": 150}


def price(call: RasaActionCall) -> RasaActionResult:
    product = call.slot("product")
    if product not in PRICES:
        raise WebhookError(400, f"no price for {product}")
    asked = int(call.slot("asked") or 0) + 1
    return (
        RasaActionResult()
        .text(f"{product} is Rs. {PRICES[product]}.")
        .buttons("More?", "price of coffee", {"title": "Menu", "url": "https://x.example/m"})
        .slot_set("asked", asked)
    )


async def greet(call: RasaActionCall) -> RasaActionResult:
    await asyncio.sleep(0)
    return RasaActionResult().text(f"Hello {call.tracker.latest_message.metadata['user']['id']}")


ACTIONS = {"action_price": price}


def test_the_call_model_reads_parleys_request() -> None:
    call = sample_call(
        "rasa", "http://h/webhook", "check_price", entities={"product": "tea"},
        data={"asked": 1}, text="price of tea", intent="ask_price", action="action_price",
    )  # fmt: skip
    request = RasaActionCall.model_validate_json(get_dialect("rasa").encode(call, "http://h").body)

    assert request.next_action == "action_price" and request.version
    assert request.slot("product") == "tea" and request.slot("asked") == 1
    assert request.slot("nothing") is None
    assert request.text == "price of tea" and request.intent == "ask_price"
    assert request.entity_values("product") == ["tea"]
    assert request.tracker.sender_id == request.sender_id and request.domain["slots"]


def test_every_builder_is_a_result_parley_understands() -> None:
    result = (
        RasaActionResult()
        .text("Hi")
        .buttons("Pick", "tea", {"title": "Site", "url": "https://x.example"})
        .image("https://x.example/a.png")
        .response("utter_bye")
        .custom({"blocks": [1]})
        .reset_slots()
        .slot_set("x", 1)
        .event({"event": "followup", "name": "action_y"})
    )
    call = sample_call("rasa", "http://h/webhook", data={"old": True})
    answer = WireResponse(200, {}, json.dumps(result.to_json()).encode())
    outcome = get_dialect("rasa").decode(call, answer)

    assert outcome.failure is None
    assert [m.type for m in outcome.messages] == [
        "text", "buttons", "image", "response_ref", "custom",
    ]  # fmt: skip
    assert outcome.messages[1].content["buttons"][1]["type"] == "web_url"
    assert outcome.data == {"x": 1} and len(outcome.notes) == 1
    # rasa-sdk's exact utter_message shape
    assert set(result.responses[0]) == {
        "text", "buttons", "elements", "custom", "template", "response", "image", "attachment",
    }  # fmt: skip


@BOTH
def test_the_action_server_on_a_real_socket(factory: Factory, server: Server) -> None:
    actions = {"action_price": price, "action_greet": greet if factory is rasa_app else price}
    with server(factory(actions)) as base:
        client = WebhookClient(f"{base}/webhook", dialect="rasa")
        tea = client.send("check_price", entities={"product": "tea"}, action="action_price")
        cake = client.send("check_price", entities={"product": "cake"}, action="action_price")
        unknown = client.send("check_price", action="action_nope")
        hello = client.send("hello", user="ada", action="action_greet",
                            entities={"product": "tea"})  # fmt: skip
        health = _get(f"{base}/health")
        listed = _get(f"{base}/actions")

    assert tea.status == 200 and tea.outcome.failure is None
    assert [m.type for m in tea.outcome.messages] == ["text", "buttons"]
    assert tea.outcome.messages[0].content == "tea is Rs. 120."
    assert tea.outcome.variables == {"asked": 1}
    assert cake.status == 400
    assert cake.json() == {"error": "no price for cake", "action_name": "action_price"}
    assert cake.outcome.failure == "action server: no price for cake (HTTP 400)"
    assert unknown.status == 404
    assert unknown.outcome.failure == (
        "action server: No registered action found for name 'action_nope'. (HTTP 404)"
    )
    if factory is rasa_app:
        assert hello.outcome.messages[0].content == "Hello ada"
    assert health == (200, {"status": "ok"})
    assert listed == (200, [{"name": "action_price"}, {"name": "action_greet"}])


@BOTH
def test_refusals(factory: Factory, server: Server) -> None:
    with server(factory(ACTIONS)) as base:
        client = WebhookClient(f"{base}/webhook", dialect="rasa")
        elsewhere = WebhookClient(f"{base}/other", dialect="rasa")

        assert client.post(b"<html>").status == 400
        assert client.post(b'{"tracker": {}}').status == 400  # no next_action
        assert client.post(b"{}", content_type="text/plain").status == 400
        assert elsewhere.send(action="action_price").status == 404
        assert _get(f"{base}/webhook")[0] == 405
    in_process = WebhookClient(factory(ACTIONS), dialect="rasa", path="/webhook")
    assert in_process.post(b"x" * 1_000_001).status == 413  # in-process: no racing socket


def test_a_crashing_or_wrong_action_is_500() -> None:
    def crash(call: RasaActionCall) -> RasaActionResult:
        raise RuntimeError("boom")

    app = rasa_wsgi({"crash": crash, "wrong": lambda call: [{"event": "slot"}]})  # type: ignore[dict-item]
    client = WebhookClient(app, dialect="rasa", path="/webhook")

    assert client.send(action="crash").status == 500
    assert client.send(action="wrong").status == 500


def _get(url: str) -> tuple[int, Any]:
    answer = httpx.get(url, trust_env=False, timeout=10)
    return answer.status_code, answer.json() if answer.status_code == 200 else None


RASA_BOT = """\
name: sdkrasa
settings: {{bot_break_message: "Sorry, something went wrong."}}
entities: {{product: {{values: {{tea: [], coffee: [], cake: []}}}}}}
intents:
  ask_price: {{examples: ["price of {{product}}", "how much is the {{product}}"]}}
nodes:
  check_price:
    intents: [ask_price]
    entities: {{product: {{required: true}}}}
    webhook: {{url: "{base}/webhook", dialect: rasa, action: action_price}}
"""


async def test_a_rasa_sdk_action_server_answers_through_parley(tmp_path: Path) -> None:
    with wsgi_server(rasa_wsgi(ACTIONS)) as hook:
        bot = write_bot(tmp_path / "bot", RASA_BOT.format(base=hook))
        with serve([bot], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            tea = await _ask(base, "price of tea")
            coffee = await _ask(base, "how much is the coffee")
            cake = await _ask(base, "price of cake")

    assert [m["type"] for m in tea["messages"]] == ["text", "buttons"]
    assert tea["messages"][0]["content"] == "tea is Rs. 120."
    assert tea["conversation"]["data"]["asked"] == 1
    assert coffee["conversation"]["data"]["asked"] == 2
    assert [m["content"] for m in cake["messages"]] == ["Sorry, something went wrong."]


async def _ask(base: str, text: str) -> dict[str, Any]:
    body = {"conversation_id": "c1", "message": {"content": text}, "user": {"id": "u1"}}
    async with httpx.AsyncClient(base_url=base) as api:
        response = await api.post("/api/v1/bots/sdkrasa/dialog", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())

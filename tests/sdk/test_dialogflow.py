"""`parley.sdk.dialogflow`: WebhookRequest/WebhookResponse models and apps, checked against
parley's own Dialogflow encoder and decoder, on real sockets and behind a real parley."""

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
    DialogflowRequest,
    DialogflowResponse,
    WebhookError,
    df_card,
    df_image,
    df_payload,
    df_quick_replies,
    df_text,
    dialogflow_app,
    dialogflow_wsgi,
)
from parley.sdk.testing import WebhookClient, sample_call
from tests.harness import serve, write_bot
from tests.sdk.servers import asgi_server, wsgi_server

AUTH = ("parley", "pw")
Factory = Callable[..., Any]
Server = Callable[[Any], AbstractContextManager[str]]
BOTH = pytest.mark.parametrize(
    ("factory", "server"), [(dialogflow_app, asgi_server), (dialogflow_wsgi, wsgi_server)],
    ids=["asgi", "wsgi"],
)  # fmt: skip


def fulfill(request: DialogflowRequest) -> DialogflowResponse:
    product = request.parameter("product")
    if product == "cake":
        raise WebhookError(500, "no cakes")
    data = request.context("parley-data")
    asked = int((data.parameters.get("asked") if data else 0) or 0) + 1
    return DialogflowResponse.reply(
        f"{product} is Rs. 120.",
        df_quick_replies("More?", "price of coffee"),
        contexts=[
            request.output_context("parley-data", 50, {"asked": asked}),
            request.output_context("shop", 3, {"last_product": product}),
        ],
    )


def test_the_request_model_reads_parleys_webhook_request() -> None:
    call = sample_call(
        "dialogflow", "http://h/", "check_price", entities={"product": "tea"},
        data={"asked": 1}, text="price of tea", intent="ask_price",
    )  # fmt: skip
    body = get_dialect("dialogflow").encode(call, "http://h/").body
    request = DialogflowRequest.model_validate_json(body)

    assert request.intent == "check_price" and request.parameter("product") == "tea"
    assert request.parameter("nothing") is None
    assert request.query_result.query_text == "price of tea"
    assert request.query_result.language_code == "en" and request.response_id
    data = request.context("parley-data")
    assert data is not None and data.parameters["asked"] == 1 and data.lifespan_count == 50
    assert data.name == f"{request.session}/contexts/parley-data"
    assert request.context("nothing") is None


def test_every_builder_is_an_answer_parley_understands() -> None:
    call = sample_call("dialogflow", "http://h/")
    session = "projects/parley/agent/sessions/s1"
    request = DialogflowRequest(session=session)
    answer = DialogflowResponse.reply(
        "Hi",
        df_text("one", "two"),
        df_quick_replies("Pick", "tea", "coffee"),
        df_card("Tea", "Rs. 120", image_uri="https://x.example/t.png",
                buttons=["Buy", ("Site", "https://x.example")]),
        df_image("https://x.example/a.png", "a picture"),
        df_payload({"slack": {"text": "hi"}}),
        contexts=[request.output_context("shop", 2, {"p": "tea"})],
    )  # fmt: skip
    wire = answer.to_json()
    outcome = get_dialect("dialogflow").decode(
        call, WireResponse(200, {}, json.dumps(wire).encode())
    )

    assert set(wire) == {"fulfillmentMessages", "outputContexts"}
    assert wire["outputContexts"][0]["lifespanCount"] == 2
    assert outcome.failure is None
    assert [m.type for m in outcome.messages] == [
        "text", "text", "text", "quick_replies", "card", "image", "custom",
    ]  # fmt: skip
    assert outcome.messages[4].content["buttons"][1]["type"] == "web_url"
    assert outcome.variables is not None and outcome.variables["p"] == "tea"
    assert DialogflowResponse.reply("x").to_json() == {"fulfillmentText": "x"}
    assert DialogflowResponse(fulfillment_text="y").to_json() == {"fulfillmentText": "y"}


@BOTH
def test_the_app_on_a_real_socket_answers_parleys_request(factory: Factory, server: Server) -> None:
    with server(factory(fulfill, auth=AUTH)) as base:
        client = WebhookClient(f"{base}/webhook", dialect="dialogflow", auth=AUTH)
        tea = client.send("check_price", entities={"product": "tea"}, data={"asked": 1})
        cake = client.send("check_price", entities={"product": "cake"})

    assert tea.status == 200 and tea.outcome.failure is None
    assert [m.type for m in tea.outcome.messages] == ["text", "quick_replies"]
    assert tea.outcome.variables is not None
    assert tea.outcome.variables["asked"] == 2 and tea.outcome.variables["last_product"] == "tea"
    assert (cake.status, cake.outcome.failure) == (500, "webhook answered HTTP 500")


@BOTH
def test_refusals(factory: Factory, server: Server) -> None:
    with server(factory(fulfill, auth=AUTH)) as base:
        good = WebhookClient(base, dialect="dialogflow", auth=AUTH)
        anonymous = WebhookClient(base, dialect="dialogflow")
        wrong = WebhookClient(base, dialect="dialogflow", auth=("parley", "nope"))

        assert anonymous.send(entities={"product": "tea"}).status == 401
        assert wrong.send(entities={"product": "tea"}).status == 401
        assert anonymous.post(b"{}", headers={"Authorization": "Basic !!!"}).status == 401
        assert good.post(b"<html>").status == 400
        assert good.post(b'{"queryResult": []}').status == 400
        assert good.post(b"", content_type="application/json").status == 400
        assert good.post(b"{}", content_type="text/html").status == 400
        assert httpx.get(base, trust_env=False).status_code == 200
        assert httpx.put(base, trust_env=False).status_code == 405
    in_process = WebhookClient(factory(fulfill), dialect="dialogflow")
    assert in_process.post(b"x" * 1_000_001).status == 413  # in-process: no racing socket


async def test_an_async_handler_is_awaited() -> None:
    async def handler(request: DialogflowRequest) -> DialogflowResponse:
        return DialogflowResponse(fulfillment_messages=[df_text(request.intent)])

    result = await WebhookClient(dialogflow_app(handler), dialect="dialogflow").asend("order")

    assert [m.content for m in result.outcome.messages] == ["order"]


DF_BOT = """\
name: sdkdf
environments: {{test: {{base_url: "{base}"}}}}
settings: {{bot_break_message: "Sorry, something went wrong."}}
entities: {{product: {{values: {{tea: [], coffee: [], cake: []}}}}}}
intents:
  ask_price: {{examples: ["price of {{product}}", "how much is the {{product}}"]}}
nodes:
  check_price:
    intents: [ask_price]
    entities: {{product: {{required: true}}}}
    webhook:
      path: /webhook
      dialect: dialogflow
      auth: {{type: basic, username: parley, password: pw}}
"""


async def test_a_dialogflow_sdk_webhook_answers_through_parley(tmp_path: Path) -> None:
    with wsgi_server(dialogflow_wsgi(fulfill, auth=AUTH)) as hook:
        bot = write_bot(tmp_path / "bot", DF_BOT.format(base=hook))
        with serve([bot], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            tea = await _ask(base, "price of tea")
            coffee = await _ask(base, "how much is the coffee")
            cake = await _ask(base, "price of cake")

    assert [m["type"] for m in tea["messages"]] == ["text", "quick_replies"]
    assert tea["messages"][0]["content"] == "tea is Rs. 120."
    assert tea["conversation"]["data"]["asked"] == 1
    assert coffee["conversation"]["data"]["asked"] == 2
    assert coffee["conversation"]["data"]["last_product"] == "coffee"
    assert [m["content"] for m in cake["messages"]] == ["Sorry, something went wrong."]


async def _ask(base: str, text: str) -> dict[str, Any]:
    body = {"conversation_id": "c1", "message": {"content": text}, "user": {"id": "u1"}}
    async with httpx.AsyncClient(base_url=base) as api:
        response = await api.post("/api/v1/bots/sdkdf/dialog", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())

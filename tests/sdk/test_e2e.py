"""SDK webhooks behind a real parley server: what the author writes is what the user gets."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from parley.sdk import (
    AimylogicRequest,
    HaptikRequest,
    HaptikResponse,
    WebhookError,
    aimylogic_app,
    aimylogic_wsgi,
    haptik_app,
    haptik_wsgi,
    hsl_quick_replies,
)
from tests.harness import serve, write_bot
from tests.sdk.servers import asgi_server, wsgi_server

Server = Callable[[Any], AbstractContextManager[str]]

HAPTIK_BOT = """\
name: sdkshop
environments: {{test: {{base_url: "{base}"}}}}
settings: {{bot_break_message: "Sorry, something went wrong."}}
entities: {{product: {{values: {{tea: [], coffee: [], cake: []}}}}}}
intents:
  ask_price: {{examples: ["price of {{product}}", "how much is the {{product}}"]}}
nodes:
  check_price:
    intents: [ask_price]
    entities: {{product: {{required: true}}}}
    webhook: {{path: /price, secret: {secret}}}
    failure: "No price for {{{{ product }}}}."
"""

AIMY_BOT = """\
name: sdkaimy
webhook: {{url: "https://hooks.example.invalid/", test_url: "{base}/"}}
intents: {{greet: {{examples: [hi, hello]}}}}
nodes:
  start:
    intents: [greet]
    event: start
    next: [{{if: "visits > 1", node: again}}, {{node: first}}]
  first: {{says: "Nice to meet you."}}
  again: {{says: "Visit {{{{ visits }}}}, {{{{ name }}}}!"}}
"""


def price(request: HaptikRequest) -> HaptikResponse:
    product = request.entity("product")
    if product == "cake":
        raise WebhookError(400, "no cakes")
    if product != "tea":
        return HaptikResponse.fail()
    count = int(request.conversation_data.get("asked", 0)) + 1
    return HaptikResponse.reply(
        "Tea is Rs. 120.",
        hsl_quick_replies("More?", "price of coffee"),
        conversation_data={"asked": count},
    )


async def ask(base: str, bot: str, text: str, conversation: str = "c1") -> dict[str, Any]:
    body = {"conversation_id": conversation, "message": {"content": text}, "user": {"id": "u1"}}
    async with httpx.AsyncClient(base_url=base) as api:
        response = await api.post(f"/api/v1/bots/{bot}/dialog", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("factory", "server"), [(haptik_app, asgi_server), (haptik_wsgi, wsgi_server)],
    ids=["asgi", "wsgi"],
)  # fmt: skip
async def test_a_haptik_sdk_webhook_answers_through_parley(
    tmp_path: Path, factory: Callable[..., Any], server: Server
) -> None:
    with server(factory(price, secret="s3cret")) as hook:
        bot = write_bot(tmp_path / "bot", HAPTIK_BOT.format(base=hook, secret="s3cret"))
        with serve([bot], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            tea = await ask(base, "sdkshop", "price of tea")
            coffee = await ask(base, "sdkshop", "how much is the coffee")
            cake = await ask(base, "sdkshop", "price of cake")

    assert [m["type"] for m in tea["messages"]] == ["text", "quick_replies"]
    assert tea["messages"][0]["content"] == "Tea is Rs. 120."
    assert tea["messages"][1]["content"]["buttons"][0]["value"] == "price of coffee"
    assert tea["conversation"]["data"]["asked"] == 1
    assert [m["content"] for m in coffee["messages"]] == ["No price for coffee."]
    assert [m["content"] for m in cake["messages"]] == ["Sorry, something went wrong."]


async def test_a_wrong_secret_is_refused_and_parley_breaks(tmp_path: Path) -> None:
    with wsgi_server(haptik_wsgi(price, secret="right")) as hook:
        bot = write_bot(tmp_path / "bot", HAPTIK_BOT.format(base=hook, secret="wrong"))
        with serve([bot], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            answer = await ask(base, "sdkshop", "price of tea")
            async with httpx.AsyncClient(base_url=base) as api:
                log = (await api.get("/api/v1/invocations")).json()["invocations"]

    assert [m["content"] for m in answer["messages"]] == ["Sorry, something went wrong."]
    assert log[0]["status"] == 401 and log[0]["error"] == "webhook answered HTTP 401"


@pytest.mark.parametrize(
    ("factory", "server"), [(aimylogic_app, asgi_server), (aimylogic_wsgi, wsgi_server)],
    ids=["asgi", "wsgi"],
)  # fmt: skip
async def test_an_aimylogic_sdk_webhook_steers_the_conversation(
    tmp_path: Path, factory: Callable[..., Any], server: Server
) -> None:
    visits: dict[str, int] = {}

    def on_event(request: AimylogicRequest) -> dict[str, Any]:
        visits[request.userId] = visits.get(request.userId, 0) + 1
        return {"visits": visits[request.userId], "name": "Ada"}

    with server(factory(on_event)) as hook:
        bot = write_bot(tmp_path / "bot", AIMY_BOT.format(base=hook))
        with serve([bot], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            first = await ask(base, "sdkaimy", "hi", "c1")
            again = await ask(base, "sdkaimy", "hello", "c2")

    assert [m["content"] for m in first["messages"]] == ["Nice to meet you."]
    assert [m["content"] for m in again["messages"]] == ["Visit 2, Ada!"]

"""`parley.sdk.initai`: the LogicInvocation parley encodes, read back; results parley's own
callback code applies; and SDK logic servers talking to a real parley on real sockets."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.bot.schema import LogicWebhookSpec
from parley.config import Settings
from parley.dialects.initai import InitaiDialect, invocation_body
from parley.dialects.initai import LogicInvocation as Registered
from parley.model import Call
from parley.sdk import (
    LogicInvocation,
    LogicResult,
    initai_app,
    initai_reply,
    initai_wsgi,
    post_logic_result,
)
from parley.sdk.testing import WebhookClient, sample_call
from tests.harness import free_port, serve, write_bot
from tests.sdk.servers import asgi_server, wsgi_server

Server = Callable[[Any], AbstractContextManager[str]]
BOT = """\
name: sdklogic
settings: {{bot_break_message: "Sorry, something went wrong."}}
logic:
  webhook: {{url: "https://logic.example.invalid/", test_url: "{logic}/", timeout: {timeout}}}
intents:
  greeting: {{examples: [hi, hello, hey there]}}
  provide/name: {{examples: ["I'm {{name}}", "call me {{name}}", "my name is {{name}}"]}}
  order/menu: {{examples: [show me the menu, menu please]}}
  crash: {{examples: [break it, crash now]}}
entities:
  name: {{values: {{Alice: [alice], Bob: [bob]}}}}
responses:
  greeting/by_name: "Hi {{{{ name }}}}!"
  menu/offer: "What would you like?"
"""


def logic(invocation: LogicInvocation) -> LogicResult:
    state = invocation.state
    clicked = invocation.postback
    if clicked is not None and clicked["stream"] == "pick":
        dish = clicked["data"]["dish"]
        return (
            LogicResult()
            .template("One {{.Dish}} for {{.Name}}.", {"Dish": dish, "Name": state["name"]})
            .state({**state, "dish": dish})
        )
    if invocation.intent == "provide/name":
        name = invocation.slot("name")
        return (
            LogicResult()
            .response("greeting/by_name", {"string/name": name})
            .state({**state, "name": name})
            .update_user(first_name=name, metadata={"by": "sdk"})
        )
    if invocation.intent == "order/menu":
        pizza = initai_reply("Pizza", "pick", {"dish": "pizza"})
        return LogicResult().response("menu/offer", replies=[pizza, "Nothing"])
    if invocation.intent == "crash":
        raise RuntimeError("the kitchen is on fire")
    visits = int(state.get("visits", 0)) + 1
    who = invocation.user.first_name or "stranger"
    return LogicResult().text(f"Hello {who}, visit {visits}.").state({**state, "visits": visits})


async def async_logic(invocation: LogicInvocation) -> LogicResult:
    await asyncio.sleep(0)
    return logic(invocation)


def registered(**call: Any) -> Call:
    """A call as the runtime sends it: registered, with an id, a token and a base URL."""
    sample = sample_call("initai", "http://logic/", **call)
    spec = Registered(LogicWebhookSpec(url="http://logic/"), "inv-1", "tok", "http://parley/")
    return replace(sample, spec=spec)


def test_the_model_reads_exactly_what_parley_encodes() -> None:
    call = registered(
        text="I'm alice", intent="provide/name", entities={"name": "Alice"},
        data={"visits": 2}, user="42", user_data={"metadata": {"vip": True}},
    )  # fmt: skip
    body = InitaiDialect().encode(call, "http://logic/").body

    invocation = LogicInvocation.from_json(json.loads(body))

    assert invocation.event_type == "LogicInvocation"
    assert (invocation.text, invocation.intent) == ("I'm alice", "provide/name")
    assert invocation.slot("name") == "Alice" and invocation.slot("other") is None
    assert invocation.state == {"visits": 2} and invocation.postback is None
    assert (invocation.user.id, invocation.user.metadata) == ("user-42", {"vip": True})
    assert invocation.auth_token == "tok" and invocation.app_id == "bot"
    assert invocation.result_url == "http://parley/api/v1/remote/logic/invocations/inv-1/result"
    assert invocation.part.slots["name"]["entity"] == "name"


def test_a_postback_and_a_bare_intent_read_back() -> None:
    button = '{"text":"Pizza","data":{"dish":"pizza"},"stream":"pick","version":"1"}'
    call = registered(text=f"initai-postback:{button}", intent="greeting")

    invocation = LogicInvocation.from_json(invocation_body(call))

    assert invocation.postback == json.loads(button) and invocation.text == "Pizza"
    assert invocation.intent == "greeting"


def test_every_builder_is_a_result_parley_applies() -> None:
    call = registered(user="ada", data={"old": 1})
    invocation = LogicInvocation.from_json(invocation_body(call))
    result = (
        LogicResult()
        .text("Hi")
        .response("greeting/by_name", {"string/name": "Ada"})
        .response("app:response:name:menu/offer", replies=[initai_reply("Tea", "pick", 1), "No"])
        .template("{{.A}}!", {"A": "ok"})
        .image("https://x.example/a.png", "a cup")
        .state({"new": 2})
        .update_user(first_name="Ada", last_name="L", metadata={"k": 1})
        .suggest("offer cake")
    )

    outcome = InitaiDialect().apply_result(call, result.to_json(invocation))

    assert outcome.failure is None
    assert [m.type for m in outcome.messages] == [
        "text", "response_ref", "response_ref", "quick_replies", "text", "image",
    ]  # fmt: skip
    assert outcome.messages[1].meta["response_data"] == {"string/name": "Ada"}
    assert outcome.messages[3].content["buttons"][1]["title"] == "No"
    assert (outcome.messages[4].content, outcome.messages[5].meta) == ("ok!", {"alt": "a cup"})
    assert outcome.data == {"new": 2}
    assert outcome.user_data is not None
    assert (outcome.user_data["first_name"], outcome.user_data["metadata"]) == ("Ada", {"k": 1})
    assert "offer cake" in outcome.notes[-1]
    assert InitaiDialect().apply_result(call, LogicResult().to_json(invocation)).data is None
    reset = InitaiDialect().apply_result(call, LogicResult().reset_user().to_json(invocation))
    assert reset.data == {}
    with pytest.raises(ValueError, match="email"):
        LogicResult().update_user(email="x@example.com")


@pytest.mark.parametrize("factory", [initai_app, initai_wsgi], ids=["asgi", "wsgi"])
def test_the_app_refuses_what_is_not_a_logic_invocation(factory: Callable[..., Any]) -> None:
    called: list[LogicInvocation] = []
    client = WebhookClient(factory(called.append), dialect="initai")

    assert client.post(b"not json").status == 400
    assert client.post(b"{}", content_type="text/plain").status == 400
    assert client.post(b"").status == 400
    assert client.post(b'{"event_type": "LogicInvocation", "data": {}}').status == 400
    assert client.post(b'{"data": {"payload": {}}}').status == 400
    assert client.post(b'{"event_type": "Test", "data": {}}').status == 200  # acknowledged
    assert client.post(b"[1]").status == 400
    assert client.post(b"x" * 1_000_001).status == 413
    time.sleep(0.05)
    assert called == []


async def _say(base: str, text: str, kind: str = "text") -> dict[str, Any]:
    body = {
        "conversation_id": "c1",
        "message": {"type": kind, "content": text},
        "user": {"id": "42"},
    }
    async with httpx.AsyncClient(base_url=base, timeout=10) as api:
        response = await api.post("/api/v1/bots/sdklogic/dialog", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _texts(answer: dict[str, Any]) -> list[Any]:
    return [m["content"] for m in answer["messages"]]


@pytest.mark.parametrize(
    ("factory", "handler", "server"),
    [(initai_app, async_logic, asgi_server), (initai_app, logic, asgi_server),
     (initai_wsgi, logic, wsgi_server)],
    ids=["asgi-async", "asgi-sync", "wsgi"],
)  # fmt: skip
async def test_an_sdk_logic_server_runs_a_conversation_through_parley(
    tmp_path: Path, factory: Callable[..., Any], handler: Any, server: Server
) -> None:
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/p.db",
        secret_key="test-secret",
        public_url=f"http://127.0.0.1:{port}",
    )
    with server(factory(handler)) as hook:
        bot = write_bot(tmp_path / "bot", BOT.format(logic=hook, timeout=5))
        with serve([bot], settings, port=port) as base:
            hello = await _say(base, "hello")
            named = await _say(base, "call me alice")
            again = await _say(base, "hi")
            menu = await _say(base, "show me the menu")
            pizza = await _say(base, menu["messages"][1]["content"]["buttons"][0]["value"])
            started = time.monotonic()
            crash = await _say(base, "crash now")
            crashed_after = time.monotonic() - started
            async with httpx.AsyncClient(base_url=base) as api:
                log = (await api.get("/api/v1/invocations")).json()["invocations"]

    assert _texts(hello) == ["Hello stranger, visit 1."]
    assert _texts(named) == ["Hi Alice!"]
    assert _texts(again) == ["Hello Alice, visit 2."]  # the user update came back
    assert again["conversation"]["data"] == {"visits": 2, "name": "Alice"}
    assert menu["messages"][0] == {"type": "text", "content": "What would you like?"}
    assert [b["title"] for b in menu["messages"][1]["content"]["buttons"]] == ["Pizza", "Nothing"]
    assert _texts(pizza) == ["One pizza for Alice."]
    assert pizza["conversation"]["data"]["dish"] == "pizza"
    assert _texts(crash) == ["Sorry, something went wrong."]
    assert crashed_after < 3  # a crash fails the turn at once, not after the timeout
    failed = next(entry for entry in log if entry["error"])
    assert "invalid logic result" in failed["error"]
    assert "the kitchen is on fire" in (failed["response_body"] or "")


async def test_a_result_posted_twice_is_refused_and_a_slow_one_times_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[LogicInvocation] = []

    def slow(invocation: LogicInvocation) -> LogicResult:
        seen.append(invocation)
        time.sleep(0.6)
        return LogicResult().text("too late")

    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/p.db", public_url=f"http://127.0.0.1:{port}"
    )
    with wsgi_server(initai_wsgi(slow)) as hook:
        bot = write_bot(tmp_path / "bot", BOT.format(logic=hook, timeout=0.3))
        with serve([bot], settings, port=port) as base, caplog.at_level(logging.WARNING):
            answer = await _say(base, "hello")
            deadline = time.monotonic() + 5  # the late result reaches parley and is refused
            while not any("HTTP 409" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, "the late result was never posted"
                await asyncio.sleep(0.05)
            again = await asyncio.to_thread(post_logic_result, seen[0], LogicResult().text("x"))

    assert _texts(answer) == ["Sorry, something went wrong."]
    assert again[0] == 409 and b"already finished" in again[1]

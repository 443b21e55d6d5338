"""A real initai-node logic server (seed 000's sample, tests/initai/server) behind a real
parley server: parley sends each message as a LogicInvocation, the server acknowledges and
posts its result to parley's callback, and the turn answers with it."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from parley.config import Settings
from tests.harness import free_port, serve, write_bot

from .conftest import LogicServer

TIMEOUT = 1.5
BOT = """\
name: pizzeria
logic:
  webhook:
    url: "https://logic.example.invalid/"
    test_url: "{proxy}/"
    timeout: {timeout}
intents:
  greeting: {{examples: [hi, hello, hey there]}}
  provide/name: {{examples: ["I'm {{name}}", "my name is {{name}}", "call me {{name}}"]}}
  order/menu: {{examples: [show me the menu, what can I order, menu please]}}
  silence: {{examples: [say nothing, stay silent]}}
entities:
  name: {{values: {{Alice: [alice], Bob: [bob]}}}}
responses:
  ask/name: "Hello! What's your name?"
  greeting/by_name: "Hi {{{{ name }}}}!"
  menu/offer: "What would you like?"
"""


class Proxy(BaseHTTPRequestHandler):
    """Forwards webhooks to the logic server and records them; with `tamper` set it breaks
    the invocation's token on the way, as an attacker or a bug would."""

    target: ClassVar[str] = ""
    tamper: ClassVar[bool] = False
    bodies: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append(body)
        if self.tamper:
            invocation = body["data"]["payload"]["invocation_data"]
            invocation["auth_token"] = invocation["auth_token"][:-4] + "AAAA"
        request = urllib.request.Request(
            self.target, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            status, content = answer.status, answer.read()
        self.send_response(status)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


@pytest.fixture
def proxy(logic_server: LogicServer) -> Iterator[str]:
    Proxy.target, Proxy.tamper, Proxy.bodies = logic_server.url + "/", False, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
async def api(tmp_path: Path, proxy: str) -> AsyncIterator[httpx.AsyncClient]:
    bot = write_bot(tmp_path / "pizzeria", BOT.format(proxy=proxy, timeout=TIMEOUT))
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/p.db",
        secret_key="test-secret",
        public_url=f"http://127.0.0.1:{port}",
    )
    with serve([bot], settings, port=port) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            yield client


async def say(
    api: httpx.AsyncClient, content: str, conversation: str = "c1", kind: str = "text"
) -> dict[str, Any]:
    body = {
        "conversation_id": conversation,
        "message": {"type": kind, "content": content},
        "user": {"id": "42", "full_name": "Alice Liddell"},
    }
    response = await api.post("/api/v1/bots/pizzeria/dialog", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def texts(answer: dict[str, Any]) -> list[Any]:
    return [m["content"] for m in answer["messages"]]


async def test_a_conversation_runs_on_the_logic_server_and_keeps_its_state(
    api: httpx.AsyncClient,
) -> None:
    assert texts(await say(api, "hello")) == ["Hello! What's your name?"]
    answer = await say(api, "I'm Alice")
    assert texts(answer) == ["Hi Alice!", "Nice to meet you, Alice!"]
    state = answer["conversation"]["data"]
    assert (state["userName"], state["greetCount"]) == ("Alice", 1)
    assert "currentExpectationsStreamStack" in state  # the SDK's own keys are kept
    answer = await say(api, "hello")
    assert texts(answer) == ["Welcome back, Alice! That makes 2 greetings."]

    sent = [b["data"]["payload"] for b in Proxy.bodies]
    assert sent[0]["current_conversation"]["state"] == {}
    assert sent[1]["current_conversation"]["state"]["currentExpectations"] == {
        "hello": ["provide/name", "greeting"]
    }
    part = sent[1]["current_conversation"]["messages"][0]["parts"][0]
    assert part["classification"]["base_type"]["value"] == "provide"
    assert part["classification"]["sub_type"]["value"] == "name"
    assert part["slots"]["name"]["values_by_role"]["generic"][0]["value"] == "Alice"
    user = sent[2]["users"]["user-42"]  # what the logic set on the user came back to it
    assert (user["first_name"], user["metadata"]) == ("Alice", {"greetedBy": "initai-logic"})


async def test_replies_come_back_as_postbacks_to_their_stream(api: httpx.AsyncClient) -> None:
    await say(api, "hello")
    await say(api, "my name is Bob")
    answer = await say(api, "show me the menu")
    offer, replies = answer["messages"]
    assert offer == {"type": "text", "content": "What would you like?"}
    assert replies["type"] == "quick_replies"
    pizza = replies["content"]["buttons"][0]
    assert pizza["title"] == "Pizza"

    answer = await say(api, pizza["value"], kind="postback")

    assert texts(answer) == ["One pizza for Bob, coming up."]
    part = Proxy.bodies[-1]["data"]["payload"]["current_conversation"]["messages"][0]["parts"][0]
    assert part["content_type"] == "postback"
    assert (part["content"]["stream"], part["content"]["data"]) == ("pick", {"dish": "pizza"})


async def test_the_invocation_log_holds_each_invocation_and_its_result(
    api: httpx.AsyncClient, proxy: str
) -> None:
    await say(api, "hello")

    log = (await api.get("/api/v1/invocations", params={"bot": "pizzeria"})).json()
    (entry,) = log["invocations"]
    assert (entry["kind"], entry["dialect"], entry["status"], entry["error"]) == (
        "logic", "initai", 200, None,
    )  # fmt: skip
    assert entry["url"] == proxy + "/"  # the bot's `test_url`, for a test conversation
    sent = json.loads(entry["request_body"])["data"]["payload"]["invocation_data"]
    assert sent["auth_token"] == "***"  # the bearer token never reaches the log
    result = json.loads(entry["response_body"])["result"]["payload"]
    assert result["execution_id"] == sent["invocation_id"]


async def test_a_result_that_never_comes_is_a_bot_break_after_the_timeout(
    api: httpx.AsyncClient,
) -> None:
    started = time.monotonic()
    answer = await say(api, "stay silent")
    assert time.monotonic() - started >= TIMEOUT
    assert texts(answer) == ["Sorry, something went wrong. Please try again."]
    log = (await api.get("/api/v1/invocations", params={"bot": "pizzeria"})).json()
    assert log["invocations"][-1]["error"] == f"logic result did not arrive within {TIMEOUT} s"


async def test_a_tampered_token_is_refused(
    api: httpx.AsyncClient, logic_server: LogicServer
) -> None:
    Proxy.tamper = True

    answer = await say(api, "hello", conversation="c-tampered")

    assert texts(answer) == ["Sorry, something went wrong. Please try again."]
    deadline = time.monotonic() + 5
    while '"code":401' not in logic_server.log.read_text() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert '{"message":"the token is not valid","code":401}' in logic_server.log.read_text()

"""Aimylogic's bot-level webhook and the HTTP request block through the real server."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot


class AimylogicWebhook(BaseHTTPRequestHandler):
    """Seed 003's example: `start` answers `lastSeen` for a known user, `seen` a `name`;
    plus a stock API for the HTTP block. It records every request it gets."""

    seen_users: ClassVar[set[str]] = set()
    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, answer: Any) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        variables = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append({"path": self.path, "body": variables})
        if variables["action"] == "start":
            known = variables["userId"] in self.seen_users
            self.seen_users.add(variables["userId"])
            self._json(200, {"lastSeen": 60} if known else {"visits": 1})
        elif variables["action"] == "seen":
            self._json(200, {"name": "John", "data": {"age": 30}})
        else:
            self._json(500, {"error": "unknown action"})

    def do_GET(self) -> None:
        self.requests.append({"path": self.path, "user": self.headers.get("X-User")})
        product = self.path.rsplit("/", 1)[-1]
        if product == "broken":
            self._json(503, {"error": "down"})
        else:
            self._json(200, {"data": {"available": product == "speaker", "product": product}})


BOT = """\
name: aimy
webhook:
  url: "https://hooks.example.invalid/aimy"
  test_url: "{base}/aimy"
intents:
  greet: {{examples: [hi, hello]}}
  stock: {{examples: ["is the {{product}} in stock"]}}
entities:
  product: {{values: {{speaker: [], powerbank: [], broken: []}}}}
nodes:
  start:
    intents: [greet]
    event: start
    next: [{{if: "lastSeen", node: seen}}, {{node: unseen}}]
  seen:
    event: seen
    says: "Welcome back, {{{{ name }}}}! Last seen {{{{ lastSeen }}}} days ago."
  unseen:
    says: "Nice to meet you."
  stock:
    intents: [stock]
    entities: {{product: {{required: true}}}}
    http:
      url: "{base}/stock/{{{{ product }}}}"
      headers: {{X-User: "{{{{ user.id }}}}"}}
      save: {{in_stock: data.available}}
      on_failure: stock_down
    next: [{{if: "in_stock", node: yes}}, {{node: no}}]
  yes: {{says: "Yes, the {{{{ product }}}} is in stock."}}
  no: {{says: "Sorry, no {{{{ product }}}} right now."}}
  stock_down: {{says: "I can't check the stock right now."}}
"""


@pytest.fixture
def webhook() -> Iterator[str]:
    AimylogicWebhook.seen_users, AimylogicWebhook.requests = set(), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), AimylogicWebhook)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
async def api(tmp_path: Path, webhook: str) -> AsyncIterator[httpx.AsyncClient]:
    bot = write_bot(tmp_path / "aimy", BOT.format(base=webhook))
    with serve([bot], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            yield client


async def say(api: httpx.AsyncClient, text: str, conversation: str = "c1") -> list[str]:
    body = {"conversation_id": conversation, "message": {"content": text}, "user": {"id": "u1"}}
    response = await api.post("/api/v1/bots/aimy/dialog", json=body)
    assert response.status_code == 200, response.text
    return [m["content"] for m in response.json()["messages"]]


async def test_events_send_variables_and_their_answers_steer_the_conversation(
    api: httpx.AsyncClient,
) -> None:
    assert await say(api, "hi") == ["Nice to meet you."]
    assert await say(api, "hello", "c2") == ["Welcome back, John! Last seen 60 days ago."]
    first, second, third = (r["body"] for r in AimylogicWebhook.requests)
    assert (first["action"], first["queryText"], first["userId"]) == ("start", "hi", "u1")
    assert first["channelType"] == "rest" and "rawRequest" in first
    assert (second["action"], third["action"]) == ("start", "seen")
    assert third["lastSeen"] == 60  # the variables the webhook set come back to it


async def test_http_block_saves_the_answer_and_branches(api: httpx.AsyncClient) -> None:
    assert await say(api, "is the speaker in stock") == ["Yes, the speaker is in stock."]
    assert await say(api, "is the powerbank in stock") == ["Sorry, no powerbank right now."]
    assert await say(api, "is the broken in stock") == ["I can't check the stock right now."]
    paths = [r["path"] for r in AimylogicWebhook.requests]
    assert paths == ["/stock/speaker", "/stock/powerbank", "/stock/broken"]
    assert AimylogicWebhook.requests[0]["user"] == "u1"
    log = (await api.get("/api/v1/invocations")).json()["invocations"]
    assert [(i["kind"], i["dialect"], i["status"]) for i in log] == [
        ("http", "http", 200), ("http", "http", 200), ("http", "http", 503),
    ]  # fmt: skip
    assert log[2]["error"] == "webhook answered HTTP 503"

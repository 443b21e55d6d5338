"""The result endpoint, driven by hand against a logic server that only acknowledges."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from parley.config import Settings
from tests.harness import free_port, serve, write_bot

BOT = """\
name: remote
logic:
  webhook: {{url: "{url}", timeout: 5}}
"""
OK = {"body": "OK", "error": None}


class AckOnly(BaseHTTPRequestHandler):
    """Acknowledges every invocation and never posts a result: the test does."""

    bodies: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def logic_url() -> Iterator[str]:
    AckOnly.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), AckOnly)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
async def api(tmp_path: Path, logic_url: str) -> AsyncIterator[httpx.AsyncClient]:
    bot = write_bot(tmp_path / "remote", BOT.format(url=logic_url))
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/p.db", public_url=f"http://127.0.0.1:{port}"
    )
    with serve([bot], settings, port=port) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            yield client


class Turn:
    """A dialog request waiting on its invocation, and what the logic server was sent."""

    def __init__(self, task: asyncio.Task[httpx.Response], payload: dict[str, Any]) -> None:
        self.task, self.payload = task, payload
        self.id: str = payload["invocation_data"]["invocation_id"]
        self.token: str = payload["invocation_data"]["auth_token"]
        self.url = f"/api/v1/remote/logic/invocations/{self.id}/result"

    def envelope(self, **payload: Any) -> dict[str, Any]:
        result = {"version": "0.0.14", "payload": {"execution_id": self.id, **payload}}
        invocation = {"invocation_id": self.id, "app_id": "remote", "app_user_id": "u"}
        return {"invocation": invocation, "result": result}

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    async def answer(self) -> dict[str, Any]:
        response = await self.task
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def start_turn(api: httpx.AsyncClient, text: str = "hello") -> Turn:
    seen = len(AckOnly.bodies)
    body = {"conversation_id": "c1", "message": {"content": text}}
    task = asyncio.create_task(api.post("/api/v1/bots/remote/dialog", json=body))
    for _ in range(200):
        if len(AckOnly.bodies) > seen:
            return Turn(task, AckOnly.bodies[-1]["data"]["payload"])
        await asyncio.sleep(0.01)
    raise AssertionError("the logic server got no invocation")


def said(text: str) -> list[dict[str, Any]]:
    return [{"parts": [{"content_type": "text", "content": text}]}]


async def test_the_first_result_is_applied_and_a_second_one_is_a_conflict(
    api: httpx.AsyncClient,
) -> None:
    turn = await start_turn(api)
    envelope = turn.envelope(conversation_state={"seen": 1}, messages=said("Hi!"))

    first = await api.post(turn.url, json=envelope, headers=turn.auth())
    again = await api.post(turn.url, json=envelope, headers=turn.auth())

    assert (first.status_code, first.json()) == (200, OK)
    assert again.status_code == 409
    assert again.json() == {
        "message": f"invocation {turn.id} is already finished (its result was accepted)",
        "code": 409,
    }
    answer = await turn.answer()
    assert [m["content"] for m in answer["messages"]] == ["Hi!"]
    assert answer["conversation"]["data"] == {"seen": 1}


async def test_a_chunked_body_is_accepted_and_connection_close_is_echoed(
    api: httpx.AsyncClient,
) -> None:
    turn = await start_turn(api)
    raw = json.dumps(turn.envelope(messages=said("chunked"))).encode()

    async def chunks() -> AsyncIterator[bytes]:
        yield raw[:10]
        yield raw[10:]

    headers = {**turn.auth(), "Connection": "close", "Content-Type": "application/json"}
    response = await api.post(turn.url, content=chunks(), headers=headers)

    assert (response.status_code, response.json()) == (200, OK)
    assert response.headers["connection"] == "close"
    assert [m["content"] for m in (await turn.answer())["messages"]] == ["chunked"]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "a Bearer token is required"),
        ({"Authorization": "Bearer not.a.jwt"}, "the token is not valid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "a Bearer token is required"),
    ],
)
async def test_results_without_a_valid_token_are_refused(
    api: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    turn = await start_turn(api)

    response = await api.post(turn.url, json=turn.envelope(), headers=headers)

    assert (response.status_code, response.json()) == (401, {"message": message, "code": 401})
    assert response.headers["www-authenticate"] == "Bearer"
    ok = await api.post(turn.url, json=turn.envelope(messages=said("ok")), headers=turn.auth())
    assert ok.status_code == 200  # the refused post left the invocation waiting
    await turn.answer()


async def test_a_token_is_bound_to_its_invocation_and_its_body(api: httpx.AsyncClient) -> None:
    turn = await start_turn(api)
    header, claims, signature = turn.token.split(".")
    tampered = f"{header}.{claims}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    other_url = turn.url.replace(turn.id, "00000000-0000-4000-8000-000000000000")
    other_body = turn.envelope()
    other_body["invocation"]["app_id"] = "another-app"

    refused = [
        await api.post(turn.url, json=turn.envelope(), headers=turn.auth(tampered)),
        await api.post(other_url, json=turn.envelope(), headers=turn.auth()),
        await api.post(turn.url, json=other_body, headers=turn.auth()),
    ]

    assert [r.status_code for r in refused] == [401, 401, 401]
    assert [r.json()["message"] for r in refused] == [
        "the token is not valid",
        "the token belongs to another invocation",
        "the body names another invocation or application than the token",
    ]
    await api.post(turn.url, json=turn.envelope(), headers=turn.auth())
    await turn.answer()


async def test_an_invalid_result_is_refused_and_breaks_the_turn(api: httpx.AsyncClient) -> None:
    turn = await start_turn(api)

    response = await api.post(
        turn.url, json=turn.envelope(conversation_state=[1]), headers=turn.auth()
    )

    assert response.status_code == 400
    assert response.json() == {
        "body": {
            "accepted": False,
            "errors": [
                {
                    "message": "invalid logic result: conversation_state is not an object",
                    "object_type": "logic_result",
                }
            ],
        }
    }
    answer = await turn.answer()
    assert [m["content"] for m in answer["messages"]] == [
        "Sorry, something went wrong. Please try again."
    ]


async def test_the_payload_of_a_waiting_invocation_can_be_fetched(api: httpx.AsyncClient) -> None:
    turn = await start_turn(api)

    response = await api.get(turn.url.replace("/result", "/payload"), headers=turn.auth())

    assert response.status_code == 200
    data = response.json()["body"]["payload"]
    assert data["payload"]["invocation_data"]["invocation_id"] == turn.id
    assert response.json()["error"] is None
    await api.post(turn.url, json=turn.envelope(), headers=turn.auth())
    await turn.answer()

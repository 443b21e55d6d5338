"""Malformed or hostile input gets a 4xx JSON error and leaves nothing half-saved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot

BOT = """\
name: echo
settings: {max_text_length: 200}
intents: {greet: {examples: [hi, hello]}}
nodes: {greet: {intents: [greet], says: "Hello {{ user.name }}"}}
"""
DIALOG = "/api/v1/bots/echo/dialog"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/p.db", max_body_bytes=4096)
    with serve([write_bot(tmp_path / "echo", BOT)], settings) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            yield client


def message(content: Any = "hi", **extra: Any) -> dict[str, Any]:
    return {"conversation_id": "c1", "message": {"type": "text", "content": content}, **extra}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 422, "invalid_request"),
        (b"", 422, "invalid_request"),
        (b"[]", 422, "invalid_request"),
        (b'"just a string"', 422, "invalid_request"),
        (b'{"message": {"content": "hi"}}', 422, "invalid_request"),
        (b'{"conversation_id": 7, "message": {"content": "hi"}}', 422, "invalid_request"),
        (b'{"conversation_id": "c1", "message": {"content": 42}}', 422, "invalid_request"),
        (b'{"conversation_id": "c1", "message": {"type": "video", "content": "x"}}', 422,
         "invalid_request"),
        (b'{"conversation_id": "c1", "message": {"content": "hi"}, "environment": "staging"}', 422,
         "invalid_request"),
        (b'{"conversation_id": "../../etc", "message": {"content": "hi"}}', 422, "invalid_request"),
        (b'{"conversation_id": "c1", "message": {"content": "   "}}', 400, "bad_request"),
        (b'{"conversation_id": "c1", "message": {"content": "' + b"x" * 201 + b'"}}', 400,
         "bad_request"),
        (b'{"conversation_id": "c1", "message": {"content": "' + b"x" * 5000 + b'"}}', 413,
         "payload_too_large"),
        (b'{"conversation_id": "c1", "message": {"content": "hi"}, "user": {"profile": []}}', 422,
         "invalid_request"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("path", [DIALOG, DIALOG + "?through=fastapi"], ids=["lane", "fastapi"])
async def test_malformed_dialog_request_is_a_json_4xx_and_saves_nothing(
    api: httpx.AsyncClient, body: bytes, status: int, code: str, path: str
) -> None:
    """The same answers through the fast lane and through FastAPI (a query string)."""
    response = await api.post(path, content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert response.json()["error"]["message"]
    assert (await api.get("/api/v1/bots/echo/conversations/c1")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 3000 + b"]" * 3000,
        b'{"conversation_id": "c1", "message": {"content": "hi"}, "user": {"profile": '
        + b'{"a": ' * 1000
        + b"1"
        + b"}" * 1001
        + b"}",
        b'{"conversation_id": "c1", "message": {"content": "\xff\xfe"}}',
        b'{"conversation_id": "c1", "message": {"content": "hi"}, "user": {"device_platform": '
        + b"9" * 40
        + b"}}",
        b'{"conversation_id": "c1", "message": {"content": NaN}}',
        b'{"conversation_id": "c\\u0000", "message": {"content": "hi"}}',
        b"\xff\xfe\xfd",
    ],
    ids=["deep-array", "deep-profile", "bad-utf8", "huge-int", "nan", "nul-id", "binary"],
)
async def test_hostile_bodies_are_4xx_json_errors(api: httpx.AsyncClient, body: bytes) -> None:
    response = await api.post(DIALOG, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()["error"]) == {"code", "message"}


async def test_unusual_but_valid_text_is_answered(api: httpx.AsyncClient) -> None:
    for text in ["héllo 漢字 🙂", "hi\u0000there", "' OR 1=1 --", "{{ 7 * 7 }}"]:
        response = await api.post(DIALOG, json=message(text))
        assert response.status_code == 200, response.text
    history = (await api.get("/api/v1/bots/echo/conversations/c1")).json()["history"]
    assert [h["message"]["content"] for h in history if h["sender"] == "user"] == [
        "héllo 漢字 🙂", "hi\u0000there", "' OR 1=1 --", "{{ 7 * 7 }}",
    ]  # fmt: skip


async def test_chunked_body_over_the_limit_is_refused(api: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    response = await api.post(
        DIALOG, content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_unknown_bot_is_404(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/bots/nope/dialog", json=message())
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "no bot named 'nope'"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nowhere", 404),
        ("GET", DIALOG, 405),
        ("GET", "/api/v1/bots/echo/conversations/none", 404),
        ("GET", "/api/v1/bots/echo/responses/none", 404),
        ("GET", "/api/v1/invocations?limit=0", 422),
        ("GET", "/api/v1/invocations?after_id=abc", 422),
    ],
)
async def test_other_bad_requests_are_json_errors(
    api: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await api.request(method, path)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message"}


async def test_a_conversation_cannot_be_taken_over_by_another_user(api: httpx.AsyncClient) -> None:
    assert (await api.post(DIALOG, json=message(user={"id": "alice"}))).status_code == 200
    response = await api.post(DIALOG, json=message(user={"id": "mallory"}))
    assert response.status_code == 400
    history = (await api.get("/api/v1/bots/echo/conversations/c1")).json()["history"]
    assert len(history) == 2


async def test_health_and_openapi_are_served(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok", "bots": ["echo"]}
    spec = (await api.get("/openapi.json")).json()
    assert "/api/v1/bots/{bot}/dialog" in spec["paths"]
    assert (await api.get("/docs")).status_code == 200


async def test_user_fields_reach_templates(api: httpx.AsyncClient) -> None:
    response = await api.post(DIALOG, json=message(user={"id": "u1", "name": "Ada"}))
    assert response.json()["messages"] == [{"type": "text", "content": "Hello Ada"}]

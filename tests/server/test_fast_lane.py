"""`FastLane` calls the hot endpoints straight; everything else reaches the app behind it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from parley.cli.options import load_bots
from parley.config import Settings
from parley.errors import NotFound
from parley.server.app import create_app
from parley.server.middleware import FastLane
from tests.harness import write_bot

DIALOG_HI = {"conversation_id": "c-1", "message": {"type": "text", "content": "hi"}}


async def behind(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("behind")(scope, receive, send)


async def echo(bot: str, request: Request) -> Response:
    body = await request.body()
    if bot == "missing":
        raise NotFound("no bot named 'missing'")
    if bot == "broken":
        raise RuntimeError("a bug")
    return JSONResponse({"bot": bot, "body": body.decode()})


def client() -> httpx.AsyncClient:
    app = FastLane(behind, [(r"/api/v1/bots/(?P<bot>[^/]+)/dialog", echo)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_post_to_a_lane_is_answered_by_its_endpoint_with_the_bot_from_the_path() -> None:
    async with client() as api:
        response = await api.post("/api/v1/bots/shop/dialog", content=b"hello")
    assert response.json() == {"bot": "shop", "body": "hello"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/bots/shop/dialog?environment=test"),  # queries are FastAPI's to parse
        ("GET", "/api/v1/bots/shop/dialog"),
        ("POST", "/api/v1/bots/shop/dialog/more"),
        ("POST", "/api/v1/bots/a/b/dialog"),
        ("POST", "/healthz"),
    ],
)
async def test_anything_else_goes_to_the_app_behind(method: str, path: str) -> None:
    async with client() as api:
        response = await api.request(method, path)
    assert response.text == "behind"


async def test_errors_get_the_answers_of_the_installed_handlers() -> None:
    async with client() as api:
        missing = await api.post("/api/v1/bots/missing/dialog")
        broken = await api.post("/api/v1/bots/broken/dialog")
    assert (missing.status_code, missing.json()) == (
        404, {"error": {"code": "not_found", "message": "no bot named 'missing'"}},
    )  # fmt: skip
    assert broken.status_code == 500
    assert broken.json()["error"]["code"] == "internal"
    assert "a bug" not in broken.text


GREETER = """\
name: greeter
intents: {greet: {examples: [hi]}}
nodes: {hi: {intents: [greet], says: Hi!}}
"""


async def test_the_apps_hot_lane_skips_fastapis_middleware_and_the_rest_does_not(
    tmp_path: Path,
) -> None:
    bot = load_bots([write_bot(tmp_path / "greeter", GREETER)])
    app = create_app(bot, Settings(database_url="memory://"))
    through_fastapi: list[str] = []

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    async with app.router.lifespan_context(app):
        real = app.build_middleware_stack()

        async def spy(scope: Scope, receive: Receive, send: Send) -> None:
            through_fastapi.append(scope["path"])
            await real(scope, receive, send)

        app.middleware_stack = spy
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as api:
            hot = await api.post("/api/v1/bots/greeter/dialog", json=DIALOG_HI)
            slow = await api.post("/api/v1/bots/greeter/dialog?environment=test", json=DIALOG_HI)
            broken = await api.get("/boom", headers={"X-Request-ID": "req-42"})
    assert hot.json()["messages"] == slow.json()["messages"] == [{"type": "text", "content": "Hi!"}]
    assert "x-request-id" in hot.headers and "x-request-id" in slow.headers
    assert through_fastapi == ["/api/v1/bots/greeter/dialog", "/boom"]  # the query, the rest
    assert broken.status_code == 500
    assert broken.json()["error"]["code"] == "internal"
    assert broken.headers["x-request-id"] == "req-42"  # FastAPI's 500s carry the id too

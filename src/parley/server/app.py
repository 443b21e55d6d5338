"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

import parley
from parley.bot import Bot
from parley.config import Settings
from parley.observability import Metrics, RequestContext
from parley.observability.metrics import CONTENT_TYPE_LATEST
from parley.runtime import Callers, Runtime
from parley.runtime.logic import LogicInvocations
from parley.runtime.shared import Shared
from parley.sandbox import SandboxPool
from parley.server import (
    agents,
    cai,
    callbacks,
    console,
    dialog,
    errors,
    inspector,
    integration,
    rasa_rest,
    streams,
)
from parley.server.middleware import BodyLimit, FastLane
from parley.storage import create_store
from parley.webhooks import make_client
from parley.webhooks.breaker import Breakers, BreakerState
from parley.webhooks.guard import Guard

CONSOLE = Path(__file__).resolve().parent.parent / "console"


def create_app(bots: list[Bot], settings: Settings) -> FastAPI:
    """An app serving `bots`; the store and the HTTP client open and close with it."""
    guard = Guard.parse(settings.allowed_hosts)  # a bad PARLEY_ALLOWED_HOSTS fails here
    SandboxPool(settings.sandbox_isolation)  # and so does a bad PARLEY_SANDBOX_ISOLATION
    metrics = Metrics()  # this app's own registry: servers in one process never mix

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = create_store(settings.database_url)
        await store.open()
        client = make_client(max_connections=settings.http_pool_size, guard=guard)
        has_logic = any(bot.spec.logic is not None and bot.spec.logic.webhook for bot in bots)
        sandbox = SandboxPool(settings.sandbox_isolation)
        if any(_has_code(bot) for bot in bots):
            await sandbox.start()  # warm, and the isolation level is logged at start-up
        callers = Callers(
            client,
            LogicInvocations.from_settings(settings, warn=has_logic),
            sandbox,
            allow_weak_sandbox=bool(settings.sandbox_allow_weak),
        )
        shared = Shared.open(settings.redis_url, lease=settings.lock_lease)
        app.state.runtime = Runtime(
            bots, store, callers, max_text_length=settings.max_text_length, metrics=metrics,
            shared=shared,
        )  # fmt: skip
        metrics.watch_lock_waiting(lambda: shared.locks.waiting)
        if shared.relay is not None:
            callers.logic.invocations.relay = shared.relay
            await shared.relay.serve(partial(callbacks.answer_here, callers.logic.invocations))
        metrics.watch_breakers(partial(_breaker_states, callers.webhook.breakers, bots))
        try:
            yield
        finally:
            await shared.aclose()
            await callers.aclose()
            await client.close()
            await store.close()

    app = ParleyApp(
        title="parley",
        version=parley.__version__,
        description="Dialog API of a parley server.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    outer: ASGIApp = FastLane(app.inner, lanes=[
        (r"/api/v1/bots/(?P<bot>[^/]+)/dialog", dialog.dialog),
        (r"/api/v1/bots/(?P<bot>[^/]+)/webhooks/rest/webhook", rasa_rest.webhook),
    ])  # fmt: skip
    outer = BodyLimit(outer, limit=settings.max_body_bytes)
    if origins := settings.cors_origins.replace(",", " ").split():  # the chat widget's pages
        outer = CORSMiddleware(
            outer, allow_origins=origins, allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )  # fmt: skip
    app.outer = RequestContext(outer)  # outermost: X-Request-ID on every answer, 413 and 500 too
    errors.install(app)
    app.include_router(dialog.router)
    app.include_router(cai.router)
    app.include_router(rasa_rest.router)
    app.include_router(streams.router)
    app.include_router(agents.router)
    app.include_router(integration.router)
    app.include_router(callbacks.router)
    app.include_router(console.pages)
    app.include_router(console.router)
    app.include_router(inspector.router)
    app.mount("/agent", StaticFiles(directory=CONSOLE, html=True), name="agent-console")
    app.mount("/console", StaticFiles(directory=CONSOLE), name="console")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            )  # fmt: skip
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(dialog.DIALOG_SCHEMAS)
            errors.document(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override

    @app.get("/healthz", summary="Liveness and the bots served")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "bots": sorted(b.spec.name for b in bots)})

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app


class ParleyApp(FastAPI):
    """FastAPI behind parley's own middleware (`outer`: request id, CORS, body limit and the
    hot lanes), so a user's message skips FastAPI's generic layers (its server-error,
    telemetry and body-limit middleware) as well as its routing; everything else goes on to
    FastAPI (`inner`) as usual. Errors on either path get the installed handlers' answers."""

    outer: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self  # what Starlette sets, for `request.app` on the hot lanes
        await (self.outer or self.inner)(scope, receive, send)

    async def inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def _has_code(bot: Bot) -> bool:
    logic = bot.spec.logic
    return (logic is not None and logic.code is not None) or any(
        node.code is not None for node in bot.spec.nodes.values()
    )


_BREAKER_VALUES = {BreakerState.OPEN: 1.0, BreakerState.HALF_OPEN: 0.5, BreakerState.CLOSED: 0.0}


def _breaker_states(breakers: Breakers, bots: list[Bot]) -> list[tuple[str, str, float]]:
    """(bot, endpoint, gauge value) of every remembered breaker, read at scrape time."""
    cool_downs = {b.spec.name: b.spec.settings.resilience.cool_down for b in bots}
    return [
        (bot, endpoint, _BREAKER_VALUES[breakers.state(bot, endpoint, cool_downs.get(bot, 30.0))])
        for bot, endpoint in breakers.endpoints()
    ]

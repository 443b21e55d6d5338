"""Cross-cutting server behaviour as plain ASGI middleware, listed once in `create_app`."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.server import errors

Endpoint = Callable[[str, Request], Awaitable[Response]]
"""A hot endpoint: (bot, request) -> response."""


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413: at once by Content-Length, or as
    soon as a chunked body crosses the limit while the endpoint reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit():
                if int(value) > self.limit:
                    await self._refuse(send)
                    return
                # the server delivers no more than Content-Length: nothing left to count
                await self.app(scope, receive, send)
                return
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, f"request body over {self.limit} bytes")
            return message

        await self.app(scope, counted_receive, send)

    async def _refuse(self, send: Send) -> None:
        error = {"code": "payload_too_large", "message": f"request body over {self.limit} bytes"}
        body = json.dumps({"error": error}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class FastLane:
    """Calls the hot endpoints (a user's message in) straight from the middleware stack,
    skipping FastAPI's exception middleware, routers and dependency resolution: about a
    sixth of a turn's CPU. `lanes`: (path pattern with a `bot` group, endpoint) for `POST`
    without a query string; everything else, and the same paths with a query, goes through
    FastAPI, which also documents them. Errors get the answers of the installed handlers.
    Innermost of parley's middleware, so the request id, the body limit and CORS still
    apply, and in front of FastAPI's own (`ParleyApp`)."""

    def __init__(self, app: ASGIApp, lanes: Sequence[tuple[str, Endpoint]]) -> None:
        self.app = app
        self.lanes = [(re.compile(pattern), endpoint) for pattern, endpoint in lanes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope["query_string"]:
            path, root = scope["path"], scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            for pattern, endpoint in self.lanes:
                if (match := pattern.fullmatch(path)) is not None:
                    request = Request(scope, receive)
                    try:
                        response = await endpoint(match["bot"], request)
                    except Exception as exc:
                        response = await errors.respond(request, exc)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

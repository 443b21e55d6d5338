"""An `Endpoint` and a handler as a plain ASGI application (uvicorn, hypercorn, Starlette mounts).

A sync handler runs in a worker thread so it never blocks the event loop; an async one is
awaited.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from parley.sdk._wire import MAX_BODY, Endpoint, Reply, WebhookError, too_large

RequestT = TypeVar("RequestT")
AnswerT = TypeVar("AnswerT")

AsyncHandler = Callable[[RequestT], AnswerT | Awaitable[AnswerT]]


def asgi_app(
    endpoint: Endpoint[RequestT, AnswerT], handler: AsyncHandler[RequestT, AnswerT]
) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        reply = await _handle(endpoint, handler, scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(k.encode(), v.encode()) for k, v in reply.header_list()],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})

    return app


async def _handle(
    endpoint: Endpoint[RequestT, AnswerT],
    handler: AsyncHandler[RequestT, AnswerT],
    scope: Scope,
    receive: Receive,
) -> Reply:
    body = await _read_body(receive)
    if body is None:
        return too_large()
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    signature = headers.get(endpoint.signature_header.lower())
    request = endpoint.accept(
        scope["method"],
        headers.get("content-type"),
        body,
        signature,
        authorization=headers.get("authorization"),
        path=scope.get("path") or "/",
        headers=headers,
    )
    if isinstance(request, Reply):
        return request
    try:
        return endpoint.answer(await _call(handler, request))
    except WebhookError as exc:
        return endpoint.refuse(exc)
    except Exception:
        return endpoint.crash()


async def _call(handler: AsyncHandler[RequestT, AnswerT], request: RequestT) -> AnswerT:
    if inspect.iscoroutinefunction(handler):
        result: Any = await handler(request)
    else:
        result = await anyio.to_thread.run_sync(handler, request)
    if inspect.isawaitable(result):
        result = await result
    return result  # type: ignore[no-any-return]  # a handler's answer is the caller's type


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return

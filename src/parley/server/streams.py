"""Server-sent events: a conversation's new messages and state changes, pushed live.

`GET /api/v1/bots/{bot}/conversations/{id}/events` is the user's stream; the agent API
serves its team's stream with the same `sse()` helper. Each event is
`id: <history id>` (messages only), `event: message|state`, `data: <JSON>`. A client that
reconnects with `Last-Event-ID` (or `?after_id=`) first gets the messages it missed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from parley.errors import NotFound
from parley.model import HistoryEntry
from parley.runtime import Runtime
from parley.runtime.events import Event, conversation_topic, entry_json
from parley.server.dialog import MAX_ID

router = APIRouter(prefix="/api/v1")
HEARTBEAT_SECONDS = 15.0


def _frame(kind: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def sse(
    request: Request,
    runtime: Runtime,
    topic: str,
    replay: Callable[[], Awaitable[list[HistoryEntry]]] | None = None,
    keep: Callable[[Event], bool] = lambda event: True,
) -> StreamingResponse:
    """Stream what `replay` reads (after subscribing, so nothing falls in between), then the
    topic's events that `keep` accepts, until the client goes. The subscription is made
    before the answer starts: when the event bus is down the client gets a 503 JSON error,
    not a 200 that ends at once."""
    subscription = AsyncExitStack()
    queue = await subscription.enter_async_context(runtime.events.subscribe(topic))

    async def frames() -> AsyncIterator[bytes]:
        async with subscription:
            yield b": connected\n\n"
            seen = 0
            for entry in await replay() if replay else []:
                seen = max(seen, entry.id or 0)
                yield _frame("message", entry_json(entry), entry.id)
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if (event.id is not None and event.id <= seen) or not keep(event):
                    continue
                data = {**event.data, "bot": event.bot, "conversation_id": event.conversation_id}
                yield _frame(event.kind, data, event.id)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers=headers,
        background=BackgroundTask(subscription.aclose),  # if the stream never started
    )


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get(
    "/bots/{bot}/conversations/{conversation_id}/events",
    summary="The conversation's new messages (agents' replies too) as server-sent events",
)
async def conversation_events(
    bot: str,
    conversation_id: str,
    request: Request,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    runtime = _runtime(request)
    runtime.live(bot)
    if last_event_id and last_event_id.isdigit():
        after_id = int(last_event_id)
    if after_id is None:
        return await sse(request, runtime, conversation_topic(bot, conversation_id))
    if await runtime.store.get_conversation(bot, conversation_id) is None:
        raise NotFound(f"bot {bot!r} has no conversation {conversation_id!r}")
    since = after_id

    async def missed() -> list[HistoryEntry]:
        history = await runtime.store.history(bot, conversation_id, limit=1000)
        return [entry for entry in history if (entry.id or 0) > since]

    return await sse(request, runtime, conversation_topic(bot, conversation_id), missed)

"""Per-request and per-turn context in contextvars: ids for the logs, the W3C trace.

`RequestContext` (ASGI middleware) takes `X-Request-ID` or makes one, echoes it, and keeps
the request's `traceparent` when valid. `turn_scope` marks a turn: its id, bot and
conversation for the logs, and its trace — the request's trace id when one came in, else a
new one. `outbound_traceparent()` gives each outbound call a new span id in that trace.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "RequestContext",
    "Trace",
    "current_fields",
    "outbound_traceparent",
    "parse_traceparent",
    "turn_scope",
]

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")


@dataclass(frozen=True, slots=True)
class Trace:
    trace_id: str
    flags: str = "01"


request_id: ContextVar[str | None] = ContextVar("parley_request_id", default=None)
turn_id: ContextVar[str | None] = ContextVar("parley_turn_id", default=None)
bot: ContextVar[str | None] = ContextVar("parley_bot", default=None)
conversation_id: ContextVar[str | None] = ContextVar("parley_conversation_id", default=None)
incoming_trace: ContextVar[Trace | None] = ContextVar("parley_incoming_trace", default=None)
turn_trace: ContextVar[Trace | None] = ContextVar("parley_turn_trace", default=None)


def parse_traceparent(value: str | None) -> Trace | None:
    """The trace of a valid W3C `traceparent` header, else None (a new trace starts)."""
    if not value:
        return None
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace, parent, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace == "0" * 32 or parent == "0" * 16:
        return None
    return Trace(trace, flags)


def _hex(bits: int) -> str:
    value = 0
    while value == 0:  # all-zero ids are invalid
        value = random.getrandbits(bits)
    return f"{value:0{bits // 4}x}"


def outbound_traceparent() -> str:
    """`traceparent` for one outbound call: the turn's (or request's) trace, a new span id."""
    trace = turn_trace.get() or incoming_trace.get() or Trace(_hex(128))
    return f"00-{trace.trace_id}-{_hex(64)}-{trace.flags}"


def current_trace_id() -> str | None:
    trace = turn_trace.get() or incoming_trace.get()
    return trace.trace_id if trace else None


def current_fields() -> dict[str, str]:
    """The context known here, for a log record: request, turn, bot, conversation, trace."""
    fields = {
        "request_id": request_id.get(),
        "turn_id": turn_id.get(),
        "bot": bot.get(),
        "conversation_id": conversation_id.get(),
        "trace_id": current_trace_id(),
    }
    return {k: v for k, v in fields.items() if v is not None}


@contextmanager
def turn_scope(turn: str, bot_name: str, conversation: str) -> Iterator[Trace]:
    """Inside: log records carry the turn, and outbound calls its trace."""
    trace = incoming_trace.get() or Trace(_hex(128))
    tokens = (
        turn_id.set(turn),
        bot.set(bot_name),
        conversation_id.set(conversation),
        turn_trace.set(trace),
    )
    try:
        yield trace
    finally:
        turn_trace.reset(tokens[3])
        conversation_id.reset(tokens[2])
        bot.reset(tokens[1])
        turn_id.reset(tokens[0])


class RequestContext:
    """Plain ASGI middleware: the request id (from `X-Request-ID` when it is a sane token,
    else a new one) is set for the logs and echoed in the response; a valid `traceparent`
    is kept for the turn the request runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given, parent = None, None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                given = value.decode("latin-1")
            elif name == b"traceparent":
                parent = value.decode("latin-1")
        rid = given if given and _REQUEST_ID.fullmatch(given) else _hex(128)
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != header[0]]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        tokens = request_id.set(rid), incoming_trace.set(parse_traceparent(parent))
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            incoming_trace.reset(tokens[1])
            request_id.reset(tokens[0])

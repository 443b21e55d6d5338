"""Init.ai logic servers in a few lines: `initai_app` / `initai_wsgi` acknowledge each
`LogicInvocation` with 200 at once, run your handler afterwards and POST its `LogicResult` to
parley's callback with the invocation's bearer token; `post_logic_result` does that last step
for a server written in another framework."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any
from wsgiref.types import WSGIApplication

import anyio.to_thread
from starlette.types import ASGIApp

from parley.sdk._asgi import asgi_app
from parley.sdk._wire import Endpoint
from parley.sdk._wsgi import wsgi_app
from parley.sdk.initai import LogicInvocation, LogicResult

_log = logging.getLogger("parley.sdk")


def post_logic_result(
    invocation: LogicInvocation, result: LogicResult, *, timeout: float = 10.0
) -> tuple[int, bytes]:
    """POST `result` to parley's callback with the invocation's bearer token (standard
    library); the answer's status and body (parley: 200 accepted, 400 malformed, 401 bad
    token, 404 unknown, 409 finished)."""
    return _post(invocation, result.to_json(invocation), timeout)


def _post(invocation: LogicInvocation, document: Any, timeout: float) -> tuple[int, bytes]:
    request = urllib.request.Request(
        invocation.result_url,
        json.dumps(document, ensure_ascii=False).encode("utf-8"),
        {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {invocation.auth_token}",
        },
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


InitaiHandler = Callable[[LogicInvocation], LogicResult]
"""A logic script: the invocation in, the turn's result out."""

AsyncInitaiHandler = Callable[[LogicInvocation], LogicResult | Awaitable[LogicResult]]
"""A logic script for `initai_app`: sync (run in a thread) or `async def`."""


def _deliver(invocation: LogicInvocation, outcome: LogicResult | BaseException) -> None:
    """Post the handler's result; a crash posts a result parley refuses, so the turn
    fails at once (a bot break) instead of waiting for the timeout."""
    if not invocation.result_url:
        _log.warning(
            "invocation %s has no api.base_url: no result posted", invocation.invocation_id
        )
        return
    if isinstance(outcome, LogicResult):
        document = outcome.to_json(invocation)
    else:
        reason = f"the logic handler failed: {type(outcome).__name__}: {outcome}"[:500]
        document = {
            **LogicResult().to_json(invocation),
            "result": {"payload": None, "error": reason},
        }
    try:
        status, body = _post(invocation, document, 10.0)
    except OSError as exc:
        _log.warning("posting the result of %s failed: %s", invocation.invocation_id, exc)
        return
    if status != 200:
        text = body.decode("utf-8", "replace")[:300]
        _log.warning(
            "parley refused the result of %s: HTTP %s %s", invocation.invocation_id, status, text
        )


def _checked(answer: Any) -> LogicResult:
    if not isinstance(answer, LogicResult):
        raise TypeError(f"a logic handler must return a LogicResult, not {type(answer)}")
    return answer


def _run(handler: InitaiHandler, invocation: LogicInvocation) -> None:
    try:
        outcome: LogicResult | BaseException = _checked(handler(invocation))
    except Exception as exc:
        _log.exception("the logic handler raised")
        outcome = exc
    _deliver(invocation, outcome)


def initai_app(handler: AsyncInitaiHandler) -> ASGIApp:
    """An ASGI logic server on every path: a `LogicInvocation` is acknowledged with 200 at
    once, then `handler` runs in the background and its result is POSTed to parley's
    callback. Other Init.ai events are acknowledged and ignored; a body that is not JSON or
    not an Init.ai webhook gets 400; `GET` answers 200 (a health check)."""
    tasks: set[asyncio.Task[None]] = set()

    async def run(invocation: LogicInvocation) -> None:
        try:
            if inspect.iscoroutinefunction(handler):
                result: Any = await handler(invocation)
            else:  # a sync script must not block the event loop
                result = await anyio.to_thread.run_sync(handler, invocation)
            if inspect.isawaitable(result):
                result = await result
            outcome: LogicResult | BaseException = _checked(result)
        except Exception as exc:
            _log.exception("the logic handler raised")
            outcome = exc
        await anyio.to_thread.run_sync(_deliver, invocation, outcome)

    async def acknowledge(invocation: LogicInvocation | None) -> None:
        if invocation is not None:
            task = asyncio.get_running_loop().create_task(run(invocation))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    return asgi_app(_endpoint(), acknowledge)


def initai_wsgi(handler: InitaiHandler) -> WSGIApplication:
    """`initai_app` as a WSGI app (standard library only): the handler runs in a thread of
    its own after the acknowledgement."""

    def acknowledge(invocation: LogicInvocation | None) -> None:
        if invocation is not None:
            threading.Thread(target=_run, args=(handler, invocation), daemon=True).start()

    return wsgi_app(_endpoint(), acknowledge)


def _parse(document: Any) -> LogicInvocation | None:
    event = document.get("event_type") if isinstance(document, dict) else None
    if event is not None and event != "LogicInvocation":
        return None  # Test, MessageOutbound, ...: acknowledged, as Init.ai's sample does
    return LogicInvocation.from_json(document)


def _endpoint() -> Endpoint[LogicInvocation | None, None]:
    return Endpoint(_parse, lambda _: {"ok": True})

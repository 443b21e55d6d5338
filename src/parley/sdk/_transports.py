"""How `parley.sdk.testing` delivers a `WireRequest`: into an ASGI or WSGI app in-process,
or over real HTTP to a URL (standard library, no proxies, redirects not followed)."""

from __future__ import annotations

import asyncio
import inspect
import io
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit
from wsgiref.types import WSGIApplication
from wsgiref.util import setup_testing_defaults

from starlette.types import ASGIApp, Message
from typing_extensions import TypeIs

from parley.dialects.base import WireRequest, WireResponse

T = TypeVar("T")


def is_asgi(app: object) -> TypeIs[ASGIApp]:
    """Whether `app` is an ASGI application (an `async` callable) rather than WSGI."""
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else type(app).__call__
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(app)


async def call_asgi(app: ASGIApp, request: WireRequest) -> WireResponse:
    url = urlsplit(request.url)
    headers = {"host": url.netloc or "testserver", "content-length": str(len(request.body))}
    headers.update({k.lower(): v for k, v in request.headers.items()})
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme or "http",
        "path": url.path or "/",
        "raw_path": (url.path or "/").encode(),
        "query_string": url.query.encode(),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": (url.hostname or "testserver", url.port or 80),
    }
    done = asyncio.Event()
    pending = [{"type": "http.request", "body": request.body, "more_body": False}]
    status, out_headers, chunks = 500, {}, []

    async def receive() -> Message:
        if pending:
            return pending.pop()
        await done.wait()  # the client stays connected until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for k, v in message.get("headers", []):
                out_headers[k.decode("latin-1").lower()] = v.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    done.set()
    return WireResponse(status, out_headers, b"".join(chunks))


def call_wsgi(app: WSGIApplication, request: WireRequest) -> WireResponse:
    url = urlsplit(request.url)
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(
        REQUEST_METHOD=request.method,
        PATH_INFO=url.path or "/",
        QUERY_STRING=url.query,
        SERVER_NAME=url.hostname or "testserver",
        SERVER_PORT=str(url.port or 80),
        CONTENT_LENGTH=str(len(request.body)),
        CONTENT_TYPE="",
    )
    environ["wsgi.input"] = io.BytesIO(request.body)
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [int(status.split()[0]), {k.lower(): v for k, v in headers}]
        return lambda data: None

    result: Iterable[bytes] = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return WireResponse(started[0], started[1], body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # parley does not follow redirects, so the test client does not either


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def call_url(request: WireRequest, timeout: float) -> WireResponse:
    http_request = urllib.request.Request(
        request.url, data=request.body, headers=request.headers, method=request.method
    )
    try:
        with _OPENER.open(http_request, timeout=timeout) as answer:
            return WireResponse(answer.status, _lower(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return WireResponse(error.code, _lower(error.headers.items()), error.read())


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion from sync code, even when an event loop is running
    (pytest-asyncio tests): then it gets its own loop in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k.lower(): v for k, v in items}

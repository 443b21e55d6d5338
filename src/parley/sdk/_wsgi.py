"""An `Endpoint` and a handler as a WSGI application: standard library only, so a webhook
runs with `wsgiref.simple_server` (or gunicorn, waitress, mod_wsgi) and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from parley.sdk._wire import MAX_BODY, Endpoint, Reply, WebhookError, too_large

RequestT = TypeVar("RequestT")
AnswerT = TypeVar("AnswerT")


def wsgi_app(
    endpoint: Endpoint[RequestT, AnswerT], handler: Callable[[RequestT], AnswerT]
) -> WSGIApplication:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        reply = _handle(endpoint, handler, environ)
        start_response(reply.status_line, reply.header_list())
        return [reply.body]

    return app


def _handle(
    endpoint: Endpoint[RequestT, AnswerT],
    handler: Callable[[RequestT], AnswerT],
    environ: WSGIEnvironment,
) -> Reply:
    body = _read_body(environ)
    if body is None:
        return too_large()
    signature_key = "HTTP_" + endpoint.signature_header.upper().replace("-", "_")
    request = endpoint.accept(
        environ["REQUEST_METHOD"],
        environ.get("CONTENT_TYPE"),
        body,
        environ.get(signature_key),
        authorization=environ.get("HTTP_AUTHORIZATION"),
        path=environ.get("PATH_INFO") or "/",
        headers={
            name.lower(): value
            for name in endpoint.signature_headers
            if (value := environ.get("HTTP_" + name.upper().replace("-", "_"))) is not None
        },
    )
    if isinstance(request, Reply):
        return request
    try:
        return endpoint.answer(handler(request))
    except WebhookError as exc:
        return endpoint.refuse(exc)
    except Exception:
        return endpoint.crash()


def _read_body(environ: WSGIEnvironment) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return None
    return environ["wsgi.input"].read(length) if length > 0 else b""

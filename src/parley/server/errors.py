"""Every error the server answers is `{"error": {"code", "message"}}` with a 4xx status."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from parley.errors import ParleyError

log = logging.getLogger("parley.server")


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        if error.get("type") == "json_invalid":
            return "the request body is not valid JSON"
        parts.append(f"{loc}: {error.get('msg', 'invalid')}" if loc else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


async def _parley_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ParleyError)
    return error_response(exc.status_code, exc.code, exc.message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "invalid_request", _describe(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    code = codes.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, exc.detail, exc.headers)  # 405: `Allow`


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "an unexpected error occurred; it has been logged")


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_STATUSES = {
    "400": "Bad request",
    "401": "Missing or wrong credentials",
    "404": "No such bot, conversation or resource",
    "405": "Method not allowed",
    "409": "Conflict with the current state",
    "413": "Body too large",
    "422": "Invalid request",
    "503": "Storage or a shared service (Redis) is unavailable: retry",
}
# Partners' and logic servers' APIs answer errors in their own platforms' shapes.
_OWN_SHAPES = ("/integration/", "/api/v1/remote/")


def document(openapi: dict[str, Any]) -> None:
    """Adds the error answers every operation may give to the OpenAPI document."""
    openapi["components"]["schemas"]["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in openapi.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in _STATUSES.items():
                answer: dict[str, Any] = {"description": description}
                if not path.startswith(_OWN_SHAPES) and status != "422":
                    answer["content"] = content
                responses.setdefault(status, answer)


_HANDLERS = {
    ParleyError: _parley_error,
    RequestValidationError: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}


def install(app: FastAPI) -> None:
    for kind, handler in _HANDLERS.items():
        app.add_exception_handler(kind, handler)


async def respond(request: Request, exc: Exception) -> JSONResponse:
    """The answer the installed handlers give `exc`, for code that runs outside FastAPI's
    exception middleware (`FastLane`)."""
    for kind in type(exc).__mro__:
        if (handler := _HANDLERS.get(kind)) is not None:
            return await handler(request, exc)
    raise AssertionError("every Exception has a handler")  # pragma: no cover

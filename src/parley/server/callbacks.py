"""Init.ai's remote logic API: where a logic server posts an invocation's result.

Answers are JSON in Init.ai's shapes, not parley's error shape, because initai-node parses
them: `{"body": "OK", "error": null}` when accepted, `{"body": {"accepted": false, "errors":
[...]}}` for an invalid result, `{"message", "code"}` for anything else.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from parley.errors import ParleyError, Unauthorized
from parley.runtime import Runtime
from parley.runtime.logic import LogicInvocations

if TYPE_CHECKING:
    from parley.runtime.logic_relay import Answer

log = logging.getLogger("parley.logic")

router = APIRouter(prefix="/api/v1/remote/logic/invocations", include_in_schema=True)


def _invocations(request: Request) -> LogicInvocations:
    runtime: Runtime = request.app.state.runtime
    return runtime.callers.logic.invocations


def _answer(request: Request, answer: Answer) -> JSONResponse:
    status, body = answer
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if request.headers.get("connection", "").lower() == "close":
        headers["Connection"] = "close"  # node-fetch 1.x clients need it echoed (§4.2)
    return JSONResponse(body, status_code=status, headers=headers)


def _refused(invocation_id: str, exc: ParleyError) -> Answer:
    log.warning("logic result for %s refused: %s", invocation_id, exc.message)
    return exc.status_code, {"message": exc.message, "code": exc.status_code}


def _invalid(invocation_id: str, message: str) -> Answer:
    log.warning("logic result for %s is invalid: %s", invocation_id, message)
    error = {"message": message, "object_type": "logic_result"}
    return 400, {"body": {"accepted": False, "errors": [error]}}


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a Bearer token is required")
    return token.strip()


async def _relayed(
    request: Request, kind: str, invocation_id: str, body: bytes = b""
) -> JSONResponse:
    """Answers here, or — for an invocation another worker awaits — forwards to it."""
    try:
        token = _bearer(request)
    except ParleyError as exc:
        return _answer(request, _refused(invocation_id, exc))
    runtime: Runtime = request.app.state.runtime
    answer = await answer_here(_invocations(request), kind, invocation_id, token, body)
    relay = runtime.shared.relay
    if answer[0] == 404 and relay is not None:
        answer = await relay.forward(kind, invocation_id, token, body) or answer
    return _answer(request, answer)


async def answer_here(
    invocations: LogicInvocations, kind: str, invocation_id: str, token: str, body: bytes
) -> Answer:
    """This worker's answer to a result POST (`kind` `result`) or a payload GET."""
    try:
        claims = invocations.verify(token, invocation_id)
    except ParleyError as exc:
        return _refused(invocation_id, exc)
    if kind == "payload":
        try:
            pending = invocations.get(invocation_id, claims)
        except ParleyError as exc:
            return _refused(invocation_id, exc)
        return 200, {"body": {"payload": invocations.payload(pending)}, "error": None}
    try:
        envelope = json.loads(body)
    except (ValueError, RecursionError):
        return _invalid(invocation_id, "the body is not valid JSON")
    header = envelope.get("invocation") if isinstance(envelope, dict) else None
    if not isinstance(header, dict):
        return _invalid(invocation_id, "the body has no `invocation` object")
    if header.get("invocation_id") != invocation_id or header.get("app_id") != claims["app_id"]:
        mismatch = Unauthorized("the body names another invocation or application than the token")
        return _refused(invocation_id, mismatch)
    try:
        pending = invocations.get(invocation_id, claims)
    except ParleyError as exc:
        return _refused(invocation_id, exc)
    outcome = invocations.resolve(pending, envelope, body.decode("utf-8", "replace"))
    if outcome.failure is not None:
        return _invalid(invocation_id, outcome.failure)
    return 200, {"body": "OK", "error": None}


@router.post("/{invocation_id}/result", summary="Post a logic invocation's result (Init.ai)")
async def result(invocation_id: str, request: Request) -> JSONResponse:
    # chunked or with Content-Length: the server reassembles both
    return await _relayed(request, "result", invocation_id, await request.body())


@router.get("/{invocation_id}/payload", summary="A waiting invocation's payload (Init.ai)")
async def payload(invocation_id: str, request: Request) -> JSONResponse:
    return await _relayed(request, "payload", invocation_id)

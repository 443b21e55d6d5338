"""Haptik's integration API (seed 001, "Additional APIs"), exactly as the seed writes it.

Partners authenticate with `client-id` and `Authorization: Bearer <token>`. Errors answer
`{"error_message": "<the seed's text>"}`, not parley's usual shape; docs/handoff.md lists the
status of each. A `user_name` is the parley user id; the chat is that user's most recently
changed conversation with the business's bot.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from parley.model import Conversation
from parley.runtime import Runtime
from parley.runtime.handoff import Handoff
from parley.storage.accounts import Business, Credential, hash_token, token_matches

router = APIRouter(prefix="/integration/external/v1.0", tags=["integration"])

_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
# Compared against when the client id is unknown, so that case takes as long as a bad token.
_NO_CREDENTIAL = hash_token("parley: no such client id")


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class _Texts:
    """One endpoint's error texts where the seed's two tables differ."""

    def __init__(self, *, suffix: str, client_missing: str, client_invalid: str) -> None:
        self.suffix, self.client_missing, self.client_invalid = (
            suffix,
            client_missing,
            client_invalid,
        )


_SEND = _Texts(
    suffix=" in the request",
    client_missing="client_id missing in headers",
    client_invalid="invalid client_id in headers",
)
_HISTORY = _Texts(suffix="", client_missing="invalid client_id", client_invalid="invalid client_id")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _authenticate(request: Request, texts: _Texts) -> Credential:
    client_id = request.headers.get("client-id")
    if client_id is None:
        raise Refused(401, texts.client_missing)
    history = texts is _HISTORY
    authorization = request.headers.get("authorization")
    if authorization is None or not authorization.strip():
        raise Refused(401, "invalid token" if history else "token missing in headers")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "invalid token" if history else "invalid authorization in headers")
    if not _CLIENT_ID.match(client_id):
        raise Refused(401, texts.client_invalid)
    credential = await _runtime(request).store.get_credential(client_id)
    # The same answer for an unknown client id and a wrong token: no oracle for either.
    matches = token_matches(token.strip(), credential.token_hash if credential else _NO_CREDENTIAL)
    if credential is None or not matches:
        raise Refused(401, "invalid token" if history else "invalid token provided")
    return credential


def _required(fields: dict[str, Any], name: str, texts: _Texts) -> str:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Refused(400, f"{name} missing{texts.suffix}")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Refused(400, f"invalid {name} provided")
    return str(value).strip()


async def _business(request: Request, credential: Credential, raw: str) -> Business:
    if not raw.isdigit():
        raise Refused(404, "invalid business_id provided")
    business_id = int(raw)
    business = await _runtime(request).store.get_business(business_id)
    allowed = not credential.businesses or business_id in credential.businesses
    if business is None or not allowed:
        raise Refused(404, "invalid business_id provided")
    if not business.active:
        raise Refused(403, f'business "{business_id}" is inactive')
    return business


async def _conversation(request: Request, business: Business, user_name: str) -> Conversation:
    store = _runtime(request).store
    if await store.get_user(user_name) is None:
        raise Refused(404, "invalid user_name")
    conv = await store.latest_conversation(business.bot, user_name)
    if conv is None:
        raise Refused(404, "user has not sent a message")
    return conv


async def _refusing(request: Request, texts: _Texts, work: Any) -> JSONResponse:
    try:
        credential = await _authenticate(request, texts)
        answer: dict[str, Any] = await work(request, credential)
    except Refused as refused:
        return JSONResponse({"error_message": refused.message}, status_code=refused.status)
    return JSONResponse(answer)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


@router.post("/send_chat_to_agent/", summary="Move a chat to pending for a team")
async def send_chat_to_agent(request: Request) -> JSONResponse:
    async def work(request: Request, credential: Credential) -> dict[str, Any]:
        body = await _json_body(request)
        user_name = _required(body, "user_name", _SEND)
        raw_business = _required(body, "business_id", _SEND)
        team_name = _required(body, "team_name", _SEND)
        business = await _business(request, credential, raw_business)
        team = await _runtime(request).store.get_team(business.id or 0, team_name)
        if team is None:
            raise Refused(404, "invalid team_name provided")
        if not team.active:
            raise Refused(403, f'team "{team_name}" is inactive')
        conv = await _conversation(request, business, user_name)
        await Handoff(_runtime(request)).request(conv.bot, conv.id, team.name)
        return {"success": True}

    return await _refusing(request, _SEND, work)


@router.get("/get_chat_history/", summary="A conversation's chat history")
@router.post(  # the seed's sample request is a POST with the same query parameters
    "/get_chat_history/", summary="The same, as POST", operation_id="get_chat_history_post"
)
async def get_chat_history(request: Request) -> JSONResponse:
    async def work(request: Request, credential: Credential) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if request.method == "POST":
            fields.update(await _json_body(request))
        fields.update(request.query_params)
        user_name = _required(fields, "user_name", _HISTORY)
        raw_business = _required(fields, "business_id", _HISTORY)
        raw_no = _required(fields, "conversation_no", _HISTORY)
        if not raw_no.isdigit() or int(raw_no) < 1:
            raise Refused(400, "invalid conversation_no")
        limit = str(fields.get("limit") or "").strip()
        if limit and not limit.isdigit():
            raise Refused(400, "invalid limit")
        # The seed spells it `respose_type`; both spellings work.
        kind = str(fields.get("response_type") or fields.get("respose_type") or "json").lower()
        if kind not in ("json", "text"):
            raise Refused(400, "invalid response_type")
        business = await _business(request, credential, raw_business)
        conv = await _conversation(request, business, user_name)
        store = _runtime(request).store
        entries = await store.history(conv.bot, conv.id, int(raw_no), int(limit) if limit else None)
        if kind == "text":
            return {"chat_text": "".join(f"{e.sender}: {e.message.as_text()}\n" for e in entries)}
        chat = [
            {"text": e.message.as_text(), "sender": e.sender, "message_id": e.id} for e in entries
        ]
        return {"chat_json": chat}

    return await _refusing(request, _HISTORY, work)

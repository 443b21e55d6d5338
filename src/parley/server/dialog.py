"""The dialog API: talk to a bot, read a conversation, read the invocation log."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parley.errors import NotFound
from parley.model import Environment
from parley.runtime import Inbound, Runtime, dialog_answer
from parley.runtime.handoff import agent_messages_since_last_turn

router = APIRouter(prefix="/api/v1")
_M = TypeVar("_M", bound=BaseModel)

MAX_ID = 2**63 - 1
"""The largest id or number a query may name (a database's 64-bit integer)."""
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@+\-]+$")]


class MessageIn(BaseModel):
    model_config = ConfigDict(strict=True)
    type: Literal["text", "postback"] = "text"
    content: str = Field(description="The user's text, or a button's payload for `postback`.")


class UserIn(BaseModel):
    model_config = ConfigDict(strict=True)
    id: Id | None = Field(None, description="Defaults to the conversation id.")
    name: str | None = Field(None, max_length=256)
    full_name: str | None = Field(None, max_length=256)
    language: str | None = Field(None, max_length=16)
    device_platform: int | None = Field(None, ge=0, le=2**31 - 1)
    auth_id: str | None = Field(None, max_length=256)
    auth_code: str | None = Field(None, max_length=256)
    profile: dict[str, Any] | None = Field(None, description="Read by `user_profile` entities.")


class DialogRequest(BaseModel):
    model_config = ConfigDict(strict=True)
    conversation_id: Id
    message: MessageIn
    environment: Literal["test", "production"] = "test"
    user: UserIn | None = None
    message_id: Id | None = Field(
        None,
        description="The client's id for this message: a retry with the same id gets the"
        " stored answer and never runs the turn again; the same id with a different message"
        " is 409 `conflict`.",
    )


class MessageOut(BaseModel):
    type: str
    content: Any
    meta: dict[str, Any] | None = None


class DialogResponse(BaseModel):
    turn_id: str
    messages: list[MessageOut]
    conversation: dict[str, Any]
    nlp: dict[str, Any]
    agent_messages: list[dict[str, Any]] = Field(
        description="Agents' replies stored since the user's previous message."
    )
    release: int | None = Field(
        None, description="Production turns of a deployed bot: the release that answered."
    )


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


_DIALOG_SCHEMA = DialogRequest.model_json_schema(ref_template="#/components/schemas/{model}")
DIALOG_SCHEMAS: dict[str, Any] = {
    **_DIALOG_SCHEMA.pop("$defs", {}),
    "DialogRequest": _DIALOG_SCHEMA,
}
"""Request models the dialog endpoint documents by hand; `create_app` adds them to OpenAPI."""


DIALOG_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DialogRequest"}}},
    }
}
"""`openapi_extra` of an endpoint whose body is a `DialogRequest`."""


def inbound_of(bot: str, body: DialogRequest) -> Inbound:
    """The turn a dialog request asks for."""
    return Inbound(
        bot=bot,
        conversation_id=body.conversation_id,
        text=body.message.content,
        structured=body.message.type == "postback",
        environment=Environment(body.environment),
        user=body.user.model_dump(exclude_none=True) if body.user else {},
    )


async def read_json(request: Request, model: type[_M]) -> _M:
    """The body validated by pydantic's JSON parser in one pass (the dialog endpoint is the
    hot path: this skips FastAPI's generic body handling); errors are 422 like FastAPI's."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


@router.post(
    "/bots/{bot}/dialog",
    summary="Send a user message, get the bot's answer",
    responses={200: {"model": DialogResponse}},
    openapi_extra=DIALOG_BODY,
)
async def dialog(bot: str, request: Request) -> JSONResponse:
    body = await read_json(request, DialogRequest)
    inbound = inbound_of(bot, body)
    runtime = _runtime(request)
    if body.message_id is not None:
        reply = await runtime.handle_once(inbound, body.message_id)
        return JSONResponse(reply.answer)
    output = await runtime.handle(inbound)
    missed = []
    if output.agent_touched:  # the history read is only worth it after an agent's involvement
        missed = await agent_messages_since_last_turn(
            runtime, bot, body.conversation_id, output.turn_id
        )
    return JSONResponse(dialog_answer(output.turn_id, output.result, missed, output.release))


@router.get("/bots", summary="The bots this server runs")
async def bots(request: Request) -> JSONResponse:
    out = []
    for live in _runtime(request).bots.values():
        spec = live.bot.spec
        out.append({"name": spec.name, "language": spec.language, "nodes": list(spec.nodes)})
    return JSONResponse({"bots": out})


@router.get(
    "/bots/{bot}/conversations/{conversation_id}", summary="A conversation's state and history"
)
async def conversation(
    bot: str,
    conversation_id: str,
    request: Request,
    conversation_no: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> JSONResponse:
    runtime = _runtime(request)
    runtime.live(bot)
    conv = await runtime.store.get_conversation(bot, conversation_id)
    if conv is None:
        raise NotFound(f"bot {bot!r} has no conversation {conversation_id!r}")
    history = await runtime.store.history(bot, conversation_id, conversation_no, limit)
    return JSONResponse(
        {
            "conversation": conv.to_json(),
            "history": [
                {
                    "id": h.id,
                    "conversation_no": h.conversation_no,
                    "sender": h.sender,
                    "message": h.message.to_json(),
                    "created_at": h.created_at,
                }
                for h in history
            ],
        }
    )


@router.get("/bots/{bot}/responses/{key}", summary="A text from the bot's responses catalog")
async def response_text(
    bot: str,
    key: str,
    request: Request,
    language: Annotated[str | None, Query(max_length=16)] = None,
) -> JSONResponse:
    spec = _runtime(request).live(bot).bot.spec
    text = spec.response_text(key, language or spec.language)
    if text is None:
        raise NotFound(f"bot {bot!r} has no response {key!r}")
    return JSONResponse({"key": key, "language": language or spec.language, "text": text})


@router.get("/invocations", summary="The invocation log, oldest first")
async def invocations(
    request: Request,
    bot: str | None = None,
    conversation_id: str | None = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    rows = await _runtime(request).store.invocations(
        bot=bot, conversation_id=conversation_id, after_id=after_id, limit=limit
    )
    return JSONResponse({"invocations": [r.to_json() for r in rows]})

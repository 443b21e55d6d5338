"""The agent API: `Authorization: Bearer <agent token>`; the team's queue, claim, history,
reply, close, and the team's live events. The agent console uses exactly this API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from parley.errors import Unauthorized
from parley.model import Conversation
from parley.runtime import Runtime
from parley.runtime.events import Event, bot_topic, entry_json
from parley.runtime.handoff import Desk, Handoff
from parley.server.streams import sse
from parley.storage.accounts import hash_token, token_matches

router = APIRouter(prefix="/api/v1/agent", tags=["agents"])


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def desk(request: Request, authorization: Annotated[str | None, Header()] = None) -> Desk:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the agent token as 'Authorization: Bearer <token>'")
    store = _runtime(request).store
    agent = await store.agent_by_token_hash(hash_token(token.strip()))
    if agent is None or not token_matches(token.strip(), agent.token_hash) or not agent.active:
        raise Unauthorized("unknown or inactive agent token")
    business = await store.get_business(agent.business_id)
    team = await store.get_team(agent.business_id, agent.team)
    if business is None or not business.active or team is None or not team.active:
        raise Unauthorized("the agent's business or team is inactive")
    return Desk(agent, business.bot)


AgentDesk = Annotated[Desk, Depends(desk)]


class ReplyIn(BaseModel):
    model_config = ConfigDict(strict=True)
    text: str = Field(min_length=1, max_length=4096)


class CloseIn(BaseModel):
    model_config = ConfigDict(strict=True)
    complete: bool = Field(False, description="End the conversation instead of giving it back.")


def _chat(conv: Conversation, agent: str | None) -> dict[str, Any]:
    return {
        "conversation_id": conv.id,
        "bot": conv.bot,
        "user_id": conv.user_id,
        "state": conv.state.value,
        "team": conv.team,
        "conversation_no": conv.conversation_no,
        "agent": agent,
        "updated_at": conv.updated_at,
    }


@router.get("/me", summary="Who the token belongs to")
async def me(desk: AgentDesk) -> JSONResponse:
    agent = desk.agent
    return JSONResponse(
        {"name": agent.name, "team": agent.team, "business_id": agent.business_id, "bot": desk.bot}
    )


@router.get("/queue", summary="The team's pending chats and the ones its agents hold")
async def queue(desk: AgentDesk, request: Request) -> JSONResponse:
    waiting = await Handoff(_runtime(request)).queue(desk)
    return JSONResponse({"chats": [_chat(w.conversation, w.agent) for w in waiting]})


@router.post("/chats/{conversation_id}/claim", summary="Take a pending chat (409 if taken)")
async def claim(conversation_id: str, desk: AgentDesk, request: Request) -> JSONResponse:
    conv = await Handoff(_runtime(request)).claim(desk, conversation_id)
    return JSONResponse({"chat": _chat(conv, desk.agent.name)})


@router.get("/chats/{conversation_id}/history", summary="The chat's current conversation")
async def history(conversation_id: str, desk: AgentDesk, request: Request) -> JSONResponse:
    entries = await Handoff(_runtime(request)).history(desk, conversation_id)
    return JSONResponse({"history": [entry_json(e) for e in entries]})


@router.post("/chats/{conversation_id}/messages", summary="Reply to the user", status_code=201)
async def reply(
    conversation_id: str, body: ReplyIn, desk: AgentDesk, request: Request
) -> JSONResponse:
    entry = await Handoff(_runtime(request)).reply(desk, conversation_id, body.text)
    return JSONResponse({"message": entry_json(entry)}, status_code=201)


@router.post("/chats/{conversation_id}/close", summary="Give the chat back to the bot")
async def close(
    conversation_id: str, desk: AgentDesk, request: Request, body: CloseIn | None = None
) -> JSONResponse:
    complete = body.complete if body else False
    conv = await Handoff(_runtime(request)).close(desk, conversation_id, complete=complete)
    return JSONResponse({"chat": _chat(conv, None)})


@router.get("/events", summary="The team's chats, live, as server-sent events")
async def events(desk: AgentDesk, request: Request) -> StreamingResponse:
    team = desk.agent.team

    def ours(event: Event) -> bool:
        return event.team in (team, None)

    return await sse(request, _runtime(request), bot_topic(desk.bot), keep=ours)

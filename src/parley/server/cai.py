"""SAP CAI's own dialog API, `POST /build/v1/dialog`, on parley's runtime.

A client written for CAI sends `{message: {type, content}, conversation_id, language?}` (plus
parley's `bot` when the server runs several, and `environment`) and gets `{messages,
conversation, nlp}` in CAI's shapes: Bot Connector replies, `conversation.memory`, and the
`nlp` object CAI webhooks also receive.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from parley.dialects import cai
from parley.dialects.botconnector import to_reply
from parley.errors import BadRequest
from parley.model import Call, Environment
from parley.runtime import Inbound, Runtime
from parley.server.dialog import Id

router = APIRouter(prefix="/build/v1", tags=["SAP CAI compatibility"])


class CaiMessage(BaseModel):
    model_config = ConfigDict(strict=True)
    type: Literal["text", "postback"] = "text"
    content: str


class CaiDialogRequest(BaseModel):
    model_config = ConfigDict(strict=True)
    message: CaiMessage
    conversation_id: Id
    language: str | None = Field(None, max_length=16)
    bot: str | None = Field(None, description="Which bot, when the server runs several.")
    environment: Literal["test", "production"] = "test"


@router.post("/dialog", summary="Send a message the way SAP CAI's dialog API takes it")
async def dialog(body: CaiDialogRequest, request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    if body.bot is None and len(runtime.bots) != 1:
        raise BadRequest(f"this server runs {len(runtime.bots)} bots: name one in `bot`")
    bot = body.bot or next(iter(runtime.bots))
    user: dict[str, Any] = {"language": body.language} if body.language else {}
    inbound = Inbound(
        bot=bot,
        conversation_id=body.conversation_id,
        text=body.message.content,
        structured=body.message.type == "postback",
        environment=Environment(body.environment),
        user=user,
    )
    result = (await runtime.handle(inbound)).result
    conv = result.conversation
    view = Call("dialog", conv.node or "", None, {}, conv, result.user, result.parse.text,
                parse=result.parse, now=time.time())  # fmt: skip
    return JSONResponse(
        {
            "messages": [to_reply(m) for m in result.messages],
            "conversation": {
                "id": conv.id,
                "language": conv.language,
                "memory": cai.memory(view),
                "skill": conv.node,
                "skill_occurences": 1,
                "state": conv.state.value,
            },
            "nlp": cai.nlp(view),
        }
    )

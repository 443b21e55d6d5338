"""Rasa's REST input channel: a front end written for Rasa (`POST /webhooks/rest/webhook`
with `{"sender", "message"}`, answered with a list of bot messages) talks to a parley bot
unchanged; only the URL gains `/api/v1/bots/{bot}`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from parley.model import Environment, Message
from parley.runtime import Inbound, Runtime
from parley.server.dialog import Id, read_json

router = APIRouter(prefix="/api/v1/bots/{bot}/webhooks/rest")


class RestMessage(BaseModel):
    model_config = ConfigDict(strict=True)
    sender: Id = Field("default", description="The conversation (and user) id, as in Rasa.")
    message: str = Field(description="The user's text, or a button's payload.")
    metadata: dict[str, Any] | None = Field(
        None, description="Accepted for compatibility; kept out of the conversation."
    )


@router.get("/", summary="Rasa REST channel: health")
async def health(bot: str, request: Request) -> JSONResponse:
    _runtime(request).live(bot)
    return JSONResponse({"status": "ok"})


@router.post(
    "/webhook",
    summary="Rasa REST channel: send a message, get the bot's messages",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RestMessage.model_json_schema()}},
        }
    },
)
async def webhook(
    bot: str,
    request: Request,
    environment: Annotated[Literal["test", "production"], Query()] = "test",
) -> JSONResponse:
    body = await read_json(request, RestMessage)
    inbound = Inbound(
        bot=bot,
        conversation_id=body.sender,
        text=body.message,
        environment=Environment(environment),
    )
    output = await _runtime(request).handle(inbound)
    return JSONResponse([rest_message(body.sender, m) for m in output.result.messages])


def rest_message(recipient: str, message: Message) -> dict[str, Any]:
    """One parley message as Rasa's REST output channel sends it."""
    out: dict[str, Any] = {"recipient_id": recipient}
    content = message.content
    if message.type in ("buttons", "quick_replies") and isinstance(content, dict):
        out["text"] = content.get("title") or ""
        out[message.type] = [_button(b) for b in content.get("buttons") or []]
    elif message.type == "card" and isinstance(content, dict):
        out["elements"] = [_element(content)]
    elif message.type in ("carousel", "list") and isinstance(content, list):
        out["elements"] = [_element(c) for c in content if isinstance(c, dict)]
    elif message.type == "image":
        out["image"] = content
    elif message.type in ("file", "video"):
        out["attachment"] = content
    elif message.type == "custom":
        out["custom"] = content
    else:
        out["text"] = message.as_text()
    return out


def _button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        return {"title": str(button), "payload": str(button)}
    title, value = button.get("title") or "", button.get("value")
    if button.get("type") == "web_url":
        return {"title": title, "url": value}
    return {"title": title, "payload": title if value is None else value}


def _element(card: dict[str, Any]) -> dict[str, Any]:
    keys = ("title", "subtitle", "image_url")
    out = {k: card[k] for k in keys if card.get(k)}
    out["buttons"] = [_button(b) for b in card.get("buttons") or []]
    return out


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime

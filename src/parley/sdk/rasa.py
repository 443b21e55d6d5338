"""The Rasa action-server dialect for webhook authors: the call parley POSTs to `/webhook`
(`next_action`, a tracker, a domain), the result it reads (`events`, `responses`), and
`rasa_app` / `rasa_wsgi`, an action server dispatching to your handlers by action name
(docs/dialects/rasa.md)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from wsgiref.types import WSGIApplication

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp

from parley.sdk._asgi import asgi_app
from parley.sdk._wire import Endpoint, Reply, WebhookError, json_reply
from parley.sdk._wsgi import wsgi_app


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class RasaIntent(_Model):
    """An intent of the latest message: `name` and `confidence` (empty when none)."""

    name: str = ""
    confidence: float = 0.0


class RasaEntity(_Model):
    """An entity found in the latest message (`start`/`end` when known)."""

    entity: str = ""
    value: Any = None
    start: int | None = None
    end: int | None = None
    extractor: str | None = None


class RasaMessage(_Model):
    """`tracker.latest_message`: the user's `text`, `intent`, `intent_ranking`, `entities`
    and parley's `metadata` (`user`, `user_data`, `language`, `conversation_no`)."""

    text: str | None = ""
    intent: RasaIntent = Field(default_factory=RasaIntent)
    intent_ranking: list[RasaIntent] = Field(default_factory=list)
    entities: list[RasaEntity] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


class RasaTracker(_Model):
    """The conversation as Rasa's tracker shows it: `slots` are the conversation data and
    the node's collected entity values."""

    sender_id: str = ""
    slots: dict[str, Any] = Field(default_factory=dict)
    latest_message: RasaMessage = Field(default_factory=RasaMessage)
    latest_event_time: float | None = None
    followup_action: str | None = None
    paused: bool = False
    events: list[dict[str, Any]] = Field(default_factory=list)
    latest_input_channel: str | None = None
    active_loop: dict[str, Any] = Field(default_factory=dict)
    latest_action: dict[str, Any] = Field(default_factory=dict)
    latest_action_name: str | None = None


class RasaActionCall(_Model):
    """What parley POSTs to an action server's `/webhook`: the action to run
    (`next_action`), the `tracker`, a minimal `domain` and the Rasa `version` imitated."""

    next_action: str
    sender_id: str = ""
    tracker: RasaTracker = Field(default_factory=RasaTracker)
    domain: dict[str, Any] = Field(default_factory=dict)
    version: str = ""

    def slot(self, name: str) -> Any:
        """The slot's value (`tracker.get_slot`), None when unset."""
        return self.tracker.slots.get(name)

    def entity_values(self, name: str) -> list[Any]:
        """The values of entity `name` in the latest message
        (`tracker.get_latest_entity_values`)."""
        return [e.value for e in self.tracker.latest_message.entities if e.entity == name]

    @property
    def text(self) -> str:
        """The user's latest message."""
        return self.tracker.latest_message.text or ""

    @property
    def intent(self) -> str | None:
        """The latest message's intent, or None."""
        return self.tracker.latest_message.intent.name or None


class RasaActionResult(BaseModel):
    """An action's result: `events` (`slot_set`, `reset_slots`, any `event`) and
    `responses` (what `dispatcher.utter_message` sends). Builder methods append and
    return the result, so they chain: `RasaActionResult().text("Hi").slot_set("x", 1)`."""

    model_config = ConfigDict(extra="forbid")

    events: list[dict[str, Any]] = Field(default_factory=list)
    responses: list[dict[str, Any]] = Field(default_factory=list)

    def utter(
        self,
        text: str | None = None,
        *,
        buttons: list[dict[str, Any]] | None = None,
        elements: list[dict[str, Any]] | None = None,
        custom: Mapping[str, Any] | None = None,
        response: str | None = None,
        image: str | None = None,
        attachment: Any = None,
        **extra: Any,
    ) -> RasaActionResult:
        """One `dispatcher.utter_message(...)` response, in rasa-sdk's exact shape."""
        self.responses.append(
            {
                "text": text,
                "buttons": buttons or [],
                "elements": elements or [],
                "custom": dict(custom or {}),
                "template": response,
                "response": response,
                "image": image,
                "attachment": attachment,
                **extra,
            }
        )
        return self

    def text(self, text: str) -> RasaActionResult:
        """A text message."""
        return self.utter(text)

    def buttons(self, text: str, *buttons: str | Mapping[str, Any]) -> RasaActionResult:
        """`text` with buttons: a string posts itself back; a mapping is a Rasa button
        (`{"title", "payload"}` or `{"title", "url"}`)."""
        return self.utter(text, buttons=[_button(b) for b in buttons])

    def image(self, url: str, text: str | None = None) -> RasaActionResult:
        """An image by URL (after `text`, if given)."""
        return self.utter(text, image=url)

    def response(self, name: str) -> RasaActionResult:
        """A named response (`utter_x`) from the bot's `responses:` catalog."""
        return self.utter(response=name)

    def custom(self, payload: Mapping[str, Any]) -> RasaActionResult:
        """A custom payload (`json_message=`), passed to the channel."""
        return self.utter(custom=payload)

    def slot_set(self, name: str, value: Any) -> RasaActionResult:
        """`SlotSet(name, value)`: conversation data `name = value` (None removes it)."""
        return self.event({"event": "slot", "timestamp": None, "name": name, "value": value})

    def reset_slots(self) -> RasaActionResult:
        """`AllSlotsReset()`: clears the conversation data."""
        return self.event({"event": "reset_slots", "timestamp": None})

    def event(self, event: Mapping[str, Any]) -> RasaActionResult:
        """Any other Rasa event, as a JSON object with an `event` name."""
        self.events.append(dict(event))
        return self

    def to_json(self) -> dict[str, Any]:
        """The JSON object to answer with."""
        return self.model_dump()


def _button(button: str | Mapping[str, Any]) -> dict[str, Any]:
    return {"title": button, "payload": button} if isinstance(button, str) else dict(button)


RasaHandler = Callable[[RasaActionCall], RasaActionResult | None]
"""One action: the call in, the result out (None: no events, no responses). Raise
`WebhookError(400, ...)` to reject it, as `ActionExecutionRejection` does."""

AsyncRasaHandler = Callable[
    [RasaActionCall], RasaActionResult | Awaitable[RasaActionResult | None] | None
]
"""One action for `rasa_app`: sync (run in a thread) or `async def`."""


class _ActionError(WebhookError):
    def __init__(self, status_code: int, message: str, action: str) -> None:
        super().__init__(status_code, message)
        self.action = action


def rasa_app(actions: Mapping[str, AsyncRasaHandler]) -> ASGIApp:
    """An ASGI action server for `actions` (`{action name: handler}`), answering as
    rasa-sdk does: `POST /webhook` runs `next_action`'s handler; an unknown action gets 404
    and a `WebhookError` its status, both as `{"error", "action_name"}`; `GET /health` is
    `{"status": "ok"}`, `GET /actions` lists the actions; other paths 404."""
    table = dict(actions)

    async def dispatch(call: RasaActionCall) -> RasaActionResult | None:
        handler = _lookup(table, call.next_action)
        try:
            if inspect.iscoroutinefunction(handler):
                result: Any = await handler(call)
            else:
                result = await anyio.to_thread.run_sync(handler, call)
            if inspect.isawaitable(result):
                result = await result
        except _ActionError:
            raise
        except WebhookError as exc:
            raise _ActionError(exc.status_code, exc.message, call.next_action) from exc
        return result  # type: ignore[no-any-return]  # checked by _render

    return asgi_app(_endpoint(table), dispatch)


def rasa_wsgi(actions: Mapping[str, RasaHandler]) -> WSGIApplication:
    """`rasa_app` as a WSGI app (standard library only)."""
    table = dict(actions)

    def dispatch(call: RasaActionCall) -> RasaActionResult | None:
        handler: RasaHandler = _lookup(table, call.next_action)
        try:
            return handler(call)
        except WebhookError as exc:
            raise _ActionError(exc.status_code, exc.message, call.next_action) from exc

    return wsgi_app(_endpoint(table), dispatch)


def _lookup(table: Mapping[str, Any], name: str) -> Any:
    handler = table.get(name)
    if handler is None:
        raise _ActionError(404, f"No registered action found for name '{name}'.", name)
    return handler


def _endpoint(table: Mapping[str, Any]) -> Endpoint[RasaActionCall, RasaActionResult | None]:
    def route(method: str, path: str) -> Reply | None:
        path = path.rstrip("/") or "/"
        if path == "/webhook":
            return None if method == "POST" else Reply.text(405, "POST only")
        if path == "/health" and method == "GET":
            return json_reply(200, {"status": "ok"})
        if path == "/actions" and method == "GET":
            return json_reply(200, [{"name": name} for name in table])
        return Reply.text(404, f"Requested URL {path} not found")

    return Endpoint(RasaActionCall.model_validate, _render, route=route, refusal=_refusal)


def _refusal(error: WebhookError) -> Reply:
    action = error.action if isinstance(error, _ActionError) else None
    return json_reply(error.status_code, {"error": error.message, "action_name": action})


def _render(answer: RasaActionResult | None) -> dict[str, Any]:
    if answer is None:
        return {"events": [], "responses": []}
    if not isinstance(answer, RasaActionResult):
        raise TypeError(f"a Rasa action must return a RasaActionResult, not {type(answer)}")
    return answer.to_json()

"""The Dialogflow ES (v2) fulfillment dialect for webhook authors: the `WebhookRequest`
parley POSTs, the `WebhookResponse` it reads, and `dialogflow_app` / `dialogflow_wsgi`
(docs/dialects/dialogflow.md). Python names are snake_case; the wire is camelCase."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any
from wsgiref.types import WSGIApplication

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.types import ASGIApp

from parley.sdk._asgi import asgi_app
from parley.sdk._wire import Endpoint
from parley.sdk._wsgi import wsgi_app

DialogflowMessage = dict[str, Any]
"""One `Intent.Message` (see the `df_*` builders), in wire (camelCase) form."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)


class DialogflowContext(_Model):
    """A context: `name` is `<session>/contexts/<id>`; `lifespan_count` counts user turns
    (0 or left out deletes it); `parameters` are merged into conversation data."""

    name: str
    lifespan_count: int = 0
    parameters: dict[str, Any] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        """The context's id: the part of `name` after `/contexts/`."""
        return self.name.rsplit("/contexts/", 1)[-1]


class DialogflowIntent(_Model):
    """The matched intent: parley's node (`display_name`) and a derived resource `name`."""

    name: str = ""
    display_name: str = ""


class DialogflowQueryResult(_Model):
    """`queryResult`: the user's `query_text`, the node's `action`, its collected
    `parameters`, the live `output_contexts` and the `intent`."""

    query_text: str = ""
    action: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    all_required_params_present: bool = True
    fulfillment_text: str = ""
    fulfillment_messages: list[DialogflowMessage] = Field(default_factory=list)
    output_contexts: list[DialogflowContext] = Field(default_factory=list)
    intent: DialogflowIntent = Field(default_factory=DialogflowIntent)
    intent_detection_confidence: float = 1.0
    language_code: str = ""


class DialogflowRequest(_Model):
    """What parley POSTs to a Dialogflow fulfillment webhook (a v2 `WebhookRequest`)."""

    response_id: str = ""
    session: str = ""
    query_result: DialogflowQueryResult = Field(default_factory=DialogflowQueryResult)
    original_detect_intent_request: dict[str, Any] = Field(default_factory=dict)

    def parameter(self, name: str) -> Any:
        """`queryResult.parameters[name]`, None when absent."""
        return self.query_result.parameters.get(name)

    def context(self, context_id: str) -> DialogflowContext | None:
        """The live context with this id (`parley-data` holds the conversation data)."""
        found = (c for c in self.query_result.output_contexts if c.id == context_id)
        return next(found, None)

    def output_context(
        self, context_id: str, lifespan: int = 5, parameters: Mapping[str, Any] | None = None
    ) -> DialogflowContext:
        """A context named for this request's session, to answer in `output_contexts`."""
        return DialogflowContext(
            name=f"{self.session}/contexts/{context_id}",
            lifespan_count=lifespan,
            parameters=dict(parameters or {}),
        )

    @property
    def intent(self) -> str:
        """The intent's display name: the node parley is running."""
        return self.query_result.intent.display_name


class DialogflowResponse(_Model):
    """The answer (a v2 `WebhookResponse`): `fulfillment_messages`, else
    `fulfillment_text`, become messages; `output_contexts` set or delete contexts;
    `payload` becomes a custom message."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    fulfillment_text: str | None = None
    fulfillment_messages: list[DialogflowMessage] | None = None
    output_contexts: list[DialogflowContext] | None = None
    payload: dict[str, Any] | None = None

    @classmethod
    def reply(
        cls,
        *messages: str | DialogflowMessage,
        contexts: Iterable[DialogflowContext] | None = None,
    ) -> DialogflowResponse:
        """An answer saying `messages` (a string is a text message) and setting
        `contexts`. One plain text goes out as `fulfillment_text`."""
        listed = [df_text(m) if isinstance(m, str) else dict(m) for m in messages]
        text = messages[0] if len(messages) == 1 and isinstance(messages[0], str) else None
        return cls(
            fulfillment_text=text,
            fulfillment_messages=None if text is not None or not listed else listed,
            output_contexts=None if contexts is None else list(contexts),
        )

    def to_json(self) -> dict[str, Any]:
        """The camelCase JSON object to answer with (unset fields left out)."""
        return self.model_dump(by_alias=True, exclude_none=True)


def df_text(*texts: str) -> DialogflowMessage:
    """A `text` message (each string is one message)."""
    return {"text": {"text": list(texts)}}


def df_quick_replies(title: str, *replies: str) -> DialogflowMessage:
    """A `quickReplies` message."""
    return {"quickReplies": {"title": title, "quickReplies": list(replies)}}


def df_card(
    title: str,
    subtitle: str = "",
    *,
    image_uri: str = "",
    buttons: Iterable[tuple[str, str] | str] = (),
) -> DialogflowMessage:
    """A `card`; a button is `(text, postback)` (a URL postback opens it) or a text that
    posts itself back."""
    pairs = [(b, b) if isinstance(b, str) else b for b in buttons]
    card: dict[str, Any] = {"title": title, "subtitle": subtitle}
    if image_uri:
        card["imageUri"] = image_uri
    card["buttons"] = [{"text": text, "postback": postback} for text, postback in pairs]
    return {"card": card}


def df_image(image_uri: str, accessibility_text: str = "") -> DialogflowMessage:
    """An `image` message."""
    image = {"imageUri": image_uri}
    if accessibility_text:
        image["accessibilityText"] = accessibility_text
    return {"image": image}


def df_payload(payload: Mapping[str, Any]) -> DialogflowMessage:
    """A custom `payload` message, passed to the channel."""
    return {"payload": dict(payload)}


DialogflowHandler = Callable[[DialogflowRequest], DialogflowResponse]
"""A Dialogflow fulfillment webhook: the request in, the answer out."""

AsyncDialogflowHandler = Callable[
    [DialogflowRequest], DialogflowResponse | Awaitable[DialogflowResponse]
]
"""A Dialogflow webhook for `dialogflow_app`: sync (run in a thread) or `async def`."""


def dialogflow_app(
    handler: AsyncDialogflowHandler, *, auth: tuple[str, str] | None = None
) -> ASGIApp:
    """An ASGI app serving `handler` as a Dialogflow fulfillment webhook on every path. With
    `auth=(user, password)` a request without that `Authorization: Basic` gets 401; a body
    that is not JSON or not a `WebhookRequest` gets 400; `GET` answers 200 (a health check)."""
    return asgi_app(_endpoint(auth), handler)


def dialogflow_wsgi(
    handler: DialogflowHandler, *, auth: tuple[str, str] | None = None
) -> WSGIApplication:
    """`dialogflow_app` as a WSGI app (standard library only)."""
    return wsgi_app(_endpoint(auth), handler)


def _endpoint(
    auth: tuple[str, str] | None,
) -> Endpoint[DialogflowRequest, DialogflowResponse]:
    return Endpoint(DialogflowRequest.model_validate, _render, basic_auth=auth)


def _render(answer: DialogflowResponse) -> dict[str, Any]:
    if not isinstance(answer, DialogflowResponse):
        raise TypeError(f"a Dialogflow handler must return a DialogflowResponse, not {answer!r}")
    return answer.to_json()

"""The Haptik dialect for webhook authors: the request parley POSTs, the answer it expects,
and `haptik_app` / `haptik_wsgi` to serve a handler (docs/webhooks.md has the wire format)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from wsgiref.types import WSGIApplication

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.types import ASGIApp

from parley.sdk._asgi import asgi_app
from parley.sdk._wire import Endpoint, Signing, WebhookError
from parley.sdk._wsgi import wsgi_app

Element = Mapping[str, Any]
"""An HSL element (see the `hsl_*` builders) or any JSON object Haptik understands."""


class _Model(BaseModel):
    # Keep keys parley or Haptik add later instead of refusing the request.
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class HaptikUser(_Model):
    """The user in a Haptik request (`user`)."""

    user_id: str = ""
    user_name: str = ""
    full_name: str = ""
    device_platform: int = 0
    language_code: str = ""
    auth_id: str = ""
    auth_code: str = ""


class HaptikEntity(_Model):
    """One value of an entity: `entity_value` (normalised; a string, number or object),
    the `original_text` it came from, and its `detection` (`message`, `user_profile`,
    `default` or `structured`)."""

    entity_value: Any = None
    original_text: str = ""
    detection: str = "message"


class HaptikRequest(_Model):
    """What parley POSTs to a Haptik webhook when a node's required entities are collected."""

    node: str
    event: str = "API_INTEGRATION"
    user: HaptikUser = Field(default_factory=HaptikUser)
    conversation_no: int = 1
    conversation_data: dict[str, Any] = Field(default_factory=dict)
    permanent_user_data: dict[str, Any] = Field(default_factory=dict)
    entities: dict[str, list[HaptikEntity]] = Field(default_factory=dict)

    def entity(self, name: str) -> str | None:
        """The first value of entity `name` as a string (numbers and objects as JSON), or
        None when the request does not carry it."""
        values = self.entities.get(name)
        if not values or values[0].entity_value is None:
            return None
        value = values[0].entity_value
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class HaptikResponse(BaseModel):
    """The answer to a Haptik request. `status` picks the node's `success:` or `failure:`
    says; each `response` string is a message (an HSL element is sent as its JSON text);
    `conversation_data` / `permanent_user_data`, when not None, replace the stored ones."""

    model_config = ConfigDict(extra="forbid")

    status: bool
    response: list[str] = Field(default_factory=list)
    conversation_data: dict[str, Any] | None = None
    permanent_user_data: dict[str, Any] | None = None

    @field_validator("response", mode="before")
    @classmethod
    def _elements_as_text(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [_as_text(item) for item in value]
        return value

    @classmethod
    def reply(
        cls,
        *messages: str | Element,
        conversation_data: Mapping[str, Any] | None = None,
        permanent_user_data: Mapping[str, Any] | None = None,
    ) -> HaptikResponse:
        """A success (`status: true`) saying `messages`: text or HSL elements."""
        return cls._build(True, messages, conversation_data, permanent_user_data)

    @classmethod
    def fail(
        cls,
        *messages: str | Element,
        conversation_data: Mapping[str, Any] | None = None,
        permanent_user_data: Mapping[str, Any] | None = None,
    ) -> HaptikResponse:
        """A handled failure (`status: false`): the node's `failure:` says follow `messages`.
        To make parley treat the call as broken (bot break) raise `WebhookError` instead."""
        return cls._build(False, messages, conversation_data, permanent_user_data)

    @classmethod
    def _build(
        cls,
        status: bool,
        messages: tuple[str | Element, ...],
        conversation_data: Mapping[str, Any] | None,
        permanent_user_data: Mapping[str, Any] | None,
    ) -> HaptikResponse:
        return cls(
            status=status,
            response=[_as_text(m) for m in messages],
            conversation_data=None if conversation_data is None else dict(conversation_data),
            permanent_user_data=None if permanent_user_data is None else dict(permanent_user_data),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object to answer with; data left as None is left out (kept as stored)."""
        return self.model_dump(exclude_none=True)


HaptikHandler = Callable[[HaptikRequest], HaptikResponse]
"""A Haptik webhook: the request in, the answer out; raise `WebhookError` to refuse."""

AsyncHaptikHandler = Callable[[HaptikRequest], HaptikResponse | Awaitable[HaptikResponse]]
"""A Haptik webhook for `haptik_app`: sync (run in a thread) or `async def`."""


def haptik_app(
    handler: AsyncHaptikHandler,
    *,
    secret: str | Sequence[str] | None = None,
    signing: Signing = "hub-sha1",
) -> ASGIApp:
    """An ASGI app serving `handler` as a Haptik webhook on every path. With a `secret`, a
    request without the right `X-Hub-Signature` is refused with 401 (with
    `signing="standard"`: without valid, recent Standard Webhooks headers); a list of
    secrets accepts any of them (a rotation). A request that is not JSON, is empty or is not
    a Haptik request gets 400; `GET` answers 200 (a health check)."""
    return asgi_app(_endpoint(secret, signing), handler)


def haptik_wsgi(
    handler: HaptikHandler,
    *,
    secret: str | Sequence[str] | None = None,
    signing: Signing = "hub-sha1",
) -> WSGIApplication:
    """`haptik_app` as a WSGI app (standard library only; `wsgiref.simple_server` runs it)."""
    return wsgi_app(_endpoint(secret, signing), handler)


def _endpoint(
    secret: str | Sequence[str] | None, signing: Signing
) -> Endpoint[HaptikRequest, HaptikResponse]:
    return Endpoint(HaptikRequest.model_validate, _render, secret, signing=signing)


def _render(answer: HaptikResponse) -> dict[str, Any]:
    if not isinstance(answer, HaptikResponse):
        raise TypeError(f"a Haptik handler must return a HaptikResponse, not {type(answer)}")
    return answer.to_json()


def _as_text(message: Any) -> Any:
    if isinstance(message, Mapping):
        return json.dumps(dict(message), ensure_ascii=False)
    return message


CodeMain = Callable[[dict[str, Any], Any], Any]
"""A code node's `main(event, context)` (docs/code.md)."""


def haptik_main_app(
    main: CodeMain, *, secret: str | Sequence[str] | None = None, signing: Signing = "hub-sha1"
) -> ASGIApp:
    """An ASGI app serving a code node's `main(event, context)` as a Haptik webhook,
    unchanged: `event["body"]` is the request as a JSON string and the `body` of what `main`
    returns is the answer; a `statusCode` other than 200 is answered as such."""
    endpoint: Endpoint[Any, Any] = Endpoint(
        lambda document: document, _main_answer, secret, signing=signing
    )

    def handler(document: Any) -> Any:
        event = {"body": json.dumps(document, ensure_ascii=False), "httpMethod": "POST"}
        return main(event, None)

    return asgi_app(endpoint, handler)


def _main_answer(value: Any) -> Any:
    if not isinstance(value, Mapping) or not isinstance(value.get("statusCode"), int):
        raise TypeError("main() must return {'statusCode', 'body', 'headers'}")
    if value["statusCode"] != 200:
        raise WebhookError(value["statusCode"], str(value.get("body") or ""))
    body = value.get("body", "")
    return json.loads(body) if isinstance(body, str | bytes) else body

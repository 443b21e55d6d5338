"""The Aimylogic dialect for webhook authors: the bot-level webhook's request (every variable
plus six fixed keys) and `aimylogic_app` / `aimylogic_wsgi`, whose handler answers a dict of
variables to set (docs/dialects/aimylogic.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from wsgiref.types import WSGIApplication

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp

from parley.sdk._asgi import asgi_app
from parley.sdk._wire import Endpoint
from parley.sdk._wsgi import wsgi_app

_FIXED = ("action", "queryText", "userId", "channelId", "channelType", "rawRequest")


class AimylogicRequest(BaseModel):
    """What parley POSTs to the bot-level webhook when a node with an `event` is entered.

    `action` is the node's event, `queryText` the user's message, `channelId` the
    conversation id; `variables` holds every other top-level key: the conversation data
    and the collected entities' values. Read a wire body with `from_json`.
    """

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    action: str = ""
    queryText: str = ""
    userId: str = ""
    channelId: str = ""
    channelType: str = ""
    rawRequest: dict[str, Any] = Field(default_factory=dict)
    variables: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> AimylogicRequest:
        """The request a decoded JSON body holds (ValueError unless it is an object)."""
        if not isinstance(data, dict):
            raise ValueError("an Aimylogic request is a JSON object")
        fixed = {key: data[key] for key in _FIXED if key in data}
        variables = {key: value for key, value in data.items() if key not in _FIXED}
        return cls.model_validate({**fixed, "variables": variables})

    def to_json(self) -> dict[str, Any]:
        """The wire form: the variables, then the fixed keys."""
        return {**self.variables, **self.model_dump(exclude={"variables"})}


AimylogicHandler = Callable[[AimylogicRequest], Mapping[str, Any]]
"""An Aimylogic webhook: the request in, the variables to set out."""

AsyncAimylogicHandler = Callable[
    [AimylogicRequest], Mapping[str, Any] | Awaitable[Mapping[str, Any]]
]
"""An Aimylogic webhook for `aimylogic_app`: sync (run in a thread) or `async def`."""


def aimylogic_app(handler: AsyncAimylogicHandler) -> ASGIApp:
    """An ASGI app serving `handler` as Aimylogic's bot-level webhook on every path: each
    top-level key of the mapping it returns becomes a variable. A request that is not JSON,
    is empty or is not an object gets 400; `GET` answers 200 (a health check)."""
    return asgi_app(_endpoint(), handler)


def aimylogic_wsgi(handler: AimylogicHandler) -> WSGIApplication:
    """`aimylogic_app` as a WSGI app (standard library only)."""
    return wsgi_app(_endpoint(), handler)


def _endpoint() -> Endpoint[AimylogicRequest, Mapping[str, Any]]:
    return Endpoint(AimylogicRequest.from_json, _render)


def _render(answer: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(answer, Mapping):
        raise TypeError(f"an Aimylogic handler must return a mapping, not {type(answer)}")
    return dict(answer)

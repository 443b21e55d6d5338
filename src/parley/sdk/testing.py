"""Test a webhook with exactly what parley sends, and see what parley makes of its answer.

`WebhookClient` builds a realistic `Call` from a few arguments, encodes it with parley's own
dialect encoder (signed when the client has a secret), delivers it to an ASGI app or a WSGI
app in-process, or to a URL over real HTTP, and decodes the answer with the same dialect::

    client = WebhookClient(app, dialect="haptik", secret="test")
    result = client.send("check_price", entities={"product_name": "speaker"})
    assert result.outcome.messages[0].content.endswith("Rs.1599")

Any dialect parley speaks works (`parley.dialects.dialect_names()`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from wsgiref.types import WSGIApplication

from starlette.types import ASGIApp

from parley.bot.schema import AuthSpec, BotWebhookSpec, HttpSpec, LogicWebhookSpec, WebhookSpec
from parley.dialects import get_dialect
from parley.dialects.base import WireRequest, WireResponse
from parley.dialects.signatures import SHA1_HEADER, sign_sha1, standard_headers
from parley.model import (
    Call,
    Conversation,
    EntityValue,
    IntentMatch,
    Outcome,
    Parse,
    User,
)
from parley.sdk._transports import call_asgi, call_url, call_wsgi, is_asgi, run_sync

__all__ = ["WebhookClient", "WebhookResult", "sample_call"]

_KINDS = {"aimylogic": "event", "initai": "logic", "http": "http"}
_SPECS: dict[str, type[Any]] = {
    "aimylogic": BotWebhookSpec,
    "initai": LogicWebhookSpec,
    "http": HttpSpec,
}


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """One exchange: the `request` parley would send, the raw answer (`status`, `headers`
    with lower-case names, `body`), and the `outcome` parley decodes from it (a failed
    outcome's `failure` says why parley would call it a bot break)."""

    request: WireRequest
    status: int
    headers: Mapping[str, str]
    body: bytes
    outcome: Outcome

    def json(self) -> Any:
        """The answer's body as JSON."""
        return json.loads(self.body)


def sample_call(
    dialect: str,
    url: str,
    node: str = "check_price",
    *,
    entities: Mapping[str, Any] | None = None,
    text: str = "",
    user: str | User = "user-1",
    data: Mapping[str, Any] | None = None,
    user_data: Mapping[str, Any] | None = None,
    event: str | None = None,
    intent: str | None = None,
    language: str = "en",
    conversation_no: int = 1,
    secret: str | None = None,
    action: str | None = None,
    bot: str = "bot",
    auth: tuple[str, str] | None = None,
    method: str | None = None,
    signing: str = "hub-sha1",
    now: float = 1_700_000_000.0,
) -> Call:
    """The `Call` parley's engine would make at `node` of a conversation with `user`.

    `entities` maps a name to a value (or an `EntityValue`); `data` is the conversation
    data, `user_data` the permanent user data. `event` defaults to the node's name for
    Aimylogic and to `API_INTEGRATION` otherwise; `action` is Rasa's action name;
    `auth=(user, password)` makes the webhook send basic auth; `method` is CAI's;
    `signing="standard"` signs with Standard Webhooks headers, stamped `now`."""
    person = user if isinstance(user, User) else User(user, name=user)
    if user_data is not None:
        person.data = dict(user_data)
    values = {
        name: value if isinstance(value, EntityValue) else EntityValue(value, _raw(value))
        for name, value in (entities or {}).items()
    }
    conversation = Conversation(
        id=f"conversation-{person.id}",
        bot=bot,
        user_id=person.id,
        conversation_no=conversation_no,
        node=node,
        language=language,
        data=dict(data or {}),
        entities=dict(values),
    )
    intents = [IntentMatch(intent, 1.0)] if intent else []
    parse = Parse(text, language, intents, {name: [v] for name, v in values.items()})
    return Call(
        kind=_KINDS.get(dialect, "webhook"),
        node=node,
        spec=_spec(dialect, url, secret, action, auth, method, signing),
        entities=values,
        conversation=conversation,
        user=person,
        text=text,
        event=event or (node if dialect == "aimylogic" else "API_INTEGRATION"),
        parse=parse,
        now=now,
    )


class WebhookClient:
    """Sends what parley sends to `target`: an ASGI app, a WSGI app, or a URL string
    (`path` is appended to an app's base URL; a URL is used as given).

    `send` / `asend` build a `sample_call` and return a `WebhookResult`; `post` / `apost`
    send raw bytes (to test how the webhook refuses bad requests). With `auth=(user,
    password)` both send `Authorization: Basic` (CAI, Rasa and Dialogflow webhooks); with
    `signing="standard"` they sign with Standard Webhooks headers stamped with the clock."""

    def __init__(
        self,
        target: str | ASGIApp | WSGIApplication,
        *,
        dialect: str = "haptik",
        secret: str | None = None,
        path: str = "/",
        timeout: float = 10.0,
        auth: tuple[str, str] | None = None,
        signing: str = "hub-sha1",
    ) -> None:
        self.target = target
        self.dialect = get_dialect(dialect)
        self.secret = secret
        self.signing = signing
        self.auth = auth
        self.timeout = timeout
        self.url = target if isinstance(target, str) else f"http://testserver{path}"

    def send(self, node: str = "check_price", **call: Any) -> WebhookResult:
        """Send the request for `sample_call(dialect, url, node, **call)` and decode the
        answer. Blocking; from async code use `asend`."""
        return run_sync(self.asend(node, **call))

    async def asend(self, node: str = "check_price", **call: Any) -> WebhookResult:
        """`send` for async code."""
        call.setdefault("auth", self.auth)
        call.setdefault("signing", self.signing)
        if self.signing == "standard":
            call.setdefault("now", time.time())
        sample = sample_call(self.dialect.name, self.url, node, secret=self.secret, **call)
        request = self.dialect.encode(sample, self.url)
        response = await self._deliver(request)
        outcome = self.dialect.decode(sample, response)
        return WebhookResult(request, response.status, response.headers, response.body, outcome)

    def post(
        self,
        body: bytes,
        *,
        content_type: str | None = "application/json",
        signed: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> WireResponse:
        """POST raw `body` (signed with the client's secret unless `signed=False`)."""
        return run_sync(self.apost(body, content_type=content_type, signed=signed, headers=headers))

    async def apost(
        self,
        body: bytes,
        *,
        content_type: str | None = "application/json",
        signed: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> WireResponse:
        """`post` for async code."""
        sent = {"Content-Type": content_type} if content_type else {}
        if signed and self.secret and self.signing == "standard":
            msg_id = f"msg_{uuid.uuid4().hex}"
            sent.update(standard_headers([self.secret], msg_id, int(time.time()), body))
        elif signed and self.secret:
            sent[SHA1_HEADER] = sign_sha1(self.secret, body)
        if self.auth is not None:
            token = base64.b64encode(":".join(self.auth).encode()).decode("ascii")
            sent["Authorization"] = f"Basic {token}"
        sent.update(headers or {})
        return await self._deliver(WireRequest("POST", self.url, sent, body))

    async def _deliver(self, request: WireRequest) -> WireResponse:
        if isinstance(self.target, str):
            return await asyncio.to_thread(call_url, request, self.timeout)
        if is_asgi(self.target):
            return await call_asgi(self.target, request)
        return await asyncio.to_thread(call_wsgi, self.target, request)


def _spec(
    dialect: str,
    url: str,
    secret: str | None,
    action: str | None,
    auth: tuple[str, str] | None,
    method: str | None,
    signing: str,
) -> Any:
    spec = _SPECS.get(dialect, WebhookSpec)
    basic = None if auth is None else AuthSpec(type="basic", username=auth[0], password=auth[1])
    fields = {
        "url": url,
        "dialect": dialect,
        "secret": secret,
        "action": action,
        "auth": basic,
        "method": method,
        "signing": None if signing == "hub-sha1" else signing,
    }
    return spec(**{k: v for k, v in fields.items() if k in spec.model_fields and v is not None})


def _raw(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

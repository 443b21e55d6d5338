"""Self-hosted logic (Init.ai): an invocation is registered before its webhook goes out,
resolved by the result callback, and awaited with a deadline.

The webhook's 200 only acknowledges; the result comes later, authenticated by the invocation's
bearer token: an HS256 JWT binding the invocation id, the bot and the conversation, valid for
an hour. The first result counts; later ones, and results after the deadline, are refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import jwt

from parley.bot.schema import BotSpec, LogicWebhookSpec
from parley.config import Settings
from parley.dialects.initai import InitaiDialect, LogicInvocation, invocation_body
from parley.engine.templates import TemplateFailed, Templates, variables
from parley.errors import Conflict, NotFound, Unauthorized
from parley.model import JSON, Call, Invocation, Message, Outcome
from parley.webhooks import WebhookCaller
from parley.webhooks.redact import log_text

if TYPE_CHECKING:
    from parley.runtime.logic_relay import LogicRelay

log = logging.getLogger("parley.logic")

TOKEN_TTL = 3600.0
_FINISHED_KEPT = 10_000
_DIALECT = InitaiDialect()


@dataclass(slots=True)
class _Pending:
    call: Call
    result: asyncio.Future[tuple[Outcome, str]]

    @property
    def spec(self) -> LogicInvocation:
        spec: LogicInvocation = self.call.spec
        return spec


class LogicInvocations:
    """The invocations waiting for a result, one per conversation at most. Mints and checks
    their tokens; the result endpoint resolves them, the logic caller awaits them."""

    def __init__(self, secret: str, base_url: str, *, token_ttl: float = TOKEN_TTL) -> None:
        # A derived key: any PARLEY_SECRET_KEY gives a full-length HS256 key, used only here.
        self._secret = hashlib.sha256(b"parley logic token\0" + secret.encode()).digest()
        self.base_url, self._ttl = base_url.rstrip("/"), token_ttl
        self._pending: dict[str, _Pending] = {}
        self._by_conversation: dict[tuple[str, str], str] = {}
        self._finished: OrderedDict[str, str] = OrderedDict()
        self.relay: LogicRelay | None = None
        """Set when several workers share Redis: each invocation is announced there."""

    @classmethod
    def from_settings(cls, settings: Settings, *, warn: bool = True) -> LogicInvocations:
        """`warn`: say so when the signing key is random (only worth it with logic bots)."""
        secret = settings.secret_key
        if not secret:
            secret = secrets.token_urlsafe(32)
        if not settings.secret_key and warn:
            log.warning(
                "PARLEY_SECRET_KEY is not set: logic callback tokens are signed with a random"
                " key for this process only"
            )
        return cls(secret, settings.callback_base_url)

    @classmethod
    def ephemeral(cls, settings: Settings) -> LogicInvocations:
        """With a random key, quietly: for callers outside a server (`parley chat`, tests)."""
        return cls(secrets.token_urlsafe(32), settings.callback_base_url)

    def register(self, call: Call) -> _Pending:
        """Register `call` under a new invocation id; the returned call carries its token."""
        webhook: LogicWebhookSpec = call.spec
        conv = call.conversation
        key = (conv.bot, conv.id)
        if key in self._by_conversation:  # the runtime serialises turns: a leftover
            self.finish(self._by_conversation[key], "superseded by a newer invocation")
        invocation_id = str(uuid.uuid4())
        now = time.time()
        claims = {
            "iss": "platform",
            "type": "remote",
            "app_id": conv.bot,
            "conversation_id": conv.id,
            "invocation_id": invocation_id,
            "iat": int(now),
            "exp": int(now + self._ttl),
        }
        token = jwt.encode(claims, self._secret, algorithm="HS256")
        spec = LogicInvocation(webhook, invocation_id, token, self.base_url)
        pending = _Pending(replace(call, spec=spec), asyncio.get_running_loop().create_future())
        self._pending[invocation_id] = pending
        self._by_conversation[key] = invocation_id
        return pending

    def verify(self, token: str, invocation_id: str) -> dict[str, Any]:
        """The token's claims when it is ours, unexpired and for `invocation_id`."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer="platform",
                options={"require": ["exp", "iat", "invocation_id", "conversation_id"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("the token is not valid") from None
        if claims["invocation_id"] != invocation_id:
            raise Unauthorized("the token belongs to another invocation")
        return claims

    def get(self, invocation_id: str, claims: dict[str, Any]) -> _Pending:
        """The waiting invocation the verified `claims` name (404, 409 or 401 otherwise)."""
        pending = self._pending.get(invocation_id)
        if pending is None:
            if invocation_id in self._finished:
                reason = self._finished[invocation_id]
                raise Conflict(f"invocation {invocation_id} is already finished ({reason})")
            raise NotFound(f"no invocation {invocation_id} is waiting for a result")
        conv = pending.call.conversation
        if claims.get("conversation_id") != conv.id or claims.get("app_id") != conv.bot:
            raise Unauthorized("the token belongs to another conversation")
        return pending

    def resolve(self, pending: _Pending, envelope: JSON, text: str) -> Outcome:
        """Apply a result POST's body to the waiting turn; a malformed one fails the turn."""
        outcome = _DIALECT.apply_result(pending.call, envelope)
        if not pending.result.done():
            pending.result.set_result((outcome, text))
        self.finish(pending.spec.invocation_id, "its result was accepted")
        return outcome

    def finish(self, invocation_id: str, reason: str) -> None:
        pending = self._pending.pop(invocation_id, None)
        if pending is None:
            return  # finished already: keep the first reason
        conv = pending.call.conversation
        if self._by_conversation.get((conv.bot, conv.id)) == invocation_id:
            del self._by_conversation[(conv.bot, conv.id)]
        if not pending.result.done():
            pending.result.cancel()
        self._finished[invocation_id] = reason
        while len(self._finished) > _FINISHED_KEPT:
            self._finished.popitem(last=False)

    def payload(self, pending: _Pending) -> JSON:
        """What the webhook carried as `data` (the old dev-server bridge fetched it)."""
        return invocation_body(pending.call)["data"]


class LogicCaller:
    """Sends a logic invocation and waits for its result, within the webhook's `timeout`
    counted from sending; returns the outcome and one invocation-log entry."""

    def __init__(self, webhook: WebhookCaller, invocations: LogicInvocations) -> None:
        self.webhook, self.invocations = webhook, invocations
        self._templates = Templates()

    async def __call__(
        self, bot: BotSpec, call: Call, url: str, turn_id: str
    ) -> tuple[Outcome, Invocation]:
        pending = self.invocations.register(call)
        spec, started = pending.spec, time.perf_counter()
        try:
            if self.invocations.relay is not None:
                await self.invocations.relay.announce(spec.invocation_id)
            outcome, invocation = await self.webhook(pending.call, url, turn_id)
            invocation.request_body = invocation.request_body.replace(spec.auth_token, "***")
            if outcome.failure is None:
                outcome = await self._result(pending, invocation, started)
        finally:
            self.invocations.finish(spec.invocation_id, "its turn is over")
        invocation.latency_ms = (time.perf_counter() - started) * 1000
        invocation.error = outcome.failure
        if outcome.failure is not None:
            log.warning("logic invocation %s failed: %s", spec.invocation_id, outcome.failure)
        return self.fill_responses(bot, pending.call, outcome), invocation

    async def _result(self, pending: _Pending, invocation: Invocation, started: float) -> Outcome:
        timeout = pending.spec.timeout
        remaining = max(0.0, timeout - (time.perf_counter() - started))
        try:
            outcome, text = await asyncio.wait_for(pending.result, remaining)
        except TimeoutError:
            return Outcome.failed(f"logic result did not arrive within {timeout:g} s")
        invocation.response_body = log_text(text.encode("utf-8"))
        return outcome

    def fill_responses(self, bot: BotSpec, call: Call, outcome: Outcome) -> Outcome:
        """Catalog responses that carry Init.ai `response_data`: rendered here, with the data
        as variables (`string/name` also as `name`); the engine resolves the others."""
        if outcome.failure is not None or not any(
            m.type == "response_ref" and m.meta.get("response_data") for m in outcome.messages
        ):
            return outcome
        conv = replace(call.conversation, data=outcome.data or call.conversation.data)
        scope = variables(conv, call.user, call.parse)
        messages = []
        for message in outcome.messages:
            data = message.meta.get("response_data")
            text = bot.response_text(str(message.content), outcome.language or conv.language)
            if message.type == "response_ref" and isinstance(data, dict) and text is not None:
                local = {key.rsplit("/", 1)[-1]: value for key, value in data.items()}
                local["response_data"] = data
                try:
                    message = Message.text(self._templates.render(text, {**scope, **local}))
                except TemplateFailed as exc:
                    return Outcome.failed(exc.message)
            messages.append(message)
        outcome.messages = messages
        return outcome

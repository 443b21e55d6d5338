"""The invocation registry and the logic caller, without a network."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import jwt
import pytest

from parley.bot.schema import BotSpec, LogicWebhookSpec
from parley.errors import Conflict, NotFound, Unauthorized
from parley.model import Call, Invocation, Message, Outcome
from parley.runtime.logic import LogicCaller, LogicInvocations
from tests.dialects.sample import sample_call

BOT = BotSpec.model_validate(
    {
        "name": "shop",
        "logic": {"webhook": {"url": "http://logic.test/"}},
        "responses": {"thanks": "Thanks, {{ name }} ({{ payment_mode }})"},
    }
)


def logic_call(timeout: float = 10.0) -> Call:
    spec = LogicWebhookSpec(url="http://logic.test/", timeout=timeout)
    return replace(sample_call(), kind="logic", node="logic", spec=spec)


def envelope(invocation_id: str, **payload: Any) -> dict[str, Any]:
    return {"result": {"payload": {"execution_id": invocation_id, **payload}}}


async def test_tokens_bind_the_invocation_the_bot_and_the_conversation() -> None:
    invocations = LogicInvocations("secret", "http://parley.test/")
    pending = invocations.register(logic_call())
    spec = pending.spec
    assert spec.base_url == "http://parley.test"

    claims = invocations.verify(spec.auth_token, spec.invocation_id)

    assert {k: claims[k] for k in ("iss", "type", "app_id", "conversation_id")} == {
        "iss": "platform", "type": "remote", "app_id": "shop", "conversation_id": "c-42",
    }  # fmt: skip
    assert claims["exp"] - claims["iat"] == 3600
    assert invocations.get(spec.invocation_id, claims) is pending


async def test_an_expired_token_is_refused() -> None:
    invocations = LogicInvocations("secret", "http://parley.test", token_ttl=-1)
    spec = invocations.register(logic_call()).spec
    with pytest.raises(Unauthorized, match="expired"):
        invocations.verify(spec.auth_token, spec.invocation_id)


async def test_a_token_signed_with_another_key_is_refused() -> None:
    invocations = LogicInvocations("secret", "http://parley.test")
    spec = invocations.register(logic_call()).spec
    claims = jwt.decode(spec.auth_token, options={"verify_signature": False})
    forged = jwt.encode(claims, "x" * 32, algorithm="HS256")
    with pytest.raises(Unauthorized, match="not valid"):
        invocations.verify(forged, spec.invocation_id)


async def test_unknown_invocations_are_not_found() -> None:
    invocations = LogicInvocations("secret", "http://parley.test")
    claims = {"app_id": "shop", "conversation_id": "c-42"}
    with pytest.raises(NotFound):
        invocations.get("nope", claims)


async def test_a_new_invocation_supersedes_a_leftover_of_the_same_conversation() -> None:
    invocations = LogicInvocations("secret", "http://parley.test")
    old = invocations.register(logic_call()).spec
    invocations.register(logic_call())
    claims = invocations.verify(old.auth_token, old.invocation_id)
    with pytest.raises(Conflict, match="superseded"):
        invocations.get(old.invocation_id, claims)


class StubWebhook:
    """Acknowledges; with `result` set, the result arrives before the acknowledgement."""

    def __init__(self, invocations: LogicInvocations, result: dict[str, Any] | None) -> None:
        self.invocations, self.result = invocations, result

    async def __call__(self, call: Call, url: str, turn_id: str) -> tuple[Outcome, Invocation]:
        spec = call.spec
        if self.result is not None:
            pending = self.invocations.get(
                spec.invocation_id, {"app_id": "shop", "conversation_id": "c-42"}
            )
            self.invocations.resolve(pending, envelope(spec.invocation_id, **self.result), "{}")
        body = f'{{"auth_token": "{spec.auth_token}"}}'
        invocation = Invocation(turn_id, "shop", "c-42", "logic", "logic", url, time.time())
        invocation.request_body, invocation.status = body, 200
        return Outcome(), invocation


def caller(result: dict[str, Any] | None) -> LogicCaller:
    invocations = LogicInvocations("secret", "http://parley.test")
    logic = LogicCaller(StubWebhook(invocations, result), invocations)  # type: ignore[arg-type]
    return logic


async def test_no_result_within_the_timeout_is_a_failure_in_the_log() -> None:
    started = time.monotonic()
    outcome, invocation = await caller(None)(BOT, logic_call(0.1), "http://logic.test/", "t1")
    assert time.monotonic() - started >= 0.1
    assert outcome.failure == invocation.error == "logic result did not arrive within 0.1 s"
    assert invocation.request_body == '{"auth_token": "***"}'


async def test_a_result_before_the_acknowledgement_counts_and_fills_catalog_responses() -> None:
    ref = {
        "content_type": "prepared-outbound-message",
        "content": {
            "response_name": "app:response:name:thanks",
            "response_data": {"string/name": "Ann"},
        },
    }
    logic = caller({"messages": [{"parts": [ref]}]})

    outcome, invocation = await logic(BOT, logic_call(), "http://logic.test/", "t1")

    assert outcome.failure is None and invocation.error is None
    assert outcome.messages == [Message.text("Thanks, Ann (COD)")]
    assert invocation.response_body == "{}"

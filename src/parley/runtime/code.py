"""Code nodes and logic scripts: the `Call` becomes a sandbox `Job`, its `Result` an `Outcome`.

A code node is a Haptik webhook run in the sandbox: `main(event, context)` gets the Haptik
request as `event["body"]` and returns `{"statusCode", "body", "headers"}`, which the Haptik
dialect decodes like a webhook's answer. A logic script gets the Init.ai invocation `data`
and its client's `done()` result is applied like a result posted to the callback.
"""

from __future__ import annotations

import json
import time
from typing import Any

from parley.bot.schema import BotSpec, CodeSpec
from parley.dialects.base import WireResponse
from parley.dialects.haptik import HaptikDialect
from parley.dialects.initai import InitaiDialect, invocation_body
from parley.model import Call, Invocation, Outcome
from parley.sandbox import Isolation, Job, Limits, Sandbox, SandboxUnavailable
from parley.webhooks.redact import log_text

_HAPTIK, _INITAI = HaptikDialect(), InitaiDialect()

WEAK_IN_PRODUCTION = (
    "code does not run for production conversations at the weakest sandbox isolation"
    " (processes); set PARLEY_SANDBOX_ALLOW_WEAK=1 to allow it"
)


class CodeCaller:
    """Runs a code call in `sandbox`; `allow_weak`: run production code at the weakest level."""

    def __init__(self, sandbox: Sandbox, *, allow_weak: bool = False) -> None:
        self.sandbox, self.allow_weak = sandbox, allow_weak

    async def __call__(self, bot: BotSpec, call: Call, turn_id: str) -> tuple[Outcome, Invocation]:
        spec: CodeSpec = call.spec
        logic = call.kind == "logic"
        payload: Any = invocation_body(call)["data"] if logic else _haptik_body(call)
        invocation = Invocation(
            turn_id=turn_id,
            bot=call.conversation.bot,
            conversation_id=call.conversation.id,
            node=call.node,
            kind=call.kind,
            url=f"code:{spec.filename}",
            created_at=time.time(),
            dialect="initai" if logic else "python",
            environment=call.conversation.environment.value,
            request_body=log_text(_text(payload).encode("utf-8")),
        )
        if not await self._allowed(call):
            invocation.error = WEAK_IN_PRODUCTION
            return Outcome.failed(WEAK_IN_PRODUCTION), invocation
        sandbox = bot.sandbox
        limits = Limits(
            timeout=sandbox.timeout,
            cpu_seconds=sandbox.cpu_seconds,
            memory_mb=sandbox.memory_mb,
            max_output_bytes=sandbox.max_output_bytes,
            allowed_hosts=tuple(sandbox.allowed_hosts),
        )
        job = Job(
            source=spec.source or "",
            filename=spec.filename,
            entry="logic" if logic else "main",
            payload=payload,
            name=call.node,
            request_id=turn_id,
            env=dict(sandbox.env),
            limits=limits,
            owner=f"{call.conversation.bot}:{call.conversation.environment.value}",
        )
        result = await self.sandbox.run(job)
        invocation.latency_ms = result.latency_ms
        shown = json.dumps(result.value, ensure_ascii=False) if result.ok else ""
        if result.printed:
            shown += f"\n--- printed ---\n{result.printed}"
        invocation.response_body = log_text(shown.encode("utf-8")) if shown else None
        if not result.ok:
            reason = f"code failed: {result.error}"
            invocation.error = reason + (f"\n{result.traceback}" if result.traceback else "")
            return Outcome.failed(reason), invocation
        outcome = _logic_outcome(call, result.value) if logic else _node_outcome(call, result.value)
        if outcome.failure is not None:
            invocation.error = outcome.failure
        status = result.value.get("statusCode") if isinstance(result.value, dict) else None
        if isinstance(status, int) and 100 <= status <= 599:  # a metrics label: keep it bounded
            invocation.status = status
        return outcome, invocation

    async def _allowed(self, call: Call) -> bool:
        if self.allow_weak or call.conversation.environment.value != "production":
            return True
        try:
            return await self.sandbox.start() is not Isolation.PROCESSES
        except (SandboxUnavailable, OSError):
            return False  # no sandbox to vouch for: the call is refused, the turn breaks


def _haptik_body(call: Call) -> str:
    return _HAPTIK.encode(call, "").body.decode("utf-8")


def _text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)


def _node_outcome(call: Call, value: Any) -> Outcome:
    """`main`'s return value, decoded as the Haptik webhook answer it stands for."""
    if not isinstance(value, dict) or not isinstance(value.get("statusCode"), int):
        shape = type(value).__name__
        return Outcome.failed(f"main() must return {{'statusCode', 'body', ...}}, not a {shape}")
    body = value.get("body", "")
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    headers = value.get("headers") if isinstance(value.get("headers"), dict) else {}
    response = WireResponse(value["statusCode"], headers or {}, text.encode("utf-8"))
    return _HAPTIK.decode(call, response)


def _logic_outcome(call: Call, value: Any) -> Outcome:
    """The logic script's last `done()` result, applied like a result posted back."""
    if value is None:
        return Outcome.failed("the logic script never called client.done()")
    return _INITAI.apply_result(call, {"result": value})

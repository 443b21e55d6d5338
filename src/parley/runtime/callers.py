"""Runs the `Call`s a turn yields with real callers, picked by `call.kind`."""

from __future__ import annotations

import time
from dataclasses import replace

import aiohttp

from parley.bot.schema import BotSpec, BotWebhookSpec, CodeSpec, LogicWebhookSpec, WebhookSpec
from parley.config import Settings
from parley.errors import ParleyError
from parley.model import Call, Invocation, Outcome
from parley.runtime.code import CodeCaller
from parley.runtime.logic import LogicCaller, LogicInvocations
from parley.sandbox import Sandbox, SandboxPool
from parley.webhooks import WebhookCaller, resolve_url
from parley.webhooks.errors import ErrorReporter
from parley.webhooks.guard import environment_scope


class Callers:
    """One instance per server: every outbound call shares the one pooled HTTP client."""

    def __init__(
        self,
        client: aiohttp.ClientSession,
        logic: LogicInvocations | None = None,
        sandbox: Sandbox | None = None,
        *,
        allow_weak_sandbox: bool = False,
    ) -> None:
        self.client = client
        self.webhook = WebhookCaller(client)
        self.logic = LogicCaller(self.webhook, logic or LogicInvocations.ephemeral(Settings()))
        self.errors = ErrorReporter(client)
        self.sandbox = sandbox or SandboxPool()  # its workers start on the first code call
        self.code = CodeCaller(self.sandbox, allow_weak=allow_weak_sandbox)

    async def perform(self, bot: BotSpec, call: Call, turn_id: str) -> tuple[Outcome, Invocation]:
        with environment_scope(call.conversation.environment.value):  # for the SSRF guard
            return await self._perform(bot, call, turn_id)

    async def _perform(self, bot: BotSpec, call: Call, turn_id: str) -> tuple[Outcome, Invocation]:
        if isinstance(call.spec, CodeSpec):  # a code node or a logic script: the sandbox
            outcome, invocation = await self.code(bot, call, turn_id)
            if call.kind == "logic":
                outcome = self.logic.fill_responses(bot, call, outcome)
            return outcome, invocation
        try:
            url, call = self._target(bot, call)
        except ParleyError as exc:
            return self._refused(call, turn_id, exc.message)
        if call.kind == "logic":  # self-hosted logic (Init.ai): the result comes back later
            return await self.logic(bot, call, url, turn_id)
        outcome, invocation = await self.webhook(call, url, turn_id, bot.settings.resilience)
        if outcome.failure is not None and call.kind == "webhook" and bot.settings.report_errors:
            self.errors.report(call, outcome.failure, bot.environments)
        return outcome, invocation

    async def aclose(self) -> None:
        """Wait for error reports still being sent and stop the sandbox's workers; call
        before closing the client."""
        await self.errors.aclose()
        await self.sandbox.aclose()

    @staticmethod
    def _target(bot: BotSpec, call: Call) -> tuple[str, Call]:
        """Where the call goes, for the conversation's environment, and the call to send."""
        environment = call.conversation.environment.value
        if call.kind == "event":  # the bot-level (Aimylogic) webhook
            spec: BotWebhookSpec = call.spec
            return (spec.test_url if environment == "test" and spec.test_url else spec.url), call
        if call.kind == "logic":
            logic: LogicWebhookSpec = call.spec
            return (logic.test_url if environment == "test" and logic.test_url else logic.url), call
        if call.kind == "http":  # the HTTP request block, its URL already rendered
            return call.spec.url, call
        if call.kind != "webhook":
            raise ParleyError(f"no caller for {call.kind!r} calls")
        webhook: WebhookSpec = call.spec
        if webhook.template is not None:
            call = replace(call, spec=webhook.with_template(bot.templates[webhook.template]))
        return resolve_url(call.spec, bot.environments, environment), call

    @staticmethod
    def _refused(call: Call, turn_id: str, reason: str) -> tuple[Outcome, Invocation]:
        conv = call.conversation
        invocation = Invocation(
            turn_id=turn_id,
            bot=conv.bot,
            conversation_id=conv.id,
            node=call.node,
            kind=call.kind,
            url="",
            created_at=time.time(),
            environment=conv.environment.value,
            error=reason,
        )
        return Outcome.failed(reason), invocation

"""One turn of the dialogue, sans I/O.

`run_turn` is a generator: it yields a `Call` whenever a node needs business logic and is sent
back the `Outcome`; its return value is the `TurnResult`. The runtime drives it with real
callers; tests and `parley chat` may drive it with stubs. It mutates the `Conversation` and
`User` it is given; the caller saves them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterable
from dataclasses import replace
from typing import Any

from parley.bot.schema import (
    CodeSpec,
    HttpSpec,
    LogicWebhookSpec,
    NodeSpec,
    ResponseRef,
    RichSay,
    Say,
    SlotSpec,
)
from parley.engine.flow import Flow
from parley.engine.templates import TemplateFailed, variables
from parley.model import (
    Call,
    Conversation,
    Detection,
    EntityValue,
    Message,
    Outcome,
    Parse,
    State,
    TurnResult,
    User,
)

Turn = Generator[Call, Outcome, TurnResult]
_Steps = Generator[Call, Outcome, None]
_WHOLE_EXPRESSION = re.compile(r"\{\{\s*(.+?)\s*\}\}", re.DOTALL)


def run_turn(
    flow: Flow,
    conversation: Conversation,
    user: User,
    parse: Parse,
    *,
    now: float = 0.0,
    structured: bool = False,
) -> Turn:
    """Answer one user message received at `now` (epoch seconds; the engine reads no clock).
    `structured` marks a button payload rather than typed text."""
    return _Turn(flow, conversation, user, parse, structured).run(now)


class _Turn:
    def __init__(
        self, flow: Flow, conv: Conversation, user: User, parse: Parse, structured: bool
    ) -> None:
        self.flow, self.spec, self.conv, self.user, self.parse = flow, flow.spec, conv, user, parse
        if structured:  # a button's payload: its values were picked, not typed
            parse.entities = {
                name: [replace(v, detection=Detection.STRUCTURED) for v in values]
                for name, values in parse.entities.items()
            }
        self.messages: list[Message] = []
        self.nodes: list[str] = []
        self.handoff = False
        self.bot_break: str | None = None
        self.fresh = conv.version == 0
        self.now = 0.0

    def run(self, now: float) -> Turn:
        self.now = now
        ttl = self.spec.settings.data_ttl
        if ttl and self.conv.updated_at and now - self.conv.updated_at > ttl:
            self.conv.data = {}  # conversation data expires after `data_ttl` idle seconds
        if self.conv.state is State.COMPLETE:
            self._new_conversation()
        if self.conv.state in (State.PENDING, State.AGENT):
            return self._result()  # a human answers now; the runtime stores the message
        if self.spec.logic is not None and self.spec.logic.enabled:
            logic = self.spec.logic
            yield from self._logic(logic.webhook or logic.code)
            return self._result()
        try:
            target = self._route()
            if target is not None:
                yield from self._visit(target)
        except TemplateFailed as exc:
            self._break(exc.message)
        if not self.messages and not self.handoff and self.bot_break is None:
            self._break("no node said anything and the integration returned no message")
        return self._result()

    def _result(self) -> TurnResult:
        return TurnResult(
            messages=self.messages,
            conversation=self.conv,
            user=self.user,
            parse=self.parse,
            handoff=self.handoff,
            bot_break=self.bot_break,
            nodes=self.nodes,
        )

    def _new_conversation(self) -> None:
        conv = self.conv
        conv.conversation_no += 1
        conv.state, conv.node, conv.asking, conv.team = State.BOT, None, None, None
        conv.data, conv.entities = {}, {}
        self.fresh = True

    # -- routing -------------------------------------------------------------------------

    def _route(self) -> str | None:
        conv, intent_node = self.conv, self._intent_node()
        node = self.spec.nodes.get(conv.node or "")
        # a deploy may have dropped the node or the entity since the question was asked
        if conv.asking and node is not None and conv.asking in node.entities:
            if self.parse.entities.get(conv.asking):
                return conv.node
            if intent_node and intent_node != conv.node:
                return intent_node
            self._ask(conv.asking, node.entities[conv.asking])
            return None
        if intent_node:
            return intent_node
        if self.fresh and self.spec.start:
            return self.spec.start
        self._say([self.spec.settings.fallback_message])
        return None

    def _logic(self, webhook: LogicWebhookSpec | CodeSpec | None) -> _Steps:
        """Self-hosted logic (a webhook or a logic script, `call.spec` says which) answers
        every message; saying nothing is its right (a reset)."""
        self.nodes.append("logic")
        call = Call(
            kind="logic",
            node="logic",
            spec=webhook,
            entities={name: values[0] for name, values in self.parse.entities.items()},
            conversation=self.conv,
            user=self.user,
            text=self.parse.text,
            parse=self.parse,
            now=self.now,
        )
        outcome = yield call
        self._apply(outcome)

    def _intent_node(self) -> str | None:
        best = self.parse.intent
        if best is None or best.confidence < self.spec.settings.intent_threshold:
            return None
        return self.flow.by_intent.get(best.name)

    # -- nodes ---------------------------------------------------------------------------

    def _visit(self, name: str) -> _Steps:
        for _ in range(self.spec.settings.max_hops):
            node = self.flow.node(name)
            self.nodes.append(name)
            self.conv.node, self.conv.asking = name, None
            if not self._collect(node):
                return
            target = yield from self._blocks(name, node)
            if target is None:
                return
            name = target
        self._break(f"more than {self.spec.settings.max_hops} node transitions in one turn")

    def _blocks(self, name: str, node: NodeSpec) -> Generator[Call, Outcome, str | None]:
        """A node's blocks in order: the bot webhook's event, says, the HTTP block, the
        webhook, success/failure says; then the node to visit next, or None to stop."""
        bot_webhook = self.spec.webhook
        if node.event and node.event_enabled and bot_webhook is not None:
            outcome = yield self._call("event", name, node, bot_webhook, event=node.event)
            if not self._apply(outcome):
                return None
        self._say(node.says)
        jump = None
        if node.http is not None:
            outcome = yield self._call("http", name, node, self._render_http(node.http))
            if outcome.failure is not None and node.http.on_failure:
                return node.http.on_failure  # the block's own failure branch, no bot break
            if not self._apply(outcome):
                return None
            jump = node.http.on_success
        status = True
        if node.webhook is not None or node.code is not None:  # a code node: a sandboxed webhook
            kind, spec = ("webhook", node.webhook) if node.code is None else ("code", node.code)
            outcome = yield self._call(kind, name, node, spec)
            if not self._apply(outcome, limited=True):
                return None
            status = outcome.status
        self._say(node.success if status else node.failure)
        if node.end:
            if status:
                self.conv.state = State.COMPLETE
            return None
        return jump or self._next(node)

    def _render_http(self, http: HttpSpec) -> HttpSpec:
        return http.model_copy(
            update={
                "url": self._render(http.url),
                "headers": {k: self._render(v) for k, v in http.headers.items()},
                "body": self._render_deep(http.body, typed=True),
            }
        )

    def _collect(self, node: NodeSpec) -> bool:
        """Fill the node's entities; ask for the first required one still missing."""
        for name, slot in node.entities.items():
            found = self.parse.entities.get(name)
            if found and "message" in slot.sources:
                self.conv.entities[name] = found[0]
                continue
            if name not in self.conv.entities:
                self._fill_from_other_sources(name, slot)
            if name not in self.conv.entities and slot.required:
                self._ask(name, slot)
                return False
        return True

    def _fill_from_other_sources(self, name: str, slot: SlotSpec) -> None:
        for source in slot.sources:
            if source == "user_profile":
                key = slot.profile_key or name
                value = self.user.profile.get(key, self.user.data.get(key))
                if value is not None:
                    self.conv.entities[name] = EntityValue(
                        value, str(value), Detection.USER_PROFILE
                    )
                    return
            elif source == "default" and slot.default is not None:
                self.conv.entities[name] = EntityValue(
                    slot.default, str(slot.default), Detection.DEFAULT
                )
                return

    def _ask(self, name: str, slot: SlotSpec) -> None:
        self.conv.asking = name
        self._say(slot.prompt or [f"What is the {name.replace('_', ' ')}?"])

    def _call(
        self, kind: str, name: str, node: NodeSpec, spec: Any, event: str = "API_INTEGRATION"
    ) -> Call:
        entities = {k: self.conv.entities[k] for k in node.entities if k in self.conv.entities}
        return Call(
            kind=kind,
            node=name,
            spec=spec,
            entities=entities,
            conversation=self.conv,
            user=self.user,
            text=self.parse.text,
            event=event,
            parse=self.parse,
            now=self.now,
        )

    def _apply(self, outcome: Outcome, *, limited: bool = False) -> bool:
        """Merge what the logic answered; False (after a bot break) when it failed.
        `limited`: a node webhook's data update, held to `settings.data_limit`."""
        if outcome.failure is not None:
            self._break(outcome.failure)
            return False
        limit = self.spec.settings.data_limit if limited else 0
        size = sum(
            len(json.dumps(part, ensure_ascii=False, separators=(",", ":")))
            for part in (outcome.data, outcome.user_data)
            if part is not None
        )
        if limit and size > limit:
            self._break(
                f"conversation_data and permanent_user_data are {size} characters together,"
                f" over the limit of {limit}; the update was refused"
            )
            return False
        language = outcome.language or self.conv.language
        messages = []
        for message in outcome.messages:
            if message.type == "response_ref":
                text = self.spec.response_text(str(message.content), language)
                if text is None:
                    self._break(f"the integration named an unknown response {message.content!r}")
                    return False
                message = Message.text(self._render(text))
            messages.append(message)
        if outcome.data is not None:
            self.conv.data = dict(outcome.data)
        if outcome.user_data is not None:
            self.user.data = dict(outcome.user_data)
        if outcome.variables:
            self.conv.data.update(outcome.variables)
        self.conv.language = language
        self.messages.extend(messages)
        return True

    def _next(self, node: NodeSpec) -> str | None:
        scope = self._variables()
        for transition in node.next:
            if transition.if_ is None or self.flow.templates.test(transition.if_, scope):
                return transition.node
        return None

    # -- output --------------------------------------------------------------------------

    def _break(self, reason: str) -> None:
        """The logic failed: the bot-break message, or `pending` for an agent team."""
        self.bot_break = reason
        self.conv.node, self.conv.asking = None, None
        settings = self.spec.settings
        if settings.human_assistance:
            self.conv.state, self.conv.team, self.handoff = State.PENDING, settings.team, True
            if settings.handoff_message:
                self.messages.append(
                    Message.text(self._render(settings.handoff_message, safe=True))
                )
        else:
            self.messages.append(Message.text(self._render(settings.bot_break_message, safe=True)))

    def _say(self, items: Iterable[Say]) -> None:
        for item in items:
            if isinstance(item, ResponseRef):
                text = self.spec.response_text(item.response, self.conv.language) or ""
                item = text
            if isinstance(item, RichSay):
                self.messages.append(Message(item.type, self._render_deep(item.content)))
            elif rendered := self._render(item).strip():
                self.messages.append(Message.text(rendered))

    def _render(self, source: str, *, safe: bool = False) -> str:
        try:
            return self.flow.templates.render(source, self._variables())
        except TemplateFailed:
            if safe:
                return source
            raise

    def _render_deep(self, value: Any, *, typed: bool = False) -> Any:
        """Templates in every string of `value`. With `typed`, a string that is one whole
        `{{ expression }}` becomes the expression's value, keeping its JSON type."""
        if isinstance(value, str):
            whole = _WHOLE_EXPRESSION.fullmatch(value) if typed else None
            if whole is not None:
                return self.flow.templates.evaluate(whole.group(1), self._variables())
            return self._render(value)
        if isinstance(value, list):
            return [self._render_deep(v, typed=typed) for v in value]
        if isinstance(value, dict):
            return {k: self._render_deep(v, typed=typed) for k, v in value.items()}
        return value

    def _variables(self) -> dict[str, Any]:
        return variables(self.conv, self.user, self.parse)

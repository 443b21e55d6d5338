"""Drives a turn: lock → load → NLU → engine → callers → save, all in one place."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import random
import time
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from parley.bot import Bot
from parley.engine import Flow, run_turn
from parley.errors import BadRequest, Conflict, NotFound
from parley.model import (
    Call,
    Conversation,
    Environment,
    HistoryEntry,
    Invocation,
    Message,
    Outcome,
    State,
    StoredAnswer,
    TurnRecord,
    TurnResult,
    User,
)
from parley.nlu import ExampleRecognizer, Recognizer
from parley.observability import Metrics, turn_scope
from parley.runtime.callers import Callers
from parley.runtime.events import Events, entry_json, publish_turn
from parley.runtime.releases import ProductionBots
from parley.runtime.shared import Shared
from parley.storage import Store

log = logging.getLogger("parley.turn")

USER_FIELDS = ("name", "full_name", "device_platform", "language", "auth_id", "auth_code")


@dataclass
class LiveBot:
    """A loaded bot with everything a turn needs, prepared once."""

    bot: Bot
    flow: Flow
    recognizer: Recognizer
    release: int | None = None
    """The release this is (production), None for the working copy."""

    @classmethod
    def from_bot(cls, bot: Bot, release: int | None = None) -> LiveBot:
        return cls(bot, Flow(bot.spec), ExampleRecognizer(bot.spec), release)

    @property
    def name(self) -> str:
        return self.bot.spec.name


@dataclass(frozen=True)
class Inbound:
    """One user message as the dialog API or `parley chat` hands it over."""

    bot: str
    conversation_id: str
    text: str
    structured: bool = False
    environment: Environment = Environment.TEST
    user: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class TurnOutput:
    turn_id: str
    result: TurnResult
    invocations: list[Invocation]
    latency_ms: float
    agent_touched: bool = False
    """An agent held the chat or wrote in it since the user's previous message."""
    answer: dict[str, Any] | None = None
    """The dialog answer, when the turn stored it under a client message id."""
    release: int | None = None
    """The release the turn ran (production), None for the working copy."""


@dataclass(frozen=True)
class Reply:
    """A dialog answer under a client message id: the turn's, or a replay of the stored one."""

    turn_id: str
    answer: dict[str, Any]
    replayed: bool


@dataclass(frozen=True)
class _Idempotency:
    message_id: str
    digest: str


class Runtime:
    """Serves turns for a set of bots over one store and one set of callers."""

    def __init__(
        self,
        bots: list[Bot],
        store: Store,
        callers: Callers,
        *,
        max_text_length: int = 4096,
        metrics: Metrics | None = None,
        release_check_seconds: float = 1.0,
        shared: Shared | None = None,
    ) -> None:
        self.bots = {b.spec.name: LiveBot.from_bot(b) for b in bots}
        """The working copies: what the test environment runs."""
        self.production = ProductionBots(
            store, self.bots, LiveBot.from_bot, check_seconds=release_check_seconds
        )
        self.store = store
        self.callers = callers
        self.max_text_length = max_text_length
        self.metrics = metrics
        self.shared = shared or Shared()
        self.locks = self.shared.locks
        self.events: Events = self.shared.events
        # chats an agent wrote in since the user's last turn (read, then forgotten, per turn)
        self.agent_wrote = self.shared.marks

    def live(self, name: str) -> LiveBot:
        try:
            return self.bots[name]
        except KeyError:
            raise NotFound(f"no bot named {name!r}") from None

    async def live_for(self, name: str, environment: Environment) -> LiveBot:
        """The bot a turn in `environment` runs: the working copy for test; for production
        the current release (the working copy if the bot was never deployed)."""
        working = self.live(name)
        if environment is Environment.TEST:
            return working
        return await self.production.live(name)

    async def handle(self, inbound: Inbound) -> TurnOutput:
        live = await self.live_for(inbound.bot, inbound.environment)
        self._check_text(inbound.text, live)
        async with self.lock(inbound.bot, inbound.conversation_id):
            return await self._turn(live, inbound)

    async def handle_once(self, inbound: Inbound, message_id: str) -> Reply:
        """`handle` for a message the client named `message_id`: the first time, the turn runs
        and its answer is saved with it; after that the stored answer comes back and nothing
        runs. The same id with another message (type or text) is `Conflict`."""
        live = await self.live_for(inbound.bot, inbound.environment)
        self._check_text(inbound.text, live)
        key = _Idempotency(message_id, message_digest(inbound))
        async with self.lock(inbound.bot, inbound.conversation_id):
            stored = await self._stored_answer(inbound, key)
            if stored is not None:
                return Reply(stored.turn_id, stored.answer, replayed=True)
            try:
                output = await self._turn(live, inbound, key)
            except Conflict:
                # Another process (not serialised by this lock) saved the same message first.
                stored = await self._stored_answer(inbound, key)
                if stored is None:
                    raise
                return Reply(stored.turn_id, stored.answer, replayed=True)
        assert output.answer is not None
        return Reply(output.turn_id, output.answer, replayed=False)

    async def _stored_answer(self, inbound: Inbound, key: _Idempotency) -> StoredAnswer | None:
        stored = await self.store.get_answer(inbound.bot, inbound.conversation_id, key.message_id)
        if stored is not None and stored.digest != key.digest:
            raise Conflict(
                f"message_id {key.message_id!r} was already used in conversation"
                f" {inbound.conversation_id!r} for a different message"
            )
        return stored

    def lock(self, bot: str, conversation_id: str) -> AbstractAsyncContextManager[None]:
        """Held by every change of the conversation: turns and agents' actions."""
        return self.locks.hold(conversation_key(bot, conversation_id))

    def _check_text(self, text: str, live: LiveBot) -> None:
        if not text.strip():
            raise BadRequest("message content is empty")
        limit = min(self.max_text_length, live.bot.spec.settings.max_text_length)
        if len(text) > limit:
            raise BadRequest(
                f"message content is {len(text)} characters, over the limit of {limit}"
            )

    async def _turn(
        self, live: LiveBot, inbound: Inbound, once: _Idempotency | None = None
    ) -> TurnOutput:
        # a log and idempotency key, not a secret: no need for the OS's entropy on every turn
        started, turn_id = time.perf_counter(), f"{random.getrandbits(128):032x}"
        metrics, state = self.metrics, "error"
        if metrics is not None:
            metrics.in_flight.inc()
        try:
            with turn_scope(turn_id, live.name, inbound.conversation_id):
                output = await self._run_turn(live, inbound, once, started, turn_id)
            state = output.result.conversation.state.value
            return output
        finally:
            if metrics is not None:
                metrics.in_flight.dec()
                metrics.turn(live.name, state, time.perf_counter() - started)

    async def _run_turn(
        self,
        live: LiveBot,
        inbound: Inbound,
        once: _Idempotency | None,
        started: float,
        turn_id: str,
    ) -> TurnOutput:
        conv, user, stored_key = await self._load(live, inbound)
        expected, no_before = conv.version, conv.conversation_no
        agent_touched = conv.state in (State.PENDING, State.AGENT) or await self.agent_wrote.take(
            conversation_key(live.name, conv.id)
        )
        asking = conv.asking if conv.state is State.BOT else None
        parse = live.recognizer.parse(
            inbound.text, conv.language, expecting=asking, today=dt.date.today()
        )
        turn = run_turn(
            live.flow, conv, user, parse, now=time.time(), structured=inbound.structured
        )
        invocations: list[Invocation] = []
        try:
            call = next(turn)
            while True:
                outcome, invocation = await self._perform(live, call, turn_id)
                invocations.append(invocation)
                call = turn.send(outcome)
        except StopIteration as stop:
            result: TurnResult = stop.value
        if result.bot_break and invocations and invocations[-1].error is None:
            invocations[-1].error = result.bot_break
        now = time.time()
        history = [self._entry(conv, conv.conversation_no, "user", _user_message(inbound), now)]
        history += [self._entry(conv, conv.conversation_no, "bot", m, now) for m in result.messages]
        for entry in history:
            entry.turn_id = turn_id
        record = TurnRecord(turn_id, conv, user, history, invocations, expected)
        record.user_unchanged = stored_key is not None and _user_key(user) == stored_key
        answer = None
        if once is not None:  # the answer is saved with the turn, so it is built first
            missed = await self._agent_messages(conv) if agent_touched else []
            answer = dialog_answer(turn_id, result, missed, live.release)
            record.answer = StoredAnswer(once.message_id, once.digest, turn_id, answer)
        await self.store.save_turn(record)
        await publish_turn(self.events, conv, history, invocations, result.handoff)
        latency = (time.perf_counter() - started) * 1000
        log.info(
            "turn bot=%s conversation=%s no=%s nodes=%s state=%s calls=%d ms=%.1f%s%s",
            live.name, conv.id, no_before if no_before == conv.conversation_no else
            f"{no_before}->{conv.conversation_no}", ",".join(result.nodes) or "-",
            conv.state.value, len(invocations), latency,
            f" release={live.release}" if live.release is not None else "",
            f" break={result.bot_break!r}" if result.bot_break else "",
        )  # fmt: skip
        return TurnOutput(
            turn_id, result, invocations, latency, agent_touched, answer, live.release
        )

    async def _agent_messages(self, conv: Conversation) -> list[HistoryEntry]:
        """Agents' messages since the user's last one, read before this turn is saved (agents
        write under the conversation's lock too, so none can arrive in between)."""
        recent = await self.store.history(conv.bot, conv.id, limit=200)
        missed: list[HistoryEntry] = []
        for entry in reversed(recent):
            if entry.sender == "user":
                break
            if entry.sender.startswith("agent("):
                missed.append(entry)
        return missed[::-1]

    async def _load(self, live: LiveBot, inbound: Inbound) -> tuple[Conversation, User, str | None]:
        """The conversation, the user, and the user as stored (`_user_key`), None if new."""
        requested = str(inbound.user["id"]) if inbound.user.get("id") else None
        conv, stored_user = await self.store.load(live.name, inbound.conversation_id, requested)
        stored_key = _user_key(stored_user) if stored_user is not None else None
        user_id = requested or (conv.user_id if conv else inbound.conversation_id)
        if conv is None:
            language = str(inbound.user.get("language") or live.bot.spec.language)
            conv = Conversation(inbound.conversation_id, live.name, user_id, language=language)
        elif conv.user_id != user_id:
            raise BadRequest(f"conversation {conv.id!r} belongs to another user")
        conv.environment = inbound.environment
        user = stored_user or User(user_id)
        for key in USER_FIELDS:
            if inbound.user.get(key) is not None:
                setattr(user, key, inbound.user[key])
        if isinstance(inbound.user.get("profile"), dict):
            user.profile = {**user.profile, **inbound.user["profile"]}
        return conv, user, stored_key

    async def _perform(self, live: LiveBot, call: Call, turn_id: str) -> tuple[Outcome, Invocation]:
        outcome, invocation = await self.callers.perform(live.bot.spec, call, turn_id)
        if self.metrics is not None:
            self.metrics.call(invocation)
        return outcome, invocation

    @staticmethod
    def _entry(
        conv: Conversation, no: int, sender: str, message: Message, now: float
    ) -> HistoryEntry:
        return HistoryEntry(conv.id, conv.bot, no, sender, message, now)


def dialog_answer(
    turn_id: str, result: TurnResult, missed: list[HistoryEntry], release: int | None = None
) -> dict[str, Any]:
    """The dialog API's answer to a turn; `missed`: agents' messages since the user's last;
    `release`: the release that answered, for production turns of a deployed bot."""
    answer: dict[str, Any] = {
        "turn_id": turn_id,
        "messages": [m.to_json() for m in result.messages],
        "conversation": result.conversation.to_json(),
        "nlp": result.parse.to_json(),
        "agent_messages": [entry_json(e) for e in missed],
    }
    if release is not None:
        answer["release"] = release
    return answer


def message_digest(inbound: Inbound) -> str:
    """Identifies a message by its type and text: a retry under a message id must match it."""
    kind = "postback" if inbound.structured else "text"
    data = json.dumps([kind, inbound.text]).encode()
    return hashlib.sha256(data).hexdigest()


def conversation_key(bot: str, conversation_id: str) -> str:
    """How locks and marks name a conversation."""
    return f"{bot}\0{conversation_id}"


def _user_key(user: User) -> str:
    """Everything a store keeps of a user, as one comparable string: equal before and after
    a turn means the turn need not write the user again."""
    fields = [getattr(user, name) for name in _USER_COLUMNS]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


_USER_COLUMNS = tuple(f.name for f in dataclasses.fields(User))


def _user_message(inbound: Inbound) -> Message:
    if inbound.structured:
        return Message("postback", inbound.text)
    return Message.text(inbound.text)

"""The unified conversation model every dialect translates to and from.

Plain dataclasses, no I/O. The engine reads and returns these; dialects encode a `Call` to
bytes and decode bytes to an `Outcome`; storage persists `Conversation`, `User`, `Turn` and
`Invocation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JSON = Any
"""A value that json.dumps accepts."""


class State(StrEnum):
    """Who answers the conversation now."""

    BOT = "bot"
    PENDING = "pending"
    AGENT = "agent"
    COMPLETE = "complete"


class Detection(StrEnum):
    """Where an entity value came from (Haptik's `detection`)."""

    MESSAGE = "message"
    USER_PROFILE = "user_profile"
    DEFAULT = "default"
    STRUCTURED = "structured"
    FALLBACK = "fallback"


class Environment(StrEnum):
    TEST = "test"
    PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class EntityValue:
    """One detected value: normalised `value`, the `raw` text it came from, and how."""

    value: JSON
    raw: str
    detection: Detection = Detection.MESSAGE
    start: int | None = None
    end: int | None = None

    def to_json(self) -> dict[str, JSON]:
        return {"value": self.value, "raw": self.raw, "detection": self.detection.value}

    @classmethod
    def from_json(cls, data: dict[str, JSON]) -> EntityValue:
        return cls(data["value"], data.get("raw", str(data["value"])), Detection(data["detection"]))


@dataclass(frozen=True, slots=True)
class IntentMatch:
    name: str
    confidence: float


@dataclass(slots=True)
class Parse:
    """What the recognizer understood of one message: the `nlp` of every answer."""

    text: str
    language: str
    intents: list[IntentMatch] = field(default_factory=list)
    entities: dict[str, list[EntityValue]] = field(default_factory=dict)

    @property
    def intent(self) -> IntentMatch | None:
        return self.intents[0] if self.intents else None

    def to_json(self) -> dict[str, JSON]:
        return {
            "text": self.text,
            "language": self.language,
            "intents": [
                {"name": i.name, "confidence": round(i.confidence, 4)} for i in self.intents
            ],
            "entities": {
                name: [v.to_json() for v in values] for name, values in self.entities.items()
            },
        }


@dataclass(frozen=True, slots=True)
class Message:
    """A message to or from the user.

    `type` is one of `text` (content: str), `buttons`, `quick_replies` (content:
    {"title": str, "buttons": [{"title", "value", "type"}]}), `card` ({"title", "subtitle",
    "image_url", "buttons"}), `carousel` and `list` ([card, ...]), `image`, `video`, `file`
    (content: url), or `custom` (content: any JSON a channel understands). `meta` keeps what a
    dialect wants to round-trip (the original HSL element, say).
    """

    type: str
    content: JSON
    meta: dict[str, JSON] = field(default_factory=dict)

    @classmethod
    def text(cls, content: str) -> Message:
        return cls("text", content)

    def to_json(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"type": self.type, "content": self.content}
        if self.meta:
            out["meta"] = self.meta
        return out

    def as_text(self) -> str:
        """The closest plain-text form, for history lines and text-only channels."""
        if self.type == "text":
            return str(self.content)
        if isinstance(self.content, dict):
            title = self.content.get("title") or self.content.get("text") or ""
            buttons = self.content.get("buttons") or []
            lines = [str(title)] if title else []
            lines += [f"{n}. {b.get('title', '')}" for n, b in enumerate(buttons, 1)]
            return "\n".join(lines)
        if isinstance(self.content, list):
            return "\n".join(str(c.get("title", "")) for c in self.content if isinstance(c, dict))
        return str(self.content)


@dataclass(slots=True)
class User:
    """The person talking. `data` is permanent user data, shared by every bot."""

    id: str
    name: str = ""
    full_name: str = ""
    device_platform: int = 5
    language: str = ""
    auth_id: str = ""
    auth_code: str = ""
    profile: dict[str, JSON] = field(default_factory=dict)
    data: dict[str, JSON] = field(default_factory=dict)


@dataclass(slots=True)
class Conversation:
    """One user's conversation with one bot, across its numbered sub-conversations."""

    id: str
    bot: str
    user_id: str
    environment: Environment = Environment.TEST
    state: State = State.BOT
    conversation_no: int = 1
    node: str | None = None
    asking: str | None = None
    language: str = "en"
    data: dict[str, JSON] = field(default_factory=dict)
    entities: dict[str, EntityValue] = field(default_factory=dict)
    team: str | None = None
    version: int = 0
    updated_at: float = 0.0
    """When the stored conversation last changed (epoch seconds); 0 for a new one."""

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "bot": self.bot,
            "user_id": self.user_id,
            "environment": self.environment.value,
            "state": self.state.value,
            "conversation_no": self.conversation_no,
            "node": self.node,
            "asking": self.asking,
            "language": self.language,
            "data": self.data,
            "entities": {k: v.to_json() for k, v in self.entities.items()},
            "team": self.team,
        }


@dataclass(frozen=True, slots=True)
class Call:
    """Business logic the engine wants run: the runtime picks a caller by `kind`.

    `spec` is the node's integration block from bot.yaml (a `WebhookSpec` for webhooks);
    the rest is the conversation as the logic should see it.
    """

    kind: str
    node: str
    spec: Any
    entities: dict[str, EntityValue]
    conversation: Conversation
    user: User
    text: str = ""
    event: str = "API_INTEGRATION"
    parse: Parse | None = None
    """The message's NLU result, for dialects that send it (CAI's `nlp`, Rasa's tracker)."""
    now: float = 0.0
    """When the turn began (epoch seconds): dialects put timestamps from here, never a clock."""


@dataclass(slots=True)
class Outcome:
    """What business logic answered, already translated from its dialect.

    `failure` set means the call failed (transport, status, shape, size): the engine turns it
    into a bot break or a hand-off. Otherwise `status` picks the success or failure responses;
    `data`/`user_data` replace the stored ones when not None; `variables` merge into data.
    """

    status: bool = True
    messages: list[Message] = field(default_factory=list)
    data: dict[str, JSON] | None = None
    user_data: dict[str, JSON] | None = None
    variables: dict[str, JSON] | None = None
    language: str | None = None
    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    """What the answer asked for that parley does not do (yet): for the log, never a failure."""

    @classmethod
    def failed(cls, reason: str) -> Outcome:
        return cls(status=False, failure=reason)


@dataclass(slots=True)
class TurnResult:
    """The engine's answer to one user message."""

    messages: list[Message]
    conversation: Conversation
    user: User
    parse: Parse
    handoff: bool = False
    bot_break: str | None = None
    nodes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class HistoryEntry:
    """One message in a conversation's history. `sender` is `user`, `bot` or `agent(NAME)`."""

    conversation_id: str
    bot: str
    conversation_no: int
    sender: str
    message: Message
    created_at: float
    turn_id: str = ""
    id: int | None = None


@dataclass(slots=True)
class Invocation:
    """One call to business logic, as the invocation log keeps it (secrets already masked)."""

    turn_id: str
    bot: str
    conversation_id: str
    node: str
    kind: str
    url: str
    created_at: float
    dialect: str = ""
    method: str = "POST"
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    status: int | None = None
    response_body: str | None = None
    latency_ms: float = 0.0
    error: str | None = None
    environment: str = "test"
    id: int | None = None

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "turn_id": self.turn_id,
            "bot": self.bot,
            "conversation_id": self.conversation_id,
            "node": self.node,
            "kind": self.kind,
            "dialect": self.dialect,
            "environment": self.environment,
            "method": self.method,
            "url": self.url,
            "request_headers": self.request_headers,
            "request_body": self.request_body,
            "status": self.status,
            "response_body": self.response_body,
            "latency_ms": round(self.latency_ms, 2),
            "error": self.error,
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class TurnRecord:
    """Everything one turn writes; a store saves it in one transaction or not at all.

    `expected_version` is the conversation version the turn started from (0 for a new one);
    the store refuses the save with `Conflict` when the stored version differs.
    """

    turn_id: str
    conversation: Conversation
    user: User
    history: list[HistoryEntry]
    invocations: list[Invocation]
    expected_version: int
    answer: StoredAnswer | None = None
    """With a client `message_id`: the turn's answer, written in the same transaction and
    unique per (bot, conversation, message_id); a duplicate is `Conflict`, nothing written."""
    user_unchanged: bool = False
    """The user is stored already and the turn did not change it: the store may skip it."""


@dataclass(slots=True)
class StoredAnswer:
    """A dialog answer kept under the client's `message_id`, so a retry gets it back."""

    message_id: str
    digest: str
    """Identifies the request's message (type and text): a retry must match it."""
    turn_id: str
    answer: dict[str, JSON]
    created_at: float = 0.0

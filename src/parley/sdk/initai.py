"""Init.ai self-hosted logic for webhook authors: the `LogicInvocation` parley POSTs and the
`LogicResult` builder whose JSON parley's result callback accepts (docs/dialects/initai.md).
The logic server apps are in `parley.sdk.initai_server`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_USER_FIELDS = ("first_name", "last_name", "remote_id")
_PREFIX = "app:response:name:"


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class InitaiUser(_Model):
    """The end user (`users[id]`): parley's user id, names and `metadata` as the logic left
    them (`LogicResult.update_user` changes them)."""

    id: str = ""
    app_id: str = ""
    platform_user_id: str = ""
    remote_id: str | None = None
    first_name: str | None = ""
    last_name: str | None = ""
    metadata: dict[str, Any] | None = None


class InitaiPart(_Model):
    """The user's message: `content_type` `text` (`content` is the text) or `postback`
    (`content` is `{text, data, stream, version}`), parley's best intent as
    `classification`, and the entities found as `slots`."""

    content_type: str = "text"
    content: Any = ""
    classification: dict[str, Any] | None = None
    slots: dict[str, Any] = Field(default_factory=dict)


class InitaiConversation(_Model):
    """`current_conversation`: its `id`, its `state` (the conversation data, as the last
    result left it) and the message to process."""

    id: str = ""
    state: dict[str, Any] = Field(default_factory=dict)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    user_id: str = Field("", alias="__private_temp_user_id")


class LogicInvocation(_Model):
    """What parley POSTs for each user message: `{"event_type": "LogicInvocation", "data":
    {"version", "format", "payload": {...}}}`. Read the turn through `text`, `intent`,
    `slot()`, `postback`, `state` and `user`; `payload` is the rest, as sent."""

    event_type: str
    data: dict[str, Any]

    @classmethod
    def from_json(cls, document: Any) -> LogicInvocation:
        """The invocation a decoded JSON body holds (ValueError unless it is one)."""
        invocation = cls.model_validate(document)
        payload = invocation.payload
        for key in ("invocation_data", "current_conversation", "users"):
            if not isinstance(payload.get(key), dict):
                raise ValueError(f"data.payload.{key} is not an object")
        return invocation

    @property
    def payload(self) -> dict[str, Any]:
        """`data.payload`: invocation, conversation, users and application."""
        payload = self.data.get("payload")
        return payload if isinstance(payload, dict) else {}

    @property
    def invocation_id(self) -> str:
        """The id the result is posted under."""
        return str(self.payload["invocation_data"].get("invocation_id", ""))

    @property
    def result_url(self) -> str:
        """Where the result goes: `{api.base_url}/api/v1/remote/logic/invocations/{id}/result`."""
        base = str((self.payload["invocation_data"].get("api") or {}).get("base_url") or "")
        if not base:
            return ""
        return f"{base.rstrip('/')}/api/v1/remote/logic/invocations/{self.invocation_id}/result"

    @property
    def auth_token(self) -> str:
        """The invocation's bearer token, sent back with the result."""
        return str(self.payload["invocation_data"].get("auth_token", ""))

    @property
    def app_id(self) -> str:
        """The bot's name (`current_application.id`)."""
        return str((self.payload.get("current_application") or {}).get("id", ""))

    @property
    def conversation(self) -> InitaiConversation:
        """`current_conversation`."""
        return InitaiConversation.model_validate(self.payload["current_conversation"])

    @property
    def part(self) -> InitaiPart:
        """The message's first part (an empty text part when there is none)."""
        messages = self.conversation.messages
        parts = messages[0].get("parts") if messages else None
        return InitaiPart.model_validate(parts[0] if parts else {})

    @property
    def text(self) -> str:
        """The user's text (a postback's `text` for a clicked reply)."""
        part = self.part
        if part.content_type == "postback" and isinstance(part.content, dict):
            return str(part.content.get("text") or "")
        return part.content if isinstance(part.content, str) else ""

    @property
    def postback(self) -> dict[str, Any] | None:
        """A clicked reply's `{text, data, stream, version}`, or None for typed text."""
        part = self.part
        if part.content_type == "postback" and isinstance(part.content, dict):
            return dict(part.content)
        return None

    @property
    def intent(self) -> str | None:
        """parley's best intent as the bot names it (`base/sub` or `base`), or None."""
        classification = self.part.classification or {}
        base = (classification.get("base_type") or {}).get("value")
        sub = (classification.get("sub_type") or {}).get("value")
        if not base:
            return None
        return f"{base}/{sub}" if sub else str(base)

    def slot(self, name: str, role: str = "generic") -> Any:
        """The first value of entity `name` in this message (`getFirstEntityWithRole`):
        canonical text, or the parsed number/object; None when absent."""
        slot = self.part.slots.get(name) or {}
        values = (slot.get("values_by_role") or {}).get(role) or []
        if not values:
            return None
        first = values[0]
        return first.get("parsed") if first.get("parsed") is not None else first.get("value")

    @property
    def state(self) -> dict[str, Any]:
        """The conversation state (a copy; give the new one to `LogicResult.state`)."""
        return dict(self.conversation.state)

    @property
    def user(self) -> InitaiUser:
        """The end user who sent the message."""
        users = self.payload["users"]
        record: Any = users.get(self.conversation.user_id) or next(iter(users.values()), {})
        return InitaiUser.model_validate(record)


def initai_reply(
    text: str, stream: str | None = None, data: Any = None, icon_url: str | None = None
) -> dict[str, Any]:
    """A quick reply (`makeReplyButton`): clicked, it comes back as a postback part with
    `stream` and `data` (`LogicInvocation.postback`)."""
    payload = {"data": data, "version": "1", "stream": stream}
    return {"type": "reply", "text": text, "icon_url": icon_url, "payload": payload}


class LogicResult(BaseModel):
    """A turn's result. Builders append and return the result, so they chain:
    `LogicResult().text("Hi").state({"n": 1})`. `conversation_state` left None keeps the
    conversation data; set, it replaces it."""

    model_config = ConfigDict(extra="forbid")

    parts: list[dict[str, Any]] = Field(default_factory=list)
    conversation_state: dict[str, Any] | None = None
    user_updates: dict[str, Any] = Field(default_factory=dict)
    reset: bool = False
    suggestions: list[dict[str, Any]] = Field(default_factory=list)

    def text(self, text: str) -> LogicResult:
        """A text message (`addTextResponse`)."""
        return self._part("text", text)

    def response(
        self, name: str, data: Mapping[str, Any] | None = None, *, replies: Sequence[Any] = ()
    ) -> LogicResult:
        """The bot's `responses:` entry `name`, rendered with `data` (`addResponse`); with
        `replies` (`initai_reply(...)` or plain strings), quick replies under it
        (`addResponseWithReplies`)."""
        content: dict[str, Any] = {
            "response_name": name if name.startswith(_PREFIX) else _PREFIX + name,
            "response_data": dict(data) if data is not None else None,
        }
        if not replies:
            return self._part("prepared-outbound-message", content)
        content["replies_content"] = [
            initai_reply(r) if isinstance(r, str) else dict(r) for r in replies
        ]
        return self._part("prepared-outbound-message-with-replies", content)

    def template(self, template: str, data: Mapping[str, Any]) -> LogicResult:
        """A Go template (`{{.Name}}`) filled with `data` (`addTextTemplateResponse`)."""
        content = {"template_type": "go", "template_string": template, "template_data": data}
        return self._part("text_template", content)

    def image(self, url: str, alt: str = "") -> LogicResult:
        """An image by URL (`addImageResponse`)."""
        return self._part("image", {"image_url": url, "alternative_text": alt})

    def state(self, state: Mapping[str, Any]) -> LogicResult:
        """Replace the conversation state (start from `invocation.state` to keep keys)."""
        self.conversation_state = dict(state)
        return self

    def update_user(self, **fields: Any) -> LogicResult:
        """Set the end user's `first_name`, `last_name`, `remote_id` and/or `metadata`
        (an object or None), kept in the user's permanent data (`updateUser`)."""
        unknown = set(fields) - {*_USER_FIELDS, "metadata"}
        if unknown:
            raise ValueError(f"a logic result cannot set {sorted(unknown)} on a user")
        self.user_updates.update(fields)
        return self

    def reset_user(self) -> LogicResult:
        """Forget the user's names and metadata and start the conversation over
        (`resetUser`)."""
        self.reset = True
        return self

    def suggest(self, text: str) -> LogicResult:
        """A suggestion for a human agent, kept in the invocation log (`addSuggestion`)."""
        self.suggestions.append(
            {"content_type": "text", "suggestion_type": "message", "text": text}
        )
        return self

    def to_json(self, invocation: LogicInvocation) -> dict[str, Any]:
        """The body to POST to `invocation.result_url`: `{"invocation", "result"}`."""
        user_id = invocation.conversation.user_id or invocation.user.id
        patch = [
            {"op": "add", "path": f"/{_escape(user_id)}/{key}", "value": value}
            for key, value in self.user_updates.items()
            if key in _USER_FIELDS
        ]
        metadata = (
            {user_id: self.user_updates["metadata"]} if "metadata" in self.user_updates else {}
        )
        to = {"to": user_id, "to_type": "app_user_id"}
        payload: dict[str, Any] = {
            "execution_id": invocation.invocation_id,
            "messages": [{"parts": [{**part, **to} for part in self.parts]}],
            "reset_users": [user_id] if self.reset else [],
            "suggestions": self.suggestions,
            "user_metadata_updates": metadata,
            "users_patch": patch,
        }
        if self.conversation_state is not None:
            payload["conversation_state"] = self.conversation_state
        header = {
            "invocation_id": invocation.invocation_id,
            "app_id": invocation.app_id,
            "app_user_id": user_id,
        }
        return {"invocation": header, "result": {"version": "parley-sdk", "payload": payload}}

    def _part(self, content_type: str, content: Any) -> LogicResult:
        self.parts.append({"content_type": content_type, "content": content})
        return self


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")

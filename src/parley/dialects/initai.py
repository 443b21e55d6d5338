"""Init.ai self-hosted logic (seed 000, protocols/initai.md), as initai-node 0.0.14 sees it.

Request: `{"event_type": "LogicInvocation", "data": {"version", "format", "payload"}}` with the
invocation (id, token, callback base URL), the conversation (its data is Init.ai's
conversation state), the message as one part with `classification` and `slots`, the end user
and the application. The webhook's answer is only an acknowledgement (200); the logic's result
arrives later on parley's callback and `apply_result` turns it into the `Outcome`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from parley.bot.schema import LogicWebhookSpec
from parley.dialects.base import Dialect, WireRequest, WireResponse
from parley.dialects.initai_parts import PartError, apply_patch, postback_content, render_parts
from parley.model import JSON, Call, EntityValue, Outcome, User

USER_FIELDS = ("first_name", "last_name", "remote_id", "metadata")
"""What a logic script may change on a user (initai-node's `updateUser` whitelist); parley
keeps them in the user's permanent data under these names."""


@dataclass(frozen=True, slots=True)
class LogicInvocation:
    """A logic call's spec once the runtime has registered it: the bot's logic webhook, plus
    this invocation's id, bearer token and the base URL the result is posted back to."""

    webhook: LogicWebhookSpec
    invocation_id: str
    auth_token: str
    base_url: str

    @property
    def dialect(self) -> str:
        return self.webhook.dialect

    @property
    def timeout(self) -> float:
        return self.webhook.timeout

    @property
    def max_response_bytes(self) -> int:
        return self.webhook.max_response_bytes

    @property
    def headers(self) -> dict[str, str]:
        return self.webhook.headers


class InitaiDialect(Dialect):
    name = "initai"

    def encode(self, call: Call, url: str) -> WireRequest:
        body = json.dumps(invocation_body(call), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **getattr(call.spec, "headers", {})}
        return WireRequest("POST", url, headers, body)

    def decode(self, call: Call, response: WireResponse) -> Outcome:
        """The acknowledgement: 200 means the logic server took the invocation."""
        if response.status != 200:
            return Outcome.failed(f"logic webhook answered HTTP {response.status}")
        return Outcome()

    def apply_result(self, call: Call, envelope: JSON) -> Outcome:
        """The `Outcome` a result POST (`{invocation, result}`) means for `call`; failed with
        the reason when the result is malformed."""
        try:
            return _apply(call, envelope)
        except PartError as exc:
            return Outcome.failed(f"invalid logic result: {exc}")


def invocation_body(call: Call) -> dict[str, JSON]:
    """The webhook body for `call` (§3). A call the runtime did not register (a preview, the
    golden sample) has an empty invocation id, token and base URL."""
    spec = call.spec if isinstance(call.spec, LogicInvocation) else None
    invocation_id = spec.invocation_id if spec else ""
    token = spec.auth_token if spec else ""
    initiated_at = _iso(call.now)
    user_id = initai_user_id(call.user)
    conversation = call.conversation
    payload = {
        "execution_data": {"execution_id": invocation_id, "initiated_at": initiated_at},
        "invocation_data": {
            "invocation_id": invocation_id,
            "initiated_at": initiated_at,
            "auth_token": token,
            "api": {"base_url": spec.base_url.rstrip("/") if spec else ""},
        },
        "current_conversation": {
            "id": conversation.id,
            "state": dict(conversation.data),
            "conversation_message_index_to_process": 0,
            "messages": [{"sender_role": "end-user", "parts": [_part(call)]}],
            "__private_temp_user_id": user_id,
        },
        "users": {user_id: _user_record(call)},
        "current_application": {
            "id": conversation.bot,
            "internal_name": conversation.bot,
            "environment": {},
        },
    }
    return {
        "event_type": "LogicInvocation",
        "data": {"version": "1", "format": "plain_object", "payload": payload},
    }


def initai_user_id(user: User) -> str:
    """The end user's id on the wire: never integer-like, because JavaScript enumerates such
    keys first and initai-node takes the first key of `users` as the app user."""
    return f"user-{user.id}" if user.id.isdigit() else user.id


def _iso(epoch: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _part(call: Call) -> dict[str, JSON]:
    postback = postback_content(call.text)
    part: dict[str, JSON]
    if postback is not None:
        part = {"content_type": "postback", "content": postback}
    else:
        part = {"content_type": "text", "content": call.text}
    parse = call.parse
    intent = parse.intent if parse is not None else None
    if intent is not None:
        base, _, sub = intent.name.partition("/")
        confidence = round(intent.confidence, 4)
        classification: dict[str, JSON] = {
            "overall_confidence": confidence,
            "base_type": {"value": base, "confidence": confidence},
        }
        if sub:
            classification["sub_type"] = {"value": sub, "confidence": confidence}
        part["classification"] = classification
    if parse is not None:
        entities = {name: values for name, values in parse.entities.items() if values}
    else:
        entities = {name: [value] for name, value in call.entities.items()}
    part["slots"] = {name: _slot(name, values) for name, values in entities.items()}
    return part


def _slot(name: str, values: list[EntityValue]) -> dict[str, JSON]:
    def one(v: EntityValue) -> dict[str, JSON]:
        text = isinstance(v.value, str)
        return {
            "value": v.value if text else v.raw,
            "raw_value": v.raw,
            "canonicalized": v.value != v.raw,
            "parsed": None if text else v.value,
        }

    base_type = "string" if isinstance(values[0].value, str) else "number"
    if not isinstance(values[0].value, str | int | float):
        base_type = "object"
    return {
        "entity": name,
        "base_type": base_type,
        "roles": ["generic"],
        "values_by_role": {"generic": [one(v) for v in values]},
    }


def _user_record(call: Call) -> dict[str, JSON]:
    user, data = call.user, call.user.data
    first, _, last = user.full_name.partition(" ")
    return {
        "id": initai_user_id(user),
        "app_id": call.conversation.bot,
        "platform_user_id": user.id,
        "remote_id": data.get("remote_id"),
        "first_name": data.get("first_name", first),
        "last_name": data.get("last_name", last),
        "metadata": data.get("metadata"),
    }


def _apply(call: Call, envelope: JSON) -> Outcome:
    result = envelope.get("result") if isinstance(envelope, dict) else None
    payload = result.get("payload") if isinstance(result, dict) else None
    if not isinstance(payload, dict):
        raise PartError("the body has no `result.payload` object")
    spec = call.spec if isinstance(call.spec, LogicInvocation) else None
    execution_id = payload.get("execution_id")
    if spec is not None and execution_id not in (None, spec.invocation_id):
        raise PartError(f"execution_id {execution_id!r} is not this invocation's")
    state = payload.get("conversation_state")
    if state is not None and not isinstance(state, dict):
        raise PartError("conversation_state is not an object")
    messages, notes = render_parts(_parts(payload.get("messages")))
    outcome = Outcome(messages=messages, data=state, notes=notes)
    user_id = initai_user_id(call.user)
    original = _user_record(call)
    record = _patched_user(user_id, original, payload)
    reset = payload.get("reset_users") or []
    if not isinstance(reset, list):
        raise PartError("reset_users is not a list")
    if user_id in reset:
        outcome.data = {}  # a reset user starts the conversation over
        record = {
            **original,
            "first_name": "",
            "last_name": "",
            "remote_id": None,
            "metadata": None,
        }
    if any(record.get(k) != original.get(k) for k in USER_FIELDS) or user_id in reset:
        outcome.user_data = _user_data(call.user.data, record)
    suggestions = payload.get("suggestions") or []
    if isinstance(suggestions, list) and suggestions:
        texts = [str(s.get("text", "")) for s in suggestions if isinstance(s, dict)]
        outcome.notes.append(f"suggestions for agents: {json.dumps(texts, ensure_ascii=False)}")
    return outcome


def _parts(messages: JSON) -> list[JSON]:
    if messages is None or messages == []:
        return []
    if not isinstance(messages, list) or not isinstance(messages[0], dict):
        raise PartError("messages is not a list of objects")
    parts = messages[0].get("parts") or []
    if not isinstance(parts, list):
        raise PartError("messages[0].parts is not a list")
    return parts


def _patched_user(user_id: str, original: dict[str, JSON], payload: dict[str, Any]) -> JSON:
    users = apply_patch({user_id: original}, payload.get("users_patch") or [])
    record = users.get(user_id)
    if not isinstance(record, dict):
        raise PartError("users_patch removed the end user")
    updates = payload.get("user_metadata_updates") or {}
    if not isinstance(updates, dict):
        raise PartError("user_metadata_updates is not an object")
    if user_id in updates:
        record["metadata"] = updates[user_id]
    return record


def _user_data(data: dict[str, JSON], record: dict[str, JSON]) -> dict[str, JSON]:
    out = {k: v for k, v in data.items() if k not in USER_FIELDS}
    for key in USER_FIELDS:
        value = record.get(key)
        if key == "metadata" and value is not None and not isinstance(value, dict):
            raise PartError("a user's metadata must be an object or null")
        if key != "metadata" and value is not None and not isinstance(value, str):
            raise PartError(f"a user's {key} must be a string or null")
        if value not in (None, ""):
            out[key] = value
    return out

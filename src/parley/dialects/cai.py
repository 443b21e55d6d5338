"""The SAP Conversational AI / Recast.AI webhook dialect (shared/design/protocols/cai.md, seed 004).

Request: the spec's method, headers and auth; the default body (`conversation` + `nlp`) or a
custom `body:` whose `{{ }}` references see `memory`, `nlp`, `conversation` and `user`.
Response: any 2xx; optional `replies` (Bot Connector messages) and `conversation` (`memory`
replaces the conversation data, `language` switches the conversation's language).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from parley.dialects import botconnector
from parley.dialects.base import Dialect, WireRequest, WireResponse
from parley.dialects.bodies import kind, not_json
from parley.dialects.headers import request_headers
from parley.dialects.jsonbody import render_json
from parley.dialects.signatures import signature_headers
from parley.model import JSON, Call, EntityValue, Message, Outcome

NLP_VERSION = "1.0"
"""The version of the `nlp` object parley sends (CAI puts its NLP release here)."""

_UUIDS = uuid.UUID("5b1f8f4e-0d7a-4c43-9a67-1c8a0e2f3c11")
# CAI's gold entities carry their value under a key of their own besides `raw`; parley keeps
# its normalised value in `value` (CAI's key for custom entities) and adds the gold key too.
_GOLD_KEYS = {"person": "fullname", "phone": "number", "datetime": "iso", "date": "iso"}


class CaiDialect(Dialect):
    name = "cai"

    def encode(self, call: Call, url: str) -> WireRequest:
        method: str = call.spec.method
        body = b""
        if method != "GET":
            document = request_json(call)
            if call.spec.body is not None:
                document = render_json(call.spec.body, body_variables(call, document))
            body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        headers = request_headers(call.spec, json_body=method != "GET")
        headers.update(signature_headers(call, body))
        return WireRequest(method, url, headers, body)

    def decode(self, call: Call, response: WireResponse) -> Outcome:
        if not 200 <= response.status < 300:
            return Outcome.failed(f"webhook answered HTTP {response.status}")
        if not response.body.strip():
            return Outcome()  # GET and DELETE webhooks often answer with nothing
        try:
            answer = json.loads(response.body)
        except (ValueError, RecursionError):
            return Outcome.failed(not_json(response))
        try:
            return _outcome(answer)
        except _BadAnswer as exc:
            return Outcome.failed(str(exc))

    def error_report(self, call: Call, url: str, reason: str) -> WireRequest | None:
        """`POST <base>/errors`, as the seed's sample servers expect, saying what failed."""
        spec = call.spec
        target = urlsplit(spec.path or spec.url or "")._replace(query="", fragment="").geturl()
        report = {
            "message": reason,
            "webhook": {"method": spec.method, "url": target},
            "conversation": {
                "id": call.conversation.id,
                "language": call.conversation.language,
                "skill": call.node,
            },
            "nlp": {"source": call.parse.text if call.parse else call.text},
            "timestamp": _timestamp(call),
        }
        body = json.dumps(report, ensure_ascii=False).encode("utf-8")
        return WireRequest("POST", url, {"Content-Type": "application/json"}, body)


# -- request -----------------------------------------------------------------------------


def request_json(call: Call) -> dict[str, JSON]:
    """The default body: CAI's `conversation` and `nlp` for this call."""
    conv = call.conversation
    return {
        "conversation": {
            "id": conv.id,
            "language": conv.language,
            "memory": memory(call),
            "skill_stack": [call.node],
            "skill": call.node,
            "skill_occurences": 1,
        },
        "nlp": nlp(call),
    }


def memory(call: Call) -> dict[str, JSON]:
    """Conversation data, with every collected entity in CAI's memory shape over it."""
    entities = {**call.conversation.entities, **call.entities}
    return {**call.conversation.data, **{k: entity(v, k) for k, v in entities.items()}}


def entity(value: EntityValue, name: str) -> dict[str, JSON]:
    """One entity value as CAI shows it in `memory` and `nlp.entities`."""
    out: dict[str, JSON] = {"value": value.value}
    gold = _GOLD_KEYS.get(name)
    if gold:
        out[gold] = value.value
    elif isinstance(value.value, int | float) and not isinstance(value.value, bool):
        out["scalar"] = value.value
    elif name == "email" and isinstance(value.value, str) and "@" in value.value:
        out["local"], out["domain"] = value.value.rsplit("@", 1)
    return {**out, "raw": value.raw, "confidence": 1.0}


def nlp(call: Call) -> dict[str, JSON]:
    conv, parse = call.conversation, call.parse
    return {
        "source": parse.text if parse else call.text,
        "intents": [
            {"slug": i.name, "confidence": round(i.confidence, 2)}
            for i in (parse.intents if parse else [])
        ],
        "sentiment": "neutral",
        "entities": {
            name: [entity(v, name) for v in values]
            for name, values in (parse.entities if parse else {}).items()
        },
        "act": "assert",
        "type": None,
        "version": NLP_VERSION,
        "processing_language": parse.language if parse else conv.language,
        "language": conv.language,
        "uuid": str(uuid.uuid5(_UUIDS, f"{conv.id}:{conv.conversation_no}:{call.now}:{call.node}")),
        "status": 200,
        "timestamp": _timestamp(call),
    }


def _timestamp(call: Call) -> str | None:
    # no clock in a dialect: the turn's start, or null when the caller did not set it
    return datetime.fromtimestamp(call.now, UTC).isoformat() if call.now else None


def body_variables(call: Call, document: dict[str, JSON]) -> dict[str, Any]:
    """What a custom body's references see: the default body's parts and the user."""
    user = call.user
    return {
        "memory": document["conversation"]["memory"],
        "nlp": document["nlp"],
        "conversation": document["conversation"],
        "user": {
            "id": user.id,
            "name": user.name,
            "full_name": user.full_name,
            "language": user.language or call.conversation.language,
            "data": user.data,
            "profile": user.profile,
        },
    }


# -- response ----------------------------------------------------------------------------


class _BadAnswer(Exception):
    """A 2xx JSON answer that is not the shape CAI defines; the message names the field."""


def _outcome(answer: JSON) -> Outcome:
    if not isinstance(answer, dict):
        raise _BadAnswer(f"webhook answer must be a JSON object, got {kind(answer)}")
    replies = answer.get("replies")
    if replies is None:
        replies = []
    if not isinstance(replies, list):
        raise _BadAnswer(f"`replies` must be a list, got {kind(replies)}")
    conversation = answer.get("conversation")
    if conversation is None:
        conversation = {}
    if not isinstance(conversation, dict):
        raise _BadAnswer(f"`conversation` must be an object, got {kind(conversation)}")
    data = conversation.get("memory")
    if data is not None and not isinstance(data, dict):
        raise _BadAnswer(f"`conversation.memory` must be an object, got {kind(data)}")
    language = conversation.get("language")
    if language is not None and not isinstance(language, str):
        raise _BadAnswer(f"`conversation.language` must be a string, got {kind(language)}")
    return Outcome(
        messages=[_message(reply, n) for n, reply in enumerate(replies)],
        data=data,  # present (even `{}`) replaces the whole memory, as in CAI
        language=language or None,
    )


def _message(reply: JSON, n: int) -> Message:
    if not isinstance(reply, dict):
        raise _BadAnswer(f"`replies[{n}]` must be an object, got {kind(reply)}")
    try:
        return botconnector.to_message(reply)
    except botconnector.ReplyError as exc:
        raise _BadAnswer(f"`replies[{n}]`: {exc}") from None

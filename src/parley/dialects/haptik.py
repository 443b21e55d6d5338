"""The Haptik webhook dialect (see shared/design/protocols/haptik.md and seeds 001/002)."""

from __future__ import annotations

import json

from parley.dialects import hsl
from parley.dialects.base import Dialect, WireRequest, WireResponse
from parley.dialects.bodies import kind, not_json, preview
from parley.dialects.signatures import signature_headers
from parley.model import JSON, Call, Message, Outcome

_BOOLS = {"true": True, "false": False}


class HaptikDialect(Dialect):
    name = "haptik"

    def encode(self, call: Call, url: str) -> WireRequest:
        body = json.dumps(_request_json(call), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        headers.update(signature_headers(call, body))
        return WireRequest("POST", url, headers, body)

    def decode(self, call: Call, response: WireResponse) -> Outcome:
        if response.status != 200:
            return Outcome.failed(f"webhook answered HTTP {response.status}")
        try:
            answer = json.loads(response.body)
        except (ValueError, RecursionError):
            return Outcome.failed(not_json(response))
        try:
            return _outcome(answer)
        except _BadAnswer as exc:
            return Outcome.failed(str(exc))


def _request_json(call: Call) -> dict[str, JSON]:
    conversation, user = call.conversation, call.user
    return {
        "node": call.node,
        "event": call.event,
        "user": {
            "user_id": user.id,
            "user_name": user.name,
            "full_name": user.full_name,
            "device_platform": user.device_platform,
            "language_code": conversation.language,
            "auth_id": user.auth_id,
            "auth_code": user.auth_code,
        },
        "conversation_no": conversation.conversation_no,
        "conversation_data": conversation.data,
        "permanent_user_data": user.data,
        "entities": {
            name: [
                {
                    "detection": value.detection.value,
                    "original_text": value.raw,
                    "entity_value": value.value,
                }
            ]
            for name, value in call.entities.items()
        },
    }


class _BadAnswer(Exception):
    """A 200 JSON answer that is not the shape Haptik defines; the message names the field."""


def _outcome(answer: JSON) -> Outcome:
    if not isinstance(answer, dict):
        raise _BadAnswer(f"webhook answer must be a JSON object, got {kind(answer)}")
    if "status" not in answer:
        raise _BadAnswer("webhook answer has no `status`")
    status = _status(answer["status"])
    items = answer.get("response", [])
    if not isinstance(items, list):
        raise _BadAnswer(f"`response` must be a list, got {kind(items)}")
    return Outcome(
        status=status,
        messages=[_message(item, n) for n, item in enumerate(items)],
        # present (even `{}`) replaces the stored data; absent or null leaves it alone
        data=_object(answer, "conversation_data"),
        user_data=_object(answer, "permanent_user_data"),
    )


def _status(value: JSON) -> bool:
    # Haptik's own docs write `"status": "True/False"`, so accept those strings too.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOLS:
        return _BOOLS[value.lower()]
    raise _BadAnswer(f"`status` must be true or false, got {preview(value)}")


def _object(answer: dict[str, JSON], key: str) -> dict[str, JSON] | None:
    value = answer.get(key)
    if value is not None and not isinstance(value, dict):
        raise _BadAnswer(f"`{key}` must be an object, got {kind(value)}")
    return value


def _message(item: JSON, n: int) -> Message:
    if isinstance(item, str):
        element = _embedded_object(item)
        return Message.text(item) if element is None else _structured(element, n)
    if isinstance(item, dict):
        return _structured(item, n)
    raise _BadAnswer(f"`response[{n}]` must be a string or an HSL object, got {kind(item)}")


def _embedded_object(text: str) -> dict[str, JSON] | None:
    """The JSON object a response string holds (an HSL element or a catalog reference)."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict) and ("type" in value or isinstance(value.get("response"), str)):
        return value
    return None


def _structured(element: dict[str, JSON], n: int) -> Message:
    if "type" not in element:
        key = element.get("response")
        if isinstance(key, str):
            return Message("response_ref", key)
        raise _BadAnswer(f"`response[{n}]` is an object without `type`")
    try:
        return hsl.to_message(element)
    except hsl.HslError as exc:
        raise _BadAnswer(f"`response[{n}]`: {exc}") from None

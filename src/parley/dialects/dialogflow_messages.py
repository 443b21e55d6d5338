"""Dialogflow's `Intent.Message`s in a `WebhookResponse`, as parley messages."""

from __future__ import annotations

from parley.dialects.bodies import kind
from parley.model import JSON, Message

_DEFAULT_PLATFORM = "PLATFORM_UNSPECIFIED"


class BadAnswer(Exception):
    """A 200 JSON answer that is not a `WebhookResponse`; the message names the field."""


def messages(answer: dict[str, JSON]) -> list[Message]:
    """The default-platform `fulfillmentMessages`, else `fulfillmentText`; then `payload`."""
    items = answer.get("fulfillmentMessages")
    items = [] if items is None else items
    if not isinstance(items, list):
        raise BadAnswer(f"`fulfillmentMessages` must be a list, got {kind(items)}")
    out: list[Message] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadAnswer(f"`fulfillmentMessages[{n}]` must be an object, got {kind(item)}")
        if item.get("platform", _DEFAULT_PLATFORM) == _DEFAULT_PLATFORM:
            out += _message(item, f"fulfillmentMessages[{n}]")
    text = answer.get("fulfillmentText")
    if text is not None and not isinstance(text, str):
        raise BadAnswer(f"`fulfillmentText` must be a string, got {kind(text)}")
    if not out and text:
        out.append(Message.text(text))
    payload = answer.get("payload")
    if payload is not None and not isinstance(payload, dict):
        raise BadAnswer(f"`payload` must be an object, got {kind(payload)}")
    if payload and Message("custom", payload) not in out:  # the library sends it twice
        out.append(Message("custom", payload))
    return out


def _message(item: dict[str, JSON], where: str) -> list[Message]:
    if "text" in item:
        texts = _field(item, "text", where).get("text")
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise BadAnswer(f"`{where}.text.text` must be a list of strings")
        return [Message.text(t) for t in texts if t]
    if "quickReplies" in item:
        body = _field(item, "quickReplies", where)
        replies = _strings(body, "quickReplies", f"{where}.quickReplies")
        buttons = [{"title": r, "type": "postback", "value": r} for r in replies]
        return [Message("quick_replies", {"title": _str(body, "title"), "buttons": buttons})]
    if "card" in item:
        return [Message("card", _card(_field(item, "card", where), f"{where}.card"))]
    if "image" in item:
        uri = _str(_field(item, "image", where), "imageUri")
        if not uri:
            raise BadAnswer(f"`{where}.image` has no `imageUri`")
        return [Message("image", uri)]
    if "payload" in item:
        return [Message("custom", _field(item, "payload", where))]
    rest = {k: v for k, v in item.items() if k != "platform"}
    return [Message("custom", rest)]  # a type parley has no model for: the channel may know it


def _card(card: dict[str, JSON], where: str) -> dict[str, JSON]:
    buttons = card.get("buttons") or []
    if not isinstance(buttons, list) or not all(isinstance(b, dict) for b in buttons):
        raise BadAnswer(f"`{where}.buttons` must be a list of objects")
    return {
        "title": _str(card, "title"),
        "subtitle": _str(card, "subtitle"),
        "image_url": _str(card, "imageUri"),
        "buttons": [_button(_str(b, "text"), _str(b, "postback")) for b in buttons],
    }


def _button(text: str, postback: str) -> dict[str, JSON]:
    if postback.startswith(("https://", "http://")):
        return {"title": text, "type": "web_url", "value": postback}
    return {"title": text, "type": "postback", "value": postback or text}


def _field(item: dict[str, JSON], key: str, where: str) -> dict[str, JSON]:
    value = item[key]
    if not isinstance(value, dict):
        raise BadAnswer(f"`{where}.{key}` must be an object, got {kind(value)}")
    return value


def _strings(body: dict[str, JSON], key: str, where: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadAnswer(f"`{where}.{key}` must be a list of strings")
    return value


def _str(body: dict[str, JSON], key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""

"""Init.ai's outbound message parts as parley `Message`s, its users patch, its Go templates.

Pure helpers of `parley.dialects.initai` (protocols/initai.md §4.1, §9.5-6). Anything the
wire gets wrong raises `PartError`; the dialect turns that into a failed `Outcome`.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from parley.model import JSON, Message

RESPONSE_PREFIX = "app:response:name:"
POSTBACK_PREFIX = "initai-postback:"
"""A quick reply's or carousel button's value: this prefix, then the postback content as JSON.
It comes back as the user's message, and the dialect sends it on as a `postback` part."""

_GO_FIELD = re.compile(r"\{\{\s*\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?\s*\}\}")
_GO_TRIM_LEFT = re.compile(r"\s*\{\{-\s")
_GO_TRIM_RIGHT = re.compile(r"\s-\}\}\s*")


class PartError(ValueError):
    """The logic result is malformed; the message says where."""


def render_parts(parts: list[JSON]) -> tuple[list[Message], list[str]]:
    """`messages[0].parts` in order as parley messages, plus notes on parts skipped."""
    messages: list[Message] = []
    notes: list[str] = []
    for index, part in enumerate(parts):
        if not isinstance(part, dict):
            raise PartError(f"messages[0].parts[{index}] is not an object")
        kind, content = part.get("content_type"), part.get("content")
        renderer = _RENDERERS.get(str(kind))
        if renderer is None:
            notes.append(f"outbound part type {kind!r} is not supported; it was skipped")
            continue
        try:
            messages.extend(renderer(content))
        except (KeyError, TypeError, AttributeError) as exc:
            raise PartError(f"messages[0].parts[{index}] ({kind}) is malformed: {exc}") from None
    return messages, notes


def postback_value(payload: JSON, text: str) -> str:
    """The button value that comes back as an Init.ai postback part."""
    payload = payload if isinstance(payload, dict) else {}
    content = {
        "text": text,
        "data": payload.get("data"),
        "stream": payload.get("stream"),
        "version": "1",
    }
    return POSTBACK_PREFIX + json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def postback_content(text: str) -> dict[str, JSON] | None:
    """The postback content a button value carries, or None for typed text."""
    if not text.startswith(POSTBACK_PREFIX):
        return None
    try:
        content = json.loads(text[len(POSTBACK_PREFIX) :])
    except ValueError:
        return None
    return content if isinstance(content, dict) else None


def render_go_template(source: str, data: JSON) -> str:
    """Go `text/template`'s `{{.Key}}` and `{{.a.b}}` (the subset scripts use), with `{{- -}}`
    trimming; `{{.}}` is the whole data; a missing key renders as `<no value>`, as in Go."""

    def field(match: re.Match[str]) -> str:
        value: Any = data
        for key in match.group(1).split(".") if match.group(1) else []:
            if not isinstance(value, dict) or key not in value:
                return "<no value>"
            value = value[key]
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    source = _GO_TRIM_RIGHT.sub("}}", _GO_TRIM_LEFT.sub("{{", source))
    return _GO_FIELD.sub(field, source)


def apply_patch(document: dict[str, JSON], ops: JSON) -> dict[str, JSON]:
    """RFC 6902 `ops` (add, remove, replace, test; what jiff emits) applied to a copy."""
    if not isinstance(ops, list):
        raise PartError("users_patch is not a list")
    doc = copy.deepcopy(document)
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise PartError(f"users_patch has a malformed operation: {op!r}")
        *parents, last = _pointer(op["path"])
        target: Any = doc
        for key in parents:
            if not isinstance(target, dict) or key not in target:
                raise PartError(f"users_patch path {op['path']!r} does not exist")
            target = target[key]
        if not isinstance(target, dict):
            raise PartError(f"users_patch path {op['path']!r} is not inside an object")
        name = op.get("op")
        if name == "test":
            if target.get(last) != op.get("value") or last not in target:
                raise PartError(f"users_patch test failed at {op['path']!r}")
        elif name in ("add", "replace"):
            if name == "replace" and last not in target:
                raise PartError(f"users_patch cannot replace missing {op['path']!r}")
            target[last] = op.get("value")
        elif name == "remove":
            if target.pop(last, _MISSING) is _MISSING:
                raise PartError(f"users_patch cannot remove missing {op['path']!r}")
        else:
            raise PartError(f"users_patch operation {name!r} is not supported")
    return doc


_MISSING = object()


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise PartError(f"users_patch path {path!r} is not a JSON pointer")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _text(content: JSON) -> list[Message]:
    return [Message.text(str(content))]


def _prepared(content: JSON) -> list[Message]:
    name = str(content["response_name"])
    key = name.removeprefix(RESPONSE_PREFIX)
    data = content.get("response_data")
    meta: dict[str, JSON] = {"response_data": data} if data else {}
    return [Message("response_ref", key, meta)]


def _prepared_with_replies(content: JSON) -> list[Message]:
    buttons = [
        {
            "title": str(reply.get("text", "")),
            "type": "postback",
            "value": postback_value(reply.get("payload"), str(reply.get("text", ""))),
        }
        for reply in content.get("replies_content") or []
    ]
    return [*_prepared(content), Message("quick_replies", {"title": "", "buttons": buttons})]


def _text_template(content: JSON) -> list[Message]:
    return [Message.text(render_go_template(content["template_string"], content["template_data"]))]


def _image(content: JSON) -> list[Message]:
    alt = content.get("alternative_text")
    return [Message("image", str(content["image_url"]), {"alt": alt} if alt else {})]


def _carousel(content: JSON) -> list[Message]:
    cards = []
    for item in content["payload"]["items"]:
        buttons = []
        for action in item.get("actions") or []:
            text = str(action.get("text", ""))
            if action.get("type") == "link":
                buttons.append({"title": text, "type": "web_url", "value": action.get("uri")})
            else:
                value = postback_value(action.get("payload"), text)
                buttons.append({"title": text, "type": "postback", "value": value})
        cards.append(
            {
                "title": item.get("title", ""),
                "subtitle": item.get("description", ""),
                "image_url": item.get("media_url"),
                "buttons": buttons,
            }
        )
    return [Message("carousel", cards)]


_RENDERERS = {
    "text": _text,
    "prepared-outbound-message": _prepared,
    "prepared-outbound-message-with-replies": _prepared_with_replies,
    "text_template": _text_template,
    "image": _image,
    "carousel_list": _carousel,
}

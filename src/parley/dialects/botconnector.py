"""SAP CAI Bot Connector replies -> unified `Message`s (see `Message` in parley.model).

Every reply is `{"type": ..., "content": ...}` (plus optional keys such as `delay`). A reply
that is more than plain text keeps the original in `meta["cai"]`, so a CAI channel can
replay it.

| Bot Connector | Message |
|---|---|
| `text` | `text` |
| `picture`, `image` | `image` (the URL) |
| `video`, `file` | `video`, `file` (the URL) |
| `quickReplies` | `quick_replies` {title, buttons: [{title, type: postback, value}]} |
| `buttons` | `buttons` {title, buttons: [{title, type, value}]} |
| `card` | `card` {title, subtitle, image_url, buttons} |
| `carousel` | `carousel` [card, ...] |
| `list` | `list` {elements: [card, ...], buttons} |
| anything else | `custom`, the reply as content |
"""

from __future__ import annotations

from collections.abc import Callable

from parley.model import JSON, Message

Reply = dict[str, JSON]


class ReplyError(ValueError):
    """A reply of a known type whose shape is wrong; the message says where."""


def to_message(reply: Reply) -> Message:
    """The unified message for one Bot Connector reply."""
    kind = reply.get("type")
    if not isinstance(kind, str):
        raise ReplyError("`type` must be a string")
    convert = _CONVERTERS.get(kind)
    if convert is None:
        return Message("custom", reply, {"cai": reply})
    if kind == "text" and set(reply) == {"type", "content"}:
        return Message.text(_text(reply))
    return Message(_TYPES.get(kind, kind), convert(reply), {"cai": reply})


def _text(reply: Reply) -> str:
    content = reply.get("content")
    if not isinstance(content, str | int | float) or isinstance(content, bool):
        raise ReplyError("text `content` must be a string")
    return str(content)


def _url(reply: Reply) -> str:
    content = reply.get("content")
    if not isinstance(content, str) or not content:
        raise ReplyError(f"{reply['type']} `content` must be a URL string")
    return content


def _quick_replies(reply: Reply) -> JSON:
    content = _object(reply.get("content"), "content")
    buttons = _list(content, "buttons", "content")
    return {
        "title": _str(content, "title"),
        "buttons": [
            {"title": _str(b, "title"), "type": "postback", "value": _str(b, "value")}
            for b in (_object(b, f"content.buttons[{n}]") for n, b in enumerate(buttons))
        ],
    }


def _buttons(reply: Reply) -> JSON:
    content = _object(reply.get("content"), "content")
    return {"title": _str(content, "title"), "buttons": _button_list(content, "content")}


def _card(reply: Reply) -> JSON:
    return _card_content(reply.get("content"), "content")


def _carousel(reply: Reply) -> JSON:
    content = reply.get("content")
    if not isinstance(content, list):
        raise ReplyError("carousel `content` must be a list of cards")
    return [_card_content(card, f"content[{n}]") for n, card in enumerate(content)]


def _list_reply(reply: Reply) -> JSON:
    content = _object(reply.get("content"), "content")
    elements = _list(content, "elements", "content")
    return {
        "elements": [
            _card_content(element, f"content.elements[{n}]") for n, element in enumerate(elements)
        ],
        "buttons": _button_list(content, "content"),
    }


def _card_content(value: JSON, where: str) -> dict[str, JSON]:
    card = _object(value, where)
    return {
        "title": _str(card, "title"),
        "subtitle": _str(card, "subtitle"),
        "image_url": _str(card, "imageUrl") or _str(card, "image_url"),
        "buttons": _button_list(card, where),
    }


def _button_list(holder: dict[str, JSON], where: str) -> list[JSON]:
    buttons = _list(holder, "buttons", where)
    out: list[JSON] = []
    for n, value in enumerate(buttons):
        button = _object(value, f"{where}.buttons[{n}]")
        out.append(
            {
                "title": _str(button, "title"),
                "type": _str(button, "type") or "postback",
                "value": _str(button, "value"),
            }
        )
    return out


def _object(value: JSON, where: str) -> dict[str, JSON]:
    if not isinstance(value, dict):
        raise ReplyError(f"`{where}` must be an object")
    return value


def _list(holder: dict[str, JSON], key: str, where: str) -> list[JSON]:
    value = holder.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReplyError(f"`{where}.{key}` must be a list")
    return value


def _str(holder: dict[str, JSON], key: str) -> str:
    value = holder.get(key)
    return "" if value is None else str(value)


_CONVERTERS: dict[str, Callable[[Reply], JSON]] = {
    "text": _text,
    "picture": _url,
    "image": _url,
    "video": _url,
    "file": _url,
    "quickReplies": _quick_replies,
    "buttons": _buttons,
    "card": _card,
    "carousel": _carousel,
    "list": _list_reply,
}
_TYPES = {"picture": "image", "quickReplies": "quick_replies"}


def to_reply(message: Message) -> Reply:
    """The Bot Connector reply for a unified message: the original when it came from CAI,
    else the closest Bot Connector type (`custom` content passes through as it is)."""
    original = message.meta.get("cai")
    if isinstance(original, dict):
        return original
    kind, content = message.type, message.content
    if kind in ("quick_replies", "buttons"):
        kind = "quickReplies" if kind == "quick_replies" else "buttons"
        return {"type": kind, "content": {**content, "buttons": _cai_buttons(content)}}
    if kind == "card":
        return {"type": "card", "content": _cai_card(content)}
    if kind == "carousel":
        return {"type": "carousel", "content": [_cai_card(card) for card in content]}
    if kind == "image":
        return {"type": "picture", "content": content}
    if kind == "custom" and isinstance(content, dict) and "type" in content:
        return content
    return {"type": kind, "content": content}


def _cai_buttons(content: JSON) -> list[JSON]:
    buttons = content.get("buttons", []) if isinstance(content, dict) else []
    return [
        {
            "title": b.get("title", ""),
            "value": b.get("value", ""),
            "type": b.get("type", "postback"),
        }
        for b in buttons
        if isinstance(b, dict)
    ]


def _cai_card(card: JSON) -> JSON:
    if not isinstance(card, dict):
        return card
    out = {k: v for k, v in card.items() if k != "image_url"}
    if "image_url" in card:
        out["imageUrl"] = card["image_url"]
    out["buttons"] = _cai_buttons(card)
    return out

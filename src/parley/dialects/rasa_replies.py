"""Rasa response objects (`dispatcher.utter_message`, `bot` event data) -> unified `Message`s.

Empty values (`null`, `""`, `[]`, `{}`) mean "not present", as in Rasa. One response can
carry several parts; they become messages in this order:

| Rasa | Message |
|---|---|
| `text` with `buttons` | `buttons` (title: text; `payload` posts back, `url` opens) |
| `text` with `quick_replies` | `quick_replies` |
| `text` alone | `text` |
| `response`/`template` without `text` | `response_ref`, a text from the bot's `responses:` |
| `image` | `image` |
| `attachment` | `file` (a URL), else `custom` `{"attachment": ...}` |
| `elements` | `carousel` of cards |
| `custom` (`json_message=`) | `custom` |

Each message keeps the original response object in `meta["rasa"]`.
"""

from __future__ import annotations

from parley.model import JSON, Message

Reply = dict[str, JSON]


class BadReply(ValueError):
    """An answer part whose shape Rasa does not define; the message says where."""


def to_messages(replies: list[JSON], where: str) -> list[Message]:
    out: list[Message] = []
    for n, reply in enumerate(replies):
        if not isinstance(reply, dict):
            raise BadReply(f"`{where}[{n}]` must be an object")
        out += _parts(reply, f"{where}[{n}]")
    return out


def _parts(reply: Reply, where: str) -> list[Message]:
    meta: dict[str, JSON] = {"rasa": {k: v for k, v in reply.items() if v not in _EMPTY}}
    out = [_lead(reply, where)]
    image, attachment = reply.get("image"), reply.get("attachment")
    if image:
        out.append(Message("image", str(image)))
    if isinstance(attachment, str) and attachment:
        out.append(Message("file", attachment))
    elif attachment:
        out.append(Message("custom", {"attachment": attachment}))
    elements = _list(reply, "elements", where)
    if elements:
        cards = [_card(e, f"{where}.elements[{n}]") for n, e in enumerate(elements)]
        out.append(Message("carousel", cards))
    if reply.get("custom"):
        out.append(Message("custom", reply["custom"]))
    return [Message(m.type, m.content, meta) for m in out if m.content not in _EMPTY]


_EMPTY: tuple[JSON, ...] = (None, "", [], {})


def _lead(reply: Reply, where: str) -> Message:
    text = reply.get("text")
    text = "" if text is None else str(text)
    for kind in ("buttons", "quick_replies"):
        buttons = _list(reply, kind, where)
        if buttons:
            choices = [_button(b, f"{where}.{kind}[{n}]") for n, b in enumerate(buttons)]
            return Message(kind, {"title": text, "buttons": choices})
    if not text:
        name = reply.get("response") or reply.get("template")
        if isinstance(name, str) and name:
            return Message("response_ref", name)
    return Message.text(text)


def _button(button: JSON, where: str) -> dict[str, JSON]:
    if not isinstance(button, dict):
        raise BadReply(f"`{where}` must be an object")
    title = str(button.get("title") or "")
    url = button.get("url")
    if isinstance(url, str) and url:
        return {"title": title, "value": url, "type": "web_url"}
    payload = button.get("payload")
    return {"title": title, "value": title if payload is None else str(payload), "type": "postback"}


def _card(element: JSON, where: str) -> dict[str, JSON]:
    """A generic-template element (`title`, `subtitle`, `image_url`, `buttons`) as a card."""
    if not isinstance(element, dict):
        raise BadReply(f"`{where}` must be an object")
    buttons = _list(element, "buttons", where)
    return {
        "title": str(element.get("title") or ""),
        "subtitle": str(element.get("subtitle") or ""),
        "image_url": str(element.get("image_url") or ""),
        "buttons": [_button(b, f"{where}.buttons[{n}]") for n, b in enumerate(buttons)],
    }


def _list(holder: Reply, key: str, where: str) -> list[JSON]:
    value = holder.get(key)
    if value in _EMPTY:
        return []
    if not isinstance(value, list):
        raise BadReply(f"`{where}.{key}` must be a list")
    return value

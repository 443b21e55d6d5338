"""Haptik HSL elements -> unified `Message`s (see `Message` in parley.model).

Element shapes follow Haptik's HSL docs: every element has `type` and usually `text` and
`data`; CTAs are "actionables" (`actionable_text`, `uri`, `type`, `payload`). Each structured
message keeps the original element in `meta["hsl"]`, so a Haptik channel can replay it.

| HSL | Message |
|---|---|
| `TEXT` without quick replies | `text` |
| `TEXT` with `data.quick_replies`, `QUICK_REPLY` | `quick_replies` |
| `BUTTON` | `buttons` |
| `CAROUSEL` | `carousel` of cards; a single bare image (Haptik's image element) is `image` |
| `IMAGE` | `image` |
| `FORM` | `quick_replies`, a button per picker option (fields without options: free text) |
| anything else | `custom`, the element as content |
"""

from __future__ import annotations

from collections.abc import Callable

from parley.model import JSON, Message

Element = dict[str, JSON]


class HslError(ValueError):
    """An element of a known type whose shape is wrong; the message says where."""


def to_message(element: Element) -> Message:
    """The unified message for one HSL element."""
    kind = element.get("type")
    if not isinstance(kind, str):
        raise HslError("`type` must be a string")
    convert = _CONVERTERS.get(kind.upper())
    if convert is None:
        return Message("custom", element)
    return convert(element)


def _text(element: Element) -> Message:
    replies = _list(_data(element), "quick_replies")
    if not replies:
        return Message("text", _str(element, "text"), {"hsl": element})
    return _choices("quick_replies", element, replies, "data.quick_replies")


def _quick_reply(element: Element) -> Message:
    data = _data(element)
    key = "quick_replies" if "quick_replies" in data else "items"
    return _choices("quick_replies", element, _list(data, key), f"data.{key}")


def _button(element: Element) -> Message:
    return _choices("buttons", element, _list(_data(element), "items"), "data.items")


def _choices(kind: str, element: Element, actionables: list[JSON], where: str) -> Message:
    buttons = [_action(a, f"{where}[{n}]") for n, a in enumerate(actionables)]
    return Message(kind, {"title": _str(element, "text"), "buttons": buttons}, {"hsl": element})


def _carousel(element: Element) -> Message:
    items = _list(_data(element), "items")
    cards = [_card(item, f"data.items[{n}]") for n, item in enumerate(items)]
    if len(cards) == 1 and _is_bare_image(cards[0]):
        return Message("image", cards[0]["image_url"], {"hsl": element})
    return Message("carousel", cards, {"hsl": element})


def _card(item: JSON, where: str) -> dict[str, JSON]:
    if not isinstance(item, dict):
        raise HslError(f"`{where}` must be an object")
    actionables = _list(item, "actionables", where)
    if isinstance(item.get("mini_actionable"), dict):
        actionables = [*actionables, item["mini_actionable"]]
    subtitle = [_str(item, key) for key in ("sub_title", "description")]
    return {
        "title": _str(item, "title"),
        "subtitle": "\n".join(s for s in subtitle if s),
        "image_url": _thumbnail(item),
        "buttons": [_action(a, f"{where}.actionables[{n}]") for n, a in enumerate(actionables)],
    }


def _is_bare_image(card: dict[str, JSON]) -> bool:
    return bool(card["image_url"]) and not (card["title"] or card["subtitle"] or card["buttons"])


def _image(element: Element) -> Message:
    data = _data(element)
    url = _str(data, "url") or _str(data, "image")
    items = _list(data, "items")
    if not url and items and isinstance(items[0], dict):
        url = _thumbnail(items[0])
    if not url:
        raise HslError("IMAGE element has no image URL (`data.url`)")
    return Message("image", url, {"hsl": element})


def _form(element: Element) -> Message:
    heading = [_str(element, "title") or _str(element, "text"), _str(element, "subtitle")]
    buttons: list[JSON] = []
    for n, field in enumerate(_list(_data(element), "fields")):
        if not isinstance(field, dict):
            raise HslError(f"`data.fields[{n}]` must be an object")
        for option in _list(field, "options", f"data.fields[{n}]"):
            label = str(option)
            buttons.append({"title": label, "type": "postback", "value": label})
    title = "\n".join(h for h in heading if h)
    return Message("quick_replies", {"title": title, "buttons": buttons}, {"hsl": element})


def _action(actionable: JSON, where: str) -> dict[str, JSON]:
    """An actionable as a button: a link opens its URL, anything else posts a message back."""
    if not isinstance(actionable, dict):
        raise HslError(f"`{where}` must be an object")
    title = _str(actionable, "actionable_text")
    payload = actionable.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    url = _str(payload, "url") or _str(payload, "link")
    if url:
        return {"title": title, "type": "web_url", "value": url}
    # `gogo_message` is what Haptik sends to the bot when set; `message` is what the user sees.
    value = _str(payload, "gogo_message") or _str(payload, "message") or title
    return {"title": title, "type": "postback", "value": value}


def _thumbnail(item: Element) -> str:
    thumbnail = item.get("thumbnail")
    if isinstance(thumbnail, dict):
        return _str(thumbnail, "image")
    return thumbnail if isinstance(thumbnail, str) else ""


def _data(element: Element) -> Element:
    data = element.get("data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise HslError(f"{element['type']} element: `data` must be an object")
    return data


def _list(holder: Element, key: str, where: str = "data") -> list[JSON]:
    value = holder.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise HslError(f"`{where}.{key}` must be a list")
    return value


def _str(holder: Element, key: str) -> str:
    value = holder.get(key)
    return "" if value is None else str(value)


_CONVERTERS: dict[str, Callable[[Element], Message]] = {
    "TEXT": _text,
    "QUICK_REPLY": _quick_reply,
    "QUICK_REPLIES": _quick_reply,
    "BUTTON": _button,
    "CAROUSEL": _carousel,
    "IMAGE": _image,
    "FORM": _form,
}

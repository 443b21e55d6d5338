"""Builders for Haptik HSL elements, in the shapes parley's HSL decoder turns into buttons,
quick replies, carousels and images (docs/webhooks.md, "HSL elements")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Actionable = dict[str, Any]
"""One HSL actionable (a button): see `hsl_button`."""


def hsl_button(title: str, message: str | None = None, *, url: str | None = None) -> Actionable:
    """A button: with `url` it opens the link; otherwise a click sends `message` (default:
    `title`) back to the bot as the user's next message."""
    if url is not None:
        return {"actionable_text": title, "type": "LINK", "uri": "", "payload": {"url": url}}
    sent = title if message is None else message
    return {
        "actionable_text": title,
        "type": "TEXT_ONLY",
        "uri": "",
        "payload": {"message": sent, "gogo_message": sent},
    }


def hsl_buttons(text: str, *buttons: str | Actionable) -> dict[str, Any]:
    """A `BUTTON` element: `text` above `buttons` (strings are buttons sending themselves)."""
    return {"text": text, "type": "BUTTON", "data": {"items": _actionables(buttons)}}


def hsl_quick_replies(text: str, *replies: str | Actionable) -> dict[str, Any]:
    """A `TEXT` element with quick replies (strings are replies sending themselves)."""
    return {"text": text, "type": "TEXT", "data": {"quick_replies": _actionables(replies)}}


def hsl_card(
    title: str,
    subtitle: str = "",
    *,
    image_url: str = "",
    buttons: tuple[str | Actionable, ...] | list[str | Actionable] = (),
) -> dict[str, Any]:
    """One carousel item: a card with a title, subtitle, image and buttons."""
    return {
        "title": title,
        "sub_title": subtitle,
        "thumbnail": {"image": image_url},
        "actionables": _actionables(buttons),
    }


def hsl_carousel(*cards: Mapping[str, Any], text: str = "") -> dict[str, Any]:
    """A `CAROUSEL` element of `hsl_card`s."""
    return {"text": text, "type": "CAROUSEL", "data": {"items": [dict(c) for c in cards]}}


def hsl_image(url: str) -> dict[str, Any]:
    """An image, as Haptik sends one: a carousel with a single bare image item."""
    return {"text": "", "type": "CAROUSEL", "data": {"items": [{"thumbnail": {"image": url}}]}}


def _actionables(items: tuple[str | Actionable, ...] | list[str | Actionable]) -> list[Actionable]:
    return [hsl_button(item) if isinstance(item, str) else dict(item) for item in items]

from __future__ import annotations

import pytest

from parley.dialects.hsl import HslError, to_message
from parley.model import Message


def _actionable(text: str, **payload: str) -> dict[str, object]:
    return {"actionable_text": text, "type": "TEXT_ONLY", "uri": "", "payload": payload}


def test_quick_reply_element_becomes_quick_replies() -> None:
    element = {
        "text": "Pick",
        "type": "QUICK_REPLY",
        "data": {"items": [_actionable("A", message="a")]},
    }

    message = to_message(element)

    assert message == Message(
        "quick_replies",
        {"title": "Pick", "buttons": [{"title": "A", "type": "postback", "value": "a"}]},
        {"hsl": element},
    )


def test_type_is_matched_whatever_its_case() -> None:
    assert to_message({"text": "t", "type": "button", "data": {"items": []}}).type == "buttons"


def test_image_element_uses_its_url() -> None:
    element = {"type": "IMAGE", "data": {"url": "https://img.example.com/a.png"}}

    assert to_message(element) == Message(
        "image", "https://img.example.com/a.png", {"hsl": element}
    )


def test_image_element_without_url_is_an_error() -> None:
    with pytest.raises(HslError, match="no image URL"):
        to_message({"type": "IMAGE", "data": {}})


def test_several_bare_images_stay_a_carousel() -> None:
    items = [{"thumbnail": {"image": f"https://img.example.com/{n}.png"}} for n in (1, 2)]

    message = to_message({"type": "CAROUSEL", "data": {"items": items}})

    assert message.type == "carousel"
    assert [card["image_url"] for card in message.content] == [
        "https://img.example.com/1.png",
        "https://img.example.com/2.png",
    ]


def test_actionable_without_payload_posts_its_own_text() -> None:
    element = {"text": "t", "type": "BUTTON", "data": {"items": [{"actionable_text": "Yes"}]}}

    buttons = to_message(element).content["buttons"]

    assert buttons == [{"title": "Yes", "type": "postback", "value": "Yes"}]


def test_gogo_message_is_what_a_postback_sends() -> None:
    element = {
        "text": "t",
        "type": "BUTTON",
        "data": {"items": [_actionable("Stop", message="Stop updates", gogo_message="stop{task}")]},
    }

    assert to_message(element).content["buttons"][0]["value"] == "stop{task}"


@pytest.mark.parametrize(
    ("element", "where"),
    [
        ({"type": "BUTTON", "data": "x"}, "BUTTON element: `data` must be an object"),
        ({"type": "BUTTON", "data": {"items": ["x"]}}, "`data.items[0]` must be an object"),
        ({"type": "CAROUSEL", "data": {"items": [1]}}, "`data.items[0]` must be an object"),
        (
            {"type": "CAROUSEL", "data": {"items": [{"actionables": {}}]}},
            "`data.items[0].actionables` must be a list",
        ),
        ({"type": "FORM", "data": {"fields": [{"options": "a"}]}}, "`data.fields[0].options`"),
    ],
)
def test_malformed_known_elements_say_where(element: dict[str, object], where: str) -> None:
    with pytest.raises(HslError) as info:
        to_message(element)

    assert where in str(info.value)


def test_unknown_element_is_kept_whole_as_custom() -> None:
    element = {"type": "RECEIPT", "data": {"total": 10}}

    assert to_message(element) == Message("custom", element)

"""Typed requests and answer builders, checked against what parley's own decoders read."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from parley.dialects.hsl import to_message
from parley.sdk import (
    AimylogicRequest,
    HaptikRequest,
    HaptikResponse,
    hsl_button,
    hsl_buttons,
    hsl_card,
    hsl_carousel,
    hsl_image,
    hsl_quick_replies,
)


def test_haptik_request_reads_the_documented_payload() -> None:
    request = HaptikRequest.model_validate(
        {
            "node": "check_price",
            "event": "API_INTEGRATION",
            "user": {"user_id": 7, "user_name": "ada", "device_platform": 5, "extra": 1},
            "conversation_no": 2,
            "conversation_data": {"insurance_no": "CDQP12324"},
            "permanent_user_data": {"phone_number": 8826755986},
            "entities": {
                "product_name": [{"detection": "message", "original_text": "speakers",
                                  "entity_value": "speaker"}],
                "quantity": [{"detection": "structured", "original_text": "two",
                              "entity_value": 2}],
            },
            "added_later": True,
        }
    )  # fmt: skip

    assert request.user.user_id == "7" and request.user.device_platform == 5
    assert request.entity("product_name") == "speaker"
    assert request.entity("quantity") == "2"
    assert request.entity("colour") is None
    assert request.entities["product_name"][0].original_text == "speakers"
    assert request.conversation_no == 2


def test_reply_and_fail_set_status_and_leave_unset_data_out() -> None:
    assert HaptikResponse.reply("hi").to_json() == {"status": True, "response": ["hi"]}
    assert HaptikResponse.fail(conversation_data={}).to_json() == {
        "status": False,
        "response": [],
        "conversation_data": {},
    }


def test_hsl_elements_in_a_response_are_sent_as_json_text() -> None:
    element = hsl_buttons("Pick", "A")

    response = HaptikResponse.reply("text", element)

    assert response.response[0] == "text"
    assert json.loads(response.response[1]) == element
    assert HaptikResponse(status=True, response=[element]).response == response.response[1:]


def test_a_response_refuses_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        HaptikResponse(status=True, respones=["typo"])  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("element", "kind", "content"),
    [
        (
            hsl_buttons("Pick", "Tea", hsl_button("Coffee", "price of coffee"),
                        hsl_button("Menu", url="https://shop.example.com/menu")),
            "buttons",
            {"title": "Pick", "buttons": [
                {"title": "Tea", "type": "postback", "value": "Tea"},
                {"title": "Coffee", "type": "postback", "value": "price of coffee"},
                {"title": "Menu", "type": "web_url", "value": "https://shop.example.com/menu"},
            ]},
        ),
        (
            hsl_quick_replies("More?", "yes", "no"),
            "quick_replies",
            {"title": "More?", "buttons": [
                {"title": "yes", "type": "postback", "value": "yes"},
                {"title": "no", "type": "postback", "value": "no"},
            ]},
        ),
        (
            hsl_carousel(hsl_card("Tea", "Rs. 120", image_url="https://i.example.com/t.png",
                                  buttons=["Buy tea"])),
            "carousel",
            [{"title": "Tea", "subtitle": "Rs. 120", "image_url": "https://i.example.com/t.png",
              "buttons": [{"title": "Buy tea", "type": "postback", "value": "Buy tea"}]}],
        ),
        (hsl_image("https://i.example.com/t.png"), "image", "https://i.example.com/t.png"),
    ],
    ids=["buttons", "quick_replies", "carousel", "image"],
)  # fmt: skip
def test_hsl_builders_make_what_parleys_decoder_understands(
    element: dict[str, object], kind: str, content: object
) -> None:
    message = to_message(element)

    assert (message.type, message.content) == (kind, content)


def test_aimylogic_request_splits_fixed_keys_from_variables() -> None:
    wire = {
        "visits": 2,
        "variables": "a variable named variables",
        "action": "start",
        "queryText": "hi",
        "userId": "u-1",
        "channelId": "c-1",
        "channelType": "rest",
        "rawRequest": {"message": {"type": "text", "content": "hi"}},
    }

    request = AimylogicRequest.from_json(wire)

    assert (request.action, request.queryText, request.userId) == ("start", "hi", "u-1")
    assert request.variables == {"visits": 2, "variables": "a variable named variables"}
    assert request.to_json() == wire


def test_aimylogic_request_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        AimylogicRequest.from_json(["start"])

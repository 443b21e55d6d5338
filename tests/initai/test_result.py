"""The result applier: a LogicResult (protocols/initai.md §4) as a parley Outcome."""

from __future__ import annotations

from typing import Any

import pytest

from parley.dialects.initai import InitaiDialect
from parley.dialects.initai_parts import POSTBACK_PREFIX, render_go_template
from parley.model import Message, Outcome, User

from .test_payload import logic_call

UID = "user-42"
TO = {"to": UID, "to_type": "app_user_id"}


def apply(user_data: dict[str, Any] | None = None, **payload: Any) -> Outcome:
    call = logic_call(user=User(id="42", full_name="", data=user_data or {}))
    body = {"version": "0.0.14", "payload": {"execution_id": "inv-1", **payload}}
    envelope = {"invocation": {"invocation_id": "inv-1"}, "result": body}
    return InitaiDialect().apply_result(call, envelope)


def parts(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"parts": [{**item, **TO} for item in items]}]


def test_the_notes_example_result_becomes_messages_state_and_user_data() -> None:
    state = {"currentExpectations": None, "currentExpectationsStreamStack": [], "userName": "A"}
    outcome = apply(
        conversation_state=state,
        messages=parts(
            {
                "content_type": "prepared-outbound-message",
                "content": {
                    "response_name": "app:response:name:greeting/by_name",
                    "response_data": {"string/name": "Alice"},
                },
            },
            {"content_type": "text", "content": "Nice to meet you, Alice!"},
        ),
        reset_users=[],
        suggestions=[],
        user_metadata_updates={UID: {"greetedBy": "harness-logic"}},
        users_patch=[
            {"op": "test", "path": f"/{UID}/first_name", "value": ""},
            {"op": "replace", "path": f"/{UID}/first_name", "value": "Alice"},
            {"op": "test", "path": f"/{UID}/metadata", "value": None},
            {"op": "replace", "path": f"/{UID}/metadata", "value": {"greetedBy": "harness-logic"}},
        ],
    )
    assert outcome.failure is None
    assert outcome.data == state
    assert outcome.messages == [
        Message("response_ref", "greeting/by_name", {"response_data": {"string/name": "Alice"}}),
        Message.text("Nice to meet you, Alice!"),
    ]
    assert outcome.user_data == {"first_name": "Alice", "metadata": {"greetedBy": "harness-logic"}}


def test_no_user_changes_leave_user_data_alone() -> None:
    outcome = apply({"phone": "1"}, conversation_state={}, users_patch=[])
    assert outcome.user_data is None


def test_other_user_data_survives_a_user_update() -> None:
    patch = [{"op": "replace", "path": f"/{UID}/last_name", "value": "Liddell"}]
    assert apply({"phone": "1"}, users_patch=patch).user_data == {
        "phone": "1",
        "last_name": "Liddell",
    }


def test_only_whitelisted_user_fields_reach_user_data() -> None:
    patch = [{"op": "add", "path": f"/{UID}/is_admin", "value": True}]
    outcome = apply(users_patch=patch)
    assert outcome.failure is None and outcome.user_data is None


def test_a_failed_patch_test_fails_the_result() -> None:
    patch = [{"op": "test", "path": f"/{UID}/first_name", "value": "Bob"}]
    assert apply(users_patch=patch).failure == (
        f"invalid logic result: users_patch test failed at '/{UID}/first_name'"
    )


def test_resetting_the_end_user_clears_its_fields_and_the_state() -> None:
    data = {"first_name": "Alice", "metadata": {"x": 1}, "phone": "1"}
    outcome = apply(data, conversation_state={"userName": "A"}, reset_users=[UID, UID])
    assert outcome.user_data == {"phone": "1"}
    assert outcome.data == {}


def test_absent_state_leaves_the_conversation_data_as_it_is() -> None:
    assert apply(messages=parts({"content_type": "text", "content": "hi"})).data is None


def test_replies_become_quick_replies_that_post_back_to_their_stream() -> None:
    outcome = apply(
        messages=parts(
            {
                "content_type": "prepared-outbound-message-with-replies",
                "content": {
                    "response_name": "menu/offer",
                    "response_data": None,
                    "replies_content": [
                        {
                            "type": "reply",
                            "text": "Pizza",
                            "icon_url": None,
                            "payload": {
                                "data": {"dish": "pizza"},
                                "version": "1",
                                "stream": "pick",
                            },
                        }
                    ],
                },
            }
        )
    )
    ref, replies = outcome.messages
    assert ref == Message("response_ref", "menu/offer")
    (button,) = replies.content["buttons"]
    assert (replies.type, button["title"], button["type"]) == ("quick_replies", "Pizza", "postback")
    assert button["value"] == (
        POSTBACK_PREFIX + '{"text":"Pizza","data":{"dish":"pizza"},"stream":"pick","version":"1"}'
    )


def test_text_templates_images_and_carousels_render() -> None:
    outcome = apply(
        messages=parts(
            {
                "content_type": "text_template",
                "content": {
                    "template_type": "go",
                    "template_string": "My name is {{.Name}}, {{ .Missing }}",
                    "template_data": {"Name": "Init"},
                },
            },
            {"content_type": "image", "content": {"image_url": "http://i/x.png"}},
            {
                "content_type": "carousel_list",
                "content": {
                    "version": "1",
                    "payload": {
                        "items": [
                            {
                                "title": "Margherita",
                                "description": "Tomato",
                                "media_url": "http://i/m.png",
                                "media_type": "image/png",
                                "actions": [
                                    {"type": "link", "text": "More", "uri": "http://m"},
                                    {
                                        "type": "postback",
                                        "text": "Buy",
                                        "payload": {"stream": "buy"},
                                    },
                                ],
                            }
                        ]
                    },
                },
            },
        )
    )
    text, image, carousel = outcome.messages
    assert text == Message.text("My name is Init, <no value>")
    assert image == Message("image", "http://i/x.png")
    (card,) = carousel.content
    assert (carousel.type, card["title"], card["subtitle"]) == ("carousel", "Margherita", "Tomato")
    link, buy = card["buttons"]
    assert link == {"title": "More", "type": "web_url", "value": "http://m"}
    assert buy["type"] == "postback" and buy["value"].startswith(POSTBACK_PREFIX)


def test_unknown_parts_are_skipped_with_a_note_and_suggestions_are_noted() -> None:
    outcome = apply(
        messages=parts({"content_type": "video", "content": {}}),
        suggestions=[{"content_type": "text", "suggestion_type": "message", "text": "Upsell"}],
    )
    assert outcome.messages == []
    assert outcome.notes == [
        "outbound part type 'video' is not supported; it was skipped",
        'suggestions for agents: ["Upsell"]',
    ]


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        ({}, "the body has no `result.payload` object"),
        ({"result": {"payload": {"execution_id": "other"}}}, "execution_id 'other' is not"),
        ({"result": {"payload": {"conversation_state": []}}}, "conversation_state is not an"),
        ({"result": {"payload": {"messages": [{"parts": [1]}]}}}, "messages[0].parts[0] is not"),
    ],
)
def test_malformed_results_fail_with_the_reason(envelope: dict[str, Any], reason: str) -> None:
    outcome = InitaiDialect().apply_result(logic_call(), envelope)
    assert outcome.failure is not None and reason in outcome.failure


def test_go_templates_reach_nested_keys_and_print_json_for_non_strings() -> None:
    data = {"a": {"b": "deep"}, "n": 3}
    assert render_go_template("{{.a.b}} {{.n}} {{- .x -}}", data) == "deep 3<no value>"

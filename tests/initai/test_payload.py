"""The LogicInvocation webhook body, field by field against protocols/initai.md §3.1 and §9.2-3."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from parley.bot.schema import LogicWebhookSpec
from parley.dialects import get_dialect
from parley.dialects.initai import LogicInvocation
from parley.dialects.initai_parts import postback_value
from parley.model import Call, EntityValue, IntentMatch, Parse, User
from tests.dialects.sample import sample_call

WEBHOOK = LogicWebhookSpec(url="http://logic.test/", headers={"X-Team": "blue"})
SPEC = LogicInvocation(WEBHOOK, "inv-1", "tok.en.sig", "http://parley.test:8000/")


def logic_call(text: str = "I'm Alice", intent: str | None = "provide/name", **kw: Any) -> Call:
    parse = Parse(text, "en")
    if intent:
        parse.intents = [IntentMatch(intent, 0.912345)]
    parse.entities = {"name": [EntityValue("Alice", "alice")]}
    base = replace(sample_call(), kind="logic", node="logic", spec=SPEC, text=text, parse=parse)
    return replace(base, now=1_790_000_000.25, **kw)


def payload(call: Call) -> dict[str, Any]:
    request = get_dialect("initai").encode(call, "http://logic.test/")
    body: dict[str, Any] = json.loads(request.body)
    assert (body["event_type"], body["data"]["version"]) == ("LogicInvocation", "1")
    assert body["data"]["format"] == "plain_object"
    result: dict[str, Any] = body["data"]["payload"]
    return result


def part(call: Call) -> dict[str, Any]:
    result: dict[str, Any] = payload(call)["current_conversation"]["messages"][0]["parts"][0]
    return result


def test_invocation_fields_come_from_the_registered_invocation() -> None:
    sent = payload(logic_call())
    assert sent["execution_data"]["execution_id"] == "inv-1"
    assert sent["invocation_data"] == {
        "invocation_id": "inv-1",
        "initiated_at": "2026-09-21T14:13:20.250Z",
        "auth_token": "tok.en.sig",
        "api": {"base_url": "http://parley.test:8000"},
    }


def test_headers_of_the_logic_webhook_are_sent() -> None:
    request = get_dialect("initai").encode(logic_call(), "http://logic.test/")
    assert request.headers == {"Content-Type": "application/json", "X-Team": "blue"}


def test_conversation_data_is_the_state_and_the_message_comes_first() -> None:
    conversation = payload(logic_call())["current_conversation"]
    assert conversation["state"] == {"insurance_no": "CDQP12324", "payment_mode": "COD"}
    assert conversation["conversation_message_index_to_process"] == 0
    assert conversation["messages"][0]["sender_role"] == "end-user"
    assert len(conversation["messages"][0]["parts"]) == 1


def test_empty_data_is_sent_as_an_empty_state_object() -> None:
    call = logic_call()
    call.conversation.data = {}
    assert payload(call)["current_conversation"]["state"] == {}


def test_an_intent_base_slash_sub_becomes_base_and_sub_type() -> None:
    assert part(logic_call())["classification"] == {
        "overall_confidence": 0.9123,
        "base_type": {"value": "provide", "confidence": 0.9123},
        "sub_type": {"value": "name", "confidence": 0.9123},
    }


def test_an_intent_without_slash_has_only_a_base_type() -> None:
    classification = part(logic_call(intent="greeting"))["classification"]
    assert classification["base_type"]["value"] == "greeting"
    assert "sub_type" not in classification


def test_no_intent_sends_no_classification_but_slots_are_always_there() -> None:
    call = logic_call(intent=None)
    assert call.parse is not None
    call.parse.entities = {}
    sent = part(call)
    assert "classification" not in sent
    assert sent["slots"] == {}


def test_entities_become_generic_role_slots() -> None:
    assert part(logic_call())["slots"]["name"] == {
        "entity": "name",
        "base_type": "string",
        "roles": ["generic"],
        "values_by_role": {
            "generic": [
                {"value": "Alice", "raw_value": "alice", "canonicalized": True, "parsed": None}
            ]
        },
    }


def test_a_reply_button_value_is_sent_as_a_postback_part() -> None:
    value = postback_value({"stream": "pick", "data": {"dish": "pizza"}, "version": "1"}, "Pizza")
    sent = part(logic_call(text=value, intent=None))
    assert sent["content_type"] == "postback"
    assert sent["content"] == {
        "text": "Pizza",
        "data": {"dish": "pizza"},
        "stream": "pick",
        "version": "1",
    }


def test_the_end_user_is_the_only_user_and_never_has_an_integer_like_id() -> None:
    call = logic_call(user=User(id="42", full_name="Alice Liddell", data={"metadata": {"a": 1}}))
    sent = payload(call)
    assert list(sent["users"]) == ["user-42"]
    assert sent["current_conversation"]["__private_temp_user_id"] == "user-42"
    user = sent["users"]["user-42"]
    assert (user["id"], user["first_name"], user["last_name"]) == ("user-42", "Alice", "Liddell")
    assert user["metadata"] == {"a": 1}


def test_the_application_is_the_bot_with_an_empty_environment() -> None:
    application = payload(logic_call())["current_application"]
    assert (application["id"], application["environment"]) == ("shop", {})

"""What the golden files do not show: the tracker built from a parse, state and settings."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from parley.bot.schema import AuthSpec, WebhookSpec
from parley.dialects import get_dialect
from parley.model import Call, EntityValue, IntentMatch, Parse, State

from .sample import URL, sample_call

RASA = get_dialect("rasa")


def _rasa_call(**spec: Any) -> Call:
    call = sample_call()
    speaker = EntityValue("speaker", "speakers", start=17, end=25)
    parse = Parse(
        text=call.text,
        language="en",
        intents=[IntentMatch("ask_price", 0.97312), IntentMatch("greet", 0.01)],
        entities={"product_name": [speaker]},
    )
    webhook = WebhookSpec(url=URL, dialect="rasa", **spec)
    return replace(call, spec=webhook, parse=parse, now=1_732_224_005.4)


def _body(call: Call) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(RASA.encode(call, URL).body)
    return body


def test_webhook_action_names_the_action_and_the_node_is_the_default() -> None:
    assert _body(_rasa_call(action="action_price"))["next_action"] == "action_price"
    assert _body(_rasa_call())["next_action"] == "check_price"


def test_latest_message_carries_the_parse_as_rasa_nlu_would() -> None:
    latest = _body(_rasa_call())["tracker"]["latest_message"]

    assert latest["intent"] == {"name": "ask_price", "confidence": 0.9731}
    assert [i["name"] for i in latest["intent_ranking"]] == ["ask_price", "greet"]
    assert latest["entities"] == [
        {
            "entity": "product_name",
            "value": "speaker",
            "start": 17,
            "end": 25,
            "extractor": "parley",
        }
    ]


def test_events_end_with_the_collected_values_as_slot_events() -> None:
    """rasa-sdk's `slots_to_validate` reads the trailing `slot` events as form candidates."""
    events = _body(_rasa_call())["tracker"]["events"]

    assert [e["event"] for e in events] == ["action", "user", "slot", "slot", "slot", "slot"]
    assert {e["timestamp"] for e in events} == {1_732_224_005.4}
    assert events[-2] == {
        "event": "slot",
        "timestamp": 1_732_224_005.4,
        "name": "product_name",
        "value": "speaker",
    }


def test_a_collected_value_wins_over_a_data_key_of_the_same_name() -> None:
    call = _rasa_call()
    conversation = replace(call.conversation, data={"product_name": "powerbank", "cart": []})

    slots = _body(replace(call, conversation=conversation))["tracker"]["slots"]

    assert slots["product_name"] == "speaker"
    assert slots["cart"] == []


def test_conversation_waiting_for_an_agent_is_paused() -> None:
    call = _rasa_call()
    conversation = replace(call.conversation, state=State.PENDING)

    assert _body(replace(call, conversation=conversation))["tracker"]["paused"] is True
    assert _body(call)["tracker"]["paused"] is False


def test_domain_lists_intents_entities_slots_and_the_action() -> None:
    domain = _body(_rasa_call(action="action_price"))["domain"]

    assert domain["intents"] == ["ask_price", "greet"]
    assert domain["actions"] == ["action_price"]
    assert "product_name" in domain["entities"]
    assert domain["slots"]["product_name"]["mappings"] == [
        {"type": "from_entity", "entity": "product_name"}
    ]
    assert domain["slots"]["payment_mode"]["mappings"] == [{"type": "custom"}]


def test_headers_and_basic_auth_are_sent_like_rasas_action_endpoint() -> None:
    call = _rasa_call(
        headers={"X-Api-Key": "k1", "content-type": "application/json; charset=utf-8"},
        auth=AuthSpec(type="basic", username="rasa", password="s3cret"),
    )

    headers = RASA.encode(call, URL).headers

    assert headers == {
        "content-type": "application/json; charset=utf-8",
        "X-Api-Key": "k1",
        "Authorization": "Basic cmFzYTpzM2NyZXQ=",
    }

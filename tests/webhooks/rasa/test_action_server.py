"""The rasa dialect through real delivery against a running action server (rasa-sdk, stand-in)."""

from __future__ import annotations

from typing import Any

from parley.bot.schema import WebhookSpec
from parley.model import Call, Conversation, EntityValue, IntentMatch, Parse, User
from parley.webhooks import WebhookCaller

TEXT = "how much is the alarm clock speaker"


def rasa_call(action: str, data: dict[str, Any] | None = None) -> Call:
    speaker = EntityValue("speaker", "alarm clock speaker", start=16, end=35)
    parse = Parse(
        text=TEXT,
        language="en",
        intents=[IntentMatch("ask_price", 0.97), IntentMatch("greet", 0.01)],
        entities={"product_name": [speaker]},
    )
    return Call(
        kind="webhook",
        node="check_price",
        spec=WebhookSpec(url="http://127.0.0.1/webhook", dialect="rasa", action=action),
        entities={"product_name": speaker},
        conversation=Conversation(id="c-rasa", bot="shop", user_id="u-1", data=data or {}),
        user=User(id="u-1", name="priya"),
        text=TEXT,
        parse=parse,
        now=1_732_224_005.4,
    )


async def test_price_action_reads_the_tracker_and_answers_buttons_and_slots(
    caller: WebhookCaller, action_server: str
) -> None:
    call = rasa_call("action_price", data={"visits": 2, "cart": ["powerbank"]})

    outcome, invocation = await caller(call, action_server + "/webhook", "t-1")

    assert (outcome.failure, outcome.status, invocation.status) == (None, True, 200)
    buttons, seen = outcome.messages
    assert buttons.type == "buttons"
    assert buttons.content == {
        "title": "The speaker costs Rs.1599",
        "buttons": [
            {"title": "Buy now", "value": '/buy{"product_name":"speaker"}', "type": "postback"},
            {"title": "See other products", "value": "/list_products", "type": "postback"},
        ],
    }
    assert seen.type == "custom"
    assert seen.content == {
        "sender_id": "c-rasa",
        "text": TEXT,
        "intent": "ask_price",
        "said": "speaker",
        "channel": "rest",
        "visits": 2,
        "domain_slots": ["cart", "product_name", "visits"],
    }
    assert outcome.variables == {"last_product": "speaker", "visits": 3}
    assert outcome.data is None


async def test_rejection_fails_with_the_action_servers_text(
    caller: WebhookCaller, action_server: str
) -> None:
    outcome, invocation = await caller(rasa_call("action_refuse"), action_server + "/webhook", "t")

    assert outcome.failure == "action server: I cannot price that today (HTTP 400)"
    assert (invocation.status, invocation.error) == (400, outcome.failure)


async def test_unknown_action_fails_naming_it(caller: WebhookCaller, action_server: str) -> None:
    outcome, _ = await caller(rasa_call("action_nope"), action_server + "/webhook", "t-1")

    assert outcome.failure == (
        "action server: No registered action found for name 'action_nope'. (HTTP 404)"
    )


async def test_all_slots_reset_replaces_the_conversation_data(
    caller: WebhookCaller, action_server: str
) -> None:
    call = rasa_call("action_forget", data={"visits": 2})

    outcome, _ = await caller(call, action_server + "/webhook", "t-1")

    assert outcome.failure is None
    assert [(m.type, m.content) for m in outcome.messages] == [
        ("image", "https://example.com/bye.png")
    ]
    assert (outcome.data, outcome.variables) == ({"forgotten": True}, None)

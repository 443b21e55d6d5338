"""The dialogflow dialect against the official `dialogflow-fulfillment` library on Express."""

from __future__ import annotations

from parley.dialects.dialogflow import CONTEXTS_KEY
from parley.model import Message
from parley.webhooks import WebhookCaller

from .calls import df_call, next_turn

QUICK_REPLIES = {
    "title": "",
    "buttons": [
        {"title": "Buy now", "type": "postback", "value": "Buy now"},
        {"title": "See other products", "type": "postback", "value": "See other products"},
    ],
}


async def test_library_text_suggestions_and_context_are_understood(
    caller: WebhookCaller, node_url: str
) -> None:
    call = df_call("check_price", "how much is the speaker", product_name="speaker")

    outcome, invocation = await caller(call, node_url + "/webhook", "t-1")

    assert outcome.failure is None, invocation.response_body
    assert outcome.messages == [
        Message.text("The speaker costs Rs.1599."),
        Message("quick_replies", QUICK_REPLIES),
    ]
    assert outcome.variables is not None
    assert outcome.variables["last_product"] == "speaker"
    assert outcome.variables[CONTEXTS_KEY]["contexts"] == {
        "shop": {"lifespanCount": 5, "parameters": {"last_product": "speaker"}}
    }


async def test_library_reads_the_context_in_turn_two_and_deletes_it(
    caller: WebhookCaller, node_url: str
) -> None:
    first = df_call("check_price", "price of powerbank", product_name="powerbank")
    outcome, _ = await caller(first, node_url + "/webhook", "t-1")

    second = next_turn(first, outcome, "buy", "buy it")
    answer, invocation = await caller(second, node_url + "/webhook", "t-2")

    assert answer.messages == [Message.text("Added the powerbank to your cart.")], (
        invocation.response_body
    )
    assert answer.variables is not None
    assert answer.variables[CONTEXTS_KEY]["contexts"] == {}


async def test_library_card_and_payload_become_a_card_and_a_custom_message(
    caller: WebhookCaller, node_url: str
) -> None:
    outcome, invocation = await caller(df_call("show_product"), node_url + "/webhook", "t-1")

    assert outcome.failure is None, invocation.response_body
    assert outcome.messages == [
        Message(
            "card",
            {
                "title": "Alarm clock speaker",
                "subtitle": "Rs.1599",
                "image_url": "https://shop.example.com/speaker.png",
                "buttons": [
                    {
                        "title": "Details",
                        "type": "web_url",
                        "value": "https://shop.example.com/speaker",
                    }
                ],
            },
        ),
        # the library keys a platform-less payload by the request's source, absent here
        Message("custom", {"null": {"channel": "web", "sku": "SPK-1"}}),
    ]


async def test_library_sees_the_query_and_the_language(
    caller: WebhookCaller, node_url: str
) -> None:
    outcome, invocation = await caller(
        df_call("welcome", "hello there"), node_url + "/webhook", "t"
    )

    assert outcome.messages == [Message.text('Welcome! You said "hello there" in en.')], (
        invocation.response_body
    )

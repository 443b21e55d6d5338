"""The dialogflow dialect against a Flask fulfillment webhook that knows nothing of parley."""

from __future__ import annotations

import base64

from parley.bot.schema import AuthSpec
from parley.dialects.dialogflow import CONTEXTS_KEY
from parley.model import Message
from parley.webhooks import WebhookCaller

from .calls import df_call, next_turn
from .flask_app import PASSWORD, USERNAME


async def test_parameters_reach_flask_and_its_text_and_context_come_back(
    caller: WebhookCaller, flask_url: str
) -> None:
    call = df_call("check_price", "how much is the speaker", product_name="speaker")

    outcome, invocation = await caller(call, flask_url + "/webhook", "t-1")

    assert outcome.failure is None
    assert outcome.messages == [Message.text("The speaker costs Rs.1599.")]
    assert outcome.variables is not None
    assert outcome.variables["last_product"] == "speaker"
    assert outcome.variables[CONTEXTS_KEY]["contexts"] == {
        "shop": {"lifespanCount": 5, "parameters": {"last_product": "speaker"}}
    }
    assert invocation.status == 200


async def test_a_context_set_in_turn_one_is_read_by_flask_in_turn_two(
    caller: WebhookCaller, flask_url: str
) -> None:
    first = df_call("check_price", "price of powerbank", product_name="powerbank")
    outcome, _ = await caller(first, flask_url + "/webhook", "t-1")

    second = next_turn(first, outcome, "buy", "buy it")
    answer, _ = await caller(second, flask_url + "/webhook", "t-2")

    assert answer.messages == [Message.text("Added the powerbank to your cart.")]
    assert answer.variables is not None
    assert answer.variables["items"] == ["powerbank"]
    assert answer.variables[CONTEXTS_KEY]["contexts"] == {
        "cart": {"lifespanCount": 10, "parameters": {"items": ["powerbank"]}}
    }


async def test_basic_auth_arrives_and_a_wrong_password_is_refused(
    caller: WebhookCaller, flask_url: str
) -> None:
    echoed, _ = await caller(df_call("check_price"), flask_url + "/echo", "t-1")
    wrong = AuthSpec(type="basic", username=USERNAME, password="nope")
    refused, invocation = await caller(
        df_call("check_price", auth=wrong), flask_url + "/webhook", "t-2"
    )

    token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    headers = echoed.messages[1].content["headers"]
    assert headers["Authorization"] == f"Basic {token}"
    assert headers["Content-Type"] == "application/json"
    assert refused.failure == "webhook answered HTTP 401"
    assert invocation.request_headers["Authorization"] != f"Basic {token}"  # masked in the log


async def test_flask_receives_a_complete_webhook_request(
    caller: WebhookCaller, flask_url: str
) -> None:
    call = df_call("check_price", "how much is the speaker", product_name="speaker")

    outcome, _ = await caller(call, flask_url + "/echo", "t-1")

    body = outcome.messages[1].content["body"]
    result = body["queryResult"]
    assert body["session"] == "projects/parley/agent/sessions/df-1"
    assert result["intent"]["displayName"] == "check_price"
    assert result["parameters"] == {"product_name": "speaker"}
    assert result["outputContexts"][0]["parameters"]["product_name.original"] == "Speaker"
    assert body["originalDetectIntentRequest"] == {"payload": {}}

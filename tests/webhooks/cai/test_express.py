"""Seed 004's Express sample server, a real node process, driven through `WebhookCaller`."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import pytest

from parley.bot.schema import BotSpec
from parley.model import Message, Outcome
from parley.runtime.callers import Callers
from parley.webhooks import WebhookCaller

from .calls import cai_call

BODY = {
    "city": "{{ memory.city.raw }}",
    "visits": "{{ conversation.memory.visits }}",
    "memory": "{{ memory }}",
    "line": 'Weather for {{ memory.person.fullname }} in "{{ memory.city.raw }}"\n',
    "intent": "{{ nlp.intents[0].slug }}",
    "missing": "{{ memory.country.raw }}",
    "fixed": [1, True, None],
}


async def echo(caller: WebhookCaller, url: str, **spec: Any) -> dict[str, Any]:
    outcome, invocation = await caller(cai_call(**spec), url + "/echo", "t-1")
    assert outcome.failure is None, outcome.failure
    assert invocation.status == 200
    assert outcome.data is not None
    return outcome.data


async def test_seed_route_answers_roger_that_and_replaces_memory(
    caller: WebhookCaller, express_url: str
) -> None:
    outcome, invocation = await caller(cai_call(), express_url + "/", "t-1")

    assert outcome == Outcome(messages=[Message.text("Roger that")], data={"key": "value"})
    assert invocation.method == "POST"
    assert invocation.error is None


async def test_default_body_arrives_with_memory_and_nlp(
    caller: WebhookCaller, express_url: str
) -> None:
    received = await echo(caller, express_url)

    assert received["method"] == "POST"
    assert received["headers"]["content-type"] == "application/json"
    conversation, nlp = received["body"]["conversation"], received["body"]["nlp"]
    assert conversation["memory"] == {
        "visits": 2,
        "unit": "C",
        "city": {"value": "paris", "raw": "Paris", "confidence": 1.0},
        "person": {
            "value": "Francois",
            "fullname": "Francois",
            "raw": "Francois",
            "confidence": 1.0,
        },
    }
    assert (conversation["id"], conversation["skill"]) == ("c-1", "get_weather")
    assert nlp["intents"] == [{"slug": "get_weather", "confidence": 0.99}]
    assert nlp["entities"]["city"][0]["raw"] == "Paris"
    assert nlp["timestamp"] == "2017-10-25T21:36:02.071243+00:00"


async def test_custom_body_references_keep_their_json_types(
    caller: WebhookCaller, express_url: str
) -> None:
    received = await echo(caller, express_url, body=BODY)

    assert received["body"] == {
        "city": "Paris",
        "visits": 2,
        "memory": {
            "visits": 2,
            "unit": "C",
            "city": {"value": "paris", "raw": "Paris", "confidence": 1.0},
            "person": {
                "value": "Francois",
                "fullname": "Francois",
                "raw": "Francois",
                "confidence": 1.0,
            },
        },
        "line": 'Weather for Francois in "Paris"\n',
        "intent": "get_weather",
        "missing": None,
        "fixed": [1, True, None],
    }


async def test_get_sends_no_body(caller: WebhookCaller, express_url: str) -> None:
    received = await echo(caller, express_url, method="GET", body=BODY)

    assert received["method"] == "GET"
    assert received["has_body"] is False
    assert "content-type" not in received["headers"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_send_the_body(
    caller: WebhookCaller, express_url: str, method: str
) -> None:
    received = await echo(caller, express_url, method=method)

    assert received["method"] == method
    assert received["body"]["conversation"]["id"] == "c-1"


async def test_basic_auth_arrives(caller: WebhookCaller, express_url: str) -> None:
    auth = {"type": "basic", "username": "recast", "password": "pa:ss wörd"}

    received = await echo(caller, express_url, auth=auth)

    token = base64.b64encode("recast:pa:ss wörd".encode()).decode()
    assert received["headers"]["authorization"] == f"Basic {token}"


async def test_bearer_auth_wins_over_a_header_of_the_same_name(
    caller: WebhookCaller, express_url: str
) -> None:
    received = await echo(
        caller,
        express_url,
        auth={"type": "bearer", "token": "t0ken"},
        headers={"authorization": "Basic old", "X-Api-Key": "k-1"},
    )

    assert received["headers"]["authorization"] == "Bearer t0ken"
    assert received["headers"]["x-api-key"] == "k-1"


async def test_template_fills_auth_headers_and_body_under_the_webhooks_own(
    client: aiohttp.ClientSession, express_url: str
) -> None:
    bot = BotSpec.model_validate(
        {
            "name": "weather",
            "environments": {"test": {"base_url": express_url}},
            "nodes": {"get_weather": {}},
            "templates": {
                "crm": {
                    "auth": {"type": "bearer", "token": "from-template"},
                    "headers": {"X-Team": "crm", "X-Api-Key": "template-key"},
                    "body": {"who": "{{ memory.person.fullname }}"},
                }
            },
        }
    )
    call = cai_call(path="/echo", template="crm", headers={"X-Api-Key": "own-key"})

    outcome, _ = await Callers(client).perform(bot, call, "t-1")

    assert outcome.data is not None
    headers = outcome.data["headers"]
    assert headers["authorization"] == "Bearer from-template"
    assert (headers["x-team"], headers["x-api-key"]) == ("crm", "own-key")
    assert outcome.data["body"] == {"who": "Francois"}


async def test_memory_replaces_data_and_language_switches(
    caller: WebhookCaller, express_url: str
) -> None:
    outcome, _ = await caller(cai_call(), express_url + "/visit", "t-1")

    assert outcome.messages == [Message.text("visit 3 in en")]
    assert outcome.data == {"visits": 3}
    assert outcome.language == "fr"


async def test_every_reply_type_becomes_a_message(caller: WebhookCaller, express_url: str) -> None:
    outcome, _ = await caller(cai_call(), express_url + "/every-reply", "t-1")

    assert outcome.failure is None
    assert [m.type for m in outcome.messages] == [
        "text",
        "image",
        "video",
        "quick_replies",
        "buttons",
        "card",
        "carousel",
        "list",
        "custom",
    ]
    card = outcome.messages[5].content
    assert card["image_url"] == "https://img.example.com/speaker.png"
    assert [b["type"] for b in outcome.messages[4].content["buttons"]] == [
        "postback",
        "web_url",
        "phonenumber",
    ]
    assert [c["title"] for c in outcome.messages[6].content] == ["speaker", "powerbank"]
    assert outcome.messages[8].content == {
        "type": "location",
        "content": {"lat": 48.85, "lng": 2.35},
    }


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_empty_answer_is_success_without_messages(
    caller: WebhookCaller, express_url: str, method: str
) -> None:
    outcome, invocation = await caller(cai_call(method=method), express_url + "/empty", "t-1")

    assert outcome == Outcome()
    assert invocation.status == 200


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/500", "webhook answered HTTP 500"),
        ("/no-such-route", "webhook answered HTTP 404"),
        ("/html", "webhook answered non-JSON (text/html): <html><body>Oops</body></html>"),
    ],
)
async def test_failures_name_what_went_wrong(
    caller: WebhookCaller, express_url: str, path: str, reason: str
) -> None:
    outcome, invocation = await caller(cai_call(), express_url + path, "t-1")

    assert outcome.failure == reason
    assert invocation.error == reason


async def test_refused_connection_is_a_failure(caller: WebhookCaller, refused_url: str) -> None:
    outcome, _ = await caller(cai_call(), refused_url, "t-1")

    assert outcome.failure == "connection refused"


def reporting_bot(base_url: str, report_errors: bool) -> BotSpec:
    return BotSpec.model_validate(
        {
            "name": "weather",
            "environments": {"test": {"base_url": base_url}},
            "settings": {"report_errors": report_errors},
            "nodes": {"get_weather": {}},
        }
    )


async def reports_for(client: aiohttp.ClientSession, base_url: str, conversation: str) -> Any:
    async with client.get(base_url + "/errors") as response:
        reports = (await response.json())["reports"]
    return [r["body"] for r in reports if r["body"]["conversation"]["id"] == conversation]


async def test_failed_call_is_reported_to_the_seeds_errors_route(
    client: aiohttp.ClientSession, express_url: str
) -> None:
    callers = Callers(client)

    outcome, _ = await callers.perform(
        reporting_bot(express_url, True), cai_call("c-report", path="/500?key=secret"), "t-1"
    )
    await callers.aclose()

    assert outcome.failure == "webhook answered HTTP 500"
    assert await reports_for(client, express_url, "c-report") == [
        {
            "message": "webhook answered HTTP 500",
            "webhook": {"method": "POST", "url": "/500"},
            "conversation": {"id": "c-report", "language": "en", "skill": "get_weather"},
            "nlp": {"source": "weather in Paris"},
            "timestamp": "2017-10-25T21:36:02.071243+00:00",
        }
    ]


async def test_failures_are_not_reported_unless_the_bot_asks(
    client: aiohttp.ClientSession, express_url: str
) -> None:
    callers = Callers(client)

    await callers.perform(reporting_bot(express_url, False), cai_call("c-quiet", path="/500"), "t")
    await callers.aclose()

    assert await reports_for(client, express_url, "c-quiet") == []


async def test_unreachable_errors_route_does_not_delay_or_break_the_turn(
    client: aiohttp.ClientSession, refused_url: str
) -> None:
    callers = Callers(client)

    outcome, _ = await callers.perform(
        reporting_bot(refused_url.rsplit("/", 1)[0], True), cai_call(path="/hook"), "t-1"
    )
    await callers.aclose()

    assert outcome.failure == "connection refused"

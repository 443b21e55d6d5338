from __future__ import annotations

import json
from typing import Any

import pytest

from parley.bot.schema import BotWebhookSpec, HttpSpec
from parley.dialects import WireResponse, get_dialect
from parley.dialects.http import pick
from parley.model import Call, Conversation, EntityValue, User

AIMY = BotWebhookSpec(url="http://127.0.0.1:9/hook", headers={"X-Bot": "aimy"})


def call(spec: Any, **kw: Any) -> Call:
    conv = Conversation("c-1", "aimy", "u-1", data={"variable1": 50})
    conv.entities["city"] = EntityValue("Pune", "pune")
    return Call("event", "start", spec, {}, conv, User("u-1"), text="bye", event="event1", **kw)


def response(status: int, body: Any, content_type: str = "application/json") -> WireResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {"Content-Type": content_type}, raw)


def test_aimylogic_request_is_every_variable_plus_the_system_fields() -> None:
    request = get_dialect("aimylogic").encode(call(AIMY), AIMY.url)
    assert (request.method, request.headers["X-Bot"]) == ("POST", "aimy")
    assert json.loads(request.body) == {
        "variable1": 50, "city": "Pune", "action": "event1", "queryText": "bye", "userId": "u-1",
        "channelId": "c-1", "channelType": "rest",
        "rawRequest": {"message": {"type": "text", "content": "bye"}, "bot": "aimy"},
    }  # fmt: skip


def test_aimylogic_answer_keys_become_variables() -> None:
    answer = {"lastSeen": 60, "name": "John", "data": {"age": 30, "website": ""}}
    outcome = get_dialect("aimylogic").decode(call(AIMY), response(200, answer))
    assert outcome.failure is None and outcome.variables == answer


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, {}, "HTTP 500"),
        (200, b"<html>", "non-JSON"),
        (200, [1, 2], "must be a JSON object"),
    ],
)
def test_aimylogic_bad_answers_fail(status: int, body: Any, reason: str) -> None:
    outcome = get_dialect("aimylogic").decode(call(AIMY), response(status, body))
    assert outcome.failure is not None and reason in outcome.failure


def test_http_block_sends_json_body_except_for_get() -> None:
    post = HttpSpec(method="POST", url="http://x/y", body={"a": 1}, headers={"K": "v"})
    request = get_dialect("http").encode(call(post), post.url)
    assert (request.method, json.loads(request.body)) == ("POST", {"a": 1})
    assert request.headers == {"Content-Type": "application/json", "K": "v"}
    get = HttpSpec(url="http://x/y", body={"a": 1})
    assert get_dialect("http").encode(call(get), get.url).body == b""


def test_http_block_saves_paths_of_the_answer() -> None:
    spec = HttpSpec(url="http://x", save={"ok": "data.available", "first": "items[0].name",
                                          "gone": "items[5].name", "deep": "data.a.b"})  # fmt: skip
    answer = {"data": {"available": False}, "items": [{"name": "speaker"}]}
    outcome = get_dialect("http").decode(call(spec), response(200, answer))
    assert outcome.variables == {"ok": False, "first": "speaker", "gone": None, "deep": None}


def test_http_block_without_save_only_needs_a_2xx() -> None:
    spec = HttpSpec(url="http://x")
    assert get_dialect("http").decode(call(spec), response(204, b"")).failure is None
    failed = get_dialect("http").decode(call(spec), response(404, b""))
    assert failed.failure == "HTTP request answered HTTP 404"


@pytest.mark.parametrize(
    ("path", "expected"),
    [("a", 1), ("b.c", 2), ("d[1]", 4), ("d[9]", None), ("e[0].f", "g"), ("a.b", None)],
)
def test_pick_follows_dotted_and_indexed_paths(path: str, expected: Any) -> None:
    value = {"a": 1, "b": {"c": 2}, "d": [3, 4], "e": [{"f": "g"}]}
    assert pick(value, path) == expected

"""A node's other blocks: the bot-level webhook's event and the HTTP request block."""

from __future__ import annotations

from typing import Any

from parley.bot.schema import BotSpec, BotWebhookSpec, HttpSpec
from parley.engine import Flow
from parley.model import Call, Message, Outcome

from .test_turn import drive, new, parse, texts

BOT: dict[str, Any] = {
    "name": "aimy",
    "settings": {"bot_break_message": "Broken."},
    "webhook": {"url": "https://hooks.example.com/aimy", "test_url": "http://127.0.0.1:9/aimy"},
    "intents": {"greet": {"examples": ["hi"]}, "stock": {"examples": ["stock"]}},
    "nodes": {
        "start": {
            "intents": ["greet"],
            "event": "start",
            "says": "Checking...",
            "next": [{"if": "lastSeen", "node": "seen"}, {"node": "unseen"}],
        },
        "seen": {"event": "seen", "says": "Welcome back {{ name }}, {{ lastSeen }} days!"},
        "unseen": {"says": "Nice to meet you."},
        "stock": {
            "intents": ["stock"],
            "http": {
                "method": "POST",
                "url": "https://api.example.com/stock/{{ product | urlencode }}",
                "headers": {"X-User": "{{ user.id }}"},
                "body": {"qty": "{{ qty }}", "note": "for {{ product }}"},
                "save": {"in_stock": "data.available"},
                "on_failure": "no_stock",
            },
            "says": "Looking...",
            "success": "In stock: {{ in_stock }}",
        },
        "no_stock": {"says": "The stock service is down."},
    },
}


def flow(**nodes: Any) -> Flow:
    return Flow(BotSpec.model_validate({**BOT, "nodes": {**BOT["nodes"], **nodes}}))


def test_event_calls_the_bot_webhook_before_the_nodes_blocks() -> None:
    conv, user = new()
    calls: list[Call] = []

    def answer(call: Call) -> Outcome:
        calls.append(call)
        return Outcome(variables={"lastSeen": 60, "name": "John"} if call.event == "start" else {})

    result, _ = drive(flow(), conv, user, parse("hi", "greet"), answer)
    assert [(c.kind, c.event) for c in calls] == [("event", "start"), ("event", "seen")]
    assert isinstance(calls[0].spec, BotWebhookSpec)
    assert texts(result) == ["Checking...", "Welcome back John, 60 days!"]
    assert conv.data == {"lastSeen": 60, "name": "John"}


def test_empty_answer_takes_the_other_branch() -> None:
    conv, user = new()
    result, calls = drive(flow(), conv, user, parse("hi", "greet"), lambda call: Outcome())
    assert texts(result) == ["Checking...", "Nice to meet you."] and len(calls) == 1


def test_a_switched_off_event_makes_no_call() -> None:
    start = {**BOT["nodes"]["start"], "event_enabled": False}
    conv, user = new()
    result, calls = drive(flow(start=start), conv, user, parse("hi", "greet"))
    assert calls == [] and texts(result) == ["Checking...", "Nice to meet you."]


def test_a_failed_event_is_a_bot_break() -> None:
    conv, user = new()
    result, _ = drive(flow(), conv, user, parse("hi", "greet"), lambda c: Outcome.failed("500"))
    assert texts(result) == ["Broken."] and result.bot_break == "500"


def test_http_block_is_rendered_with_typed_body_and_saves_the_answer() -> None:
    conv, user = new()
    conv.data = {"product": "alarm clock", "qty": 3}
    sent: list[HttpSpec] = []

    def answer(call: Call) -> Outcome:
        sent.append(call.spec)
        return Outcome(variables={"in_stock": True})

    result, _ = drive(flow(), conv, user, parse("stock", "stock"), answer)
    (spec,) = sent
    assert spec.url == "https://api.example.com/stock/alarm%20clock"
    assert spec.headers == {"X-User": "u1"}
    assert spec.body == {"qty": 3, "note": "for alarm clock"}
    assert texts(result) == ["Looking...", "In stock: True"]


def test_http_block_failure_takes_its_failure_branch_without_a_bot_break() -> None:
    conv, user = new()
    result, _ = drive(flow(), conv, user, parse("stock", "stock"), lambda c: Outcome.failed("503"))
    assert texts(result) == ["Looking...", "The stock service is down."]
    assert result.bot_break is None and result.nodes == ["stock", "no_stock"]


def test_http_block_failure_without_a_branch_is_a_bot_break() -> None:
    stock = {**BOT["nodes"]["stock"], "http": {**BOT["nodes"]["stock"]["http"]}}
    del stock["http"]["on_failure"]
    conv, user = new()
    result, _ = drive(flow(stock=stock), conv, user, parse("stock", "stock"),
                      lambda c: Outcome.failed("503"))  # fmt: skip
    assert texts(result) == ["Looking...", "Broken."] and result.bot_break == "503"


def test_http_block_success_branch_wins_over_next() -> None:
    stock = {**BOT["nodes"]["stock"], "http": {**BOT["nodes"]["stock"]["http"],
             "on_success": "unseen"}, "next": [{"node": "no_stock"}]}  # fmt: skip
    conv, user = new()
    result, _ = drive(flow(stock=stock), conv, user, parse("stock", "stock"), lambda c: Outcome())
    assert result.nodes == ["stock", "unseen"]


LOGIC = {"webhook": {"url": "http://127.0.0.1:9/logic"}}


def test_bot_level_logic_answers_every_message_instead_of_the_nodes() -> None:
    f = Flow(BotSpec.model_validate({**BOT, "logic": LOGIC}))
    conv, user = new()
    answer = Outcome(messages=[Message.text("from logic")], data={"step": 2})
    result, calls = drive(f, conv, user, parse("hi", "greet"), lambda call: answer)
    assert [c.kind for c in calls] == ["logic"] and texts(result) == ["from logic"]
    assert conv.data == {"step": 2} and result.bot_break is None


def test_logic_may_say_nothing_without_a_bot_break() -> None:
    f = Flow(BotSpec.model_validate({**BOT, "logic": LOGIC}))
    conv, user = new()
    result, _ = drive(f, conv, user, parse("/reset"), lambda call: Outcome())
    assert result.messages == [] and result.bot_break is None


def test_disabled_logic_hands_the_bot_back_to_its_nodes() -> None:
    f = Flow(BotSpec.model_validate({**BOT, "logic": {**LOGIC, "enabled": False}}))
    conv, user = new()
    _, calls = drive(f, conv, user, parse("hi", "greet"), lambda call: Outcome())
    assert [c.kind for c in calls] == ["event"]

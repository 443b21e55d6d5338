"""The engine without I/O: parses are built by hand, outcomes are scripted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from parley.bot.schema import BotSpec
from parley.engine import Flow, run_turn
from parley.model import (
    Call,
    Conversation,
    Detection,
    EntityValue,
    IntentMatch,
    Message,
    Outcome,
    Parse,
    State,
    TurnResult,
    User,
)

SHOP: dict[str, Any] = {
    "name": "shop",
    "settings": {"bot_break_message": "Sorry, something broke."},
    "entities": {"product_name": {"values": {"speaker": [], "powerbank": ["power bank"]}}},
    "intents": {
        "ask_price": {"examples": ["price of {product_name}"]},
        "greet": {"examples": ["hi"]},
        "loop": {"examples": ["loop"]},
    },
    "responses": {"welcome": {"en": "Welcome!", "hi": "Swagat hai!"}},
    "nodes": {
        "greet": {"intents": ["greet"], "says": [{"response": "welcome"}, "Hi {{ user.name }}"]},
        "check_price": {
            "intents": ["ask_price"],
            "entities": {
                "product_name": {"required": True, "prompt": "Which product?"},
                "city": {"default": "Mumbai"},
            },
            "webhook": {"url": "http://127.0.0.1:9/price"},
            "success": "Anything else about the {{ product_name }}?",
            "failure": "I could not price {{ memory.product_name.raw }}.",
            "end": True,
        },
        "loop_a": {"intents": ["loop"], "says": "a", "next": {"node": "loop_b"}},
        "loop_b": {"says": "b", "next": {"node": "loop_a"}},
    },
}


def flow(**changes: Any) -> Flow:
    spec = dict(SHOP)
    for key, value in changes.items():
        spec[key] = {**spec[key], **value} if key == "settings" else value
    return Flow(BotSpec.model_validate(spec))


def parse(text: str, intent: str | None = None, **entities: str) -> Parse:
    return Parse(
        text=text,
        language="en",
        intents=[IntentMatch(intent, 0.95)] if intent else [],
        entities={k: [EntityValue(v, v)] for k, v in entities.items()},
    )


Script = Callable[[Call], Outcome]


def drive(
    f: Flow, conv: Conversation, user: User, p: Parse, script: Script | None = None
) -> tuple[TurnResult, list[Call]]:
    calls: list[Call] = []
    turn = run_turn(f, conv, user, p)
    try:
        call = next(turn)
        while True:
            calls.append(call)
            assert script is not None, "the turn made a call nobody expected"
            call = turn.send(script(call))
    except StopIteration as stop:
        return stop.value, calls


def texts(result: TurnResult) -> list[str]:
    return [m.content for m in result.messages]


def new() -> tuple[Conversation, User]:
    return Conversation("c1", "shop", "u1"), User("u1", name="Ada")


def ok(*messages: str, **kw: Any) -> Script:
    return lambda call: Outcome(messages=[Message.text(m) for m in messages], **kw)


def test_missing_required_entity_asks_its_prompt_then_fills_it_next_turn() -> None:
    f, (conv, user) = flow(), new()
    result, calls = drive(f, conv, user, parse("how much", "ask_price"))
    assert texts(result) == ["Which product?"]
    assert (conv.node, conv.asking, calls) == ("check_price", "product_name", [])

    conv.version = 1
    result, calls = drive(f, conv, user, parse("speaker", product_name="speaker"), ok("Rs.1599"))
    assert texts(result) == ["Rs.1599", "Anything else about the speaker?"]
    assert calls[0].entities["product_name"] == EntityValue("speaker", "speaker")
    assert calls[0].entities["city"] == EntityValue("Mumbai", "Mumbai", Detection.DEFAULT)


def test_reply_that_does_not_fill_the_asked_entity_asks_again() -> None:
    f, (conv, user) = flow(), new()
    drive(f, conv, user, parse("how much", "ask_price"))
    result, _ = drive(f, conv, user, parse("umm"))
    assert texts(result) == ["Which product?"]
    assert conv.asking == "product_name"


def test_another_intent_while_asking_switches_node() -> None:
    f, (conv, user) = flow(), new()
    drive(f, conv, user, parse("how much", "ask_price"))
    result, _ = drive(f, conv, user, parse("hi", "greet"))
    assert texts(result) == ["Welcome!", "Hi Ada"]
    assert conv.asking is None


def test_entity_is_taken_from_user_profile_with_its_detection() -> None:
    f, (conv, user) = flow(), new()
    user.profile["product_name"] = "powerbank"
    _, calls = drive(f, conv, user, parse("how much", "ask_price"), ok("x"))
    assert calls[0].entities["product_name"].detection is Detection.USER_PROFILE


@pytest.mark.parametrize(
    ("end", "status", "state"),
    [(True, True, State.COMPLETE), (True, False, State.BOT), (False, True, State.BOT),
     (False, False, State.BOT)],
)  # fmt: skip
def test_end_node_rules(end: bool, status: bool, state: State) -> None:
    f = flow(nodes={**SHOP["nodes"], "check_price": {**SHOP["nodes"]["check_price"], "end": end}})
    conv, user = new()
    result, _ = drive(f, conv, user, parse("price of speaker", "ask_price", product_name="speaker"),
                      ok("answer", status=status))  # fmt: skip
    assert conv.state is state
    assert texts(result)[-1].startswith("Anything else" if status else "I could not price")


def test_complete_conversation_starts_next_number_with_fresh_data() -> None:
    f, (conv, user) = flow(), new()
    conv.state, conv.data, conv.version = State.COMPLETE, {"order": 1}, 3
    drive(f, conv, user, parse("hi", "greet"))
    assert (conv.conversation_no, conv.state, conv.data) == (2, State.BOT, {})


def test_failed_call_is_a_bot_break_and_forgets_the_node() -> None:
    f, (conv, user) = flow(), new()
    p = parse("price of speaker", "ask_price", product_name="speaker")
    result, _ = drive(f, conv, user, p, lambda call: Outcome.failed("webhook answered HTTP 500"))
    assert texts(result) == ["Sorry, something broke."]
    assert result.bot_break == "webhook answered HTTP 500"
    assert (conv.state, conv.node) == (State.BOT, None)


def test_failed_call_with_human_assistance_moves_chat_to_pending() -> None:
    f, (conv, user) = flow(settings={"human_assistance": True, "team": "support"}), new()
    p = parse("price of speaker", "ask_price", product_name="speaker")
    result, _ = drive(f, conv, user, p, lambda call: Outcome.failed("timed out"))
    assert (conv.state, conv.team, result.handoff) == (State.PENDING, "support", True)


def test_pending_conversation_gets_no_bot_answer() -> None:
    f, (conv, user) = flow(), new()
    conv.state = State.PENDING
    result, _ = drive(f, conv, user, parse("hi", "greet"))
    assert result.messages == [] and result.bot_break is None


def test_data_update_replaces_stored_data() -> None:
    f, (conv, user) = flow(), new()
    conv.data, user.data = {"old": 1}, {"keep": "no"}
    p = parse("price of speaker", "ask_price", product_name="speaker")
    drive(f, conv, user, p, ok("x", data={"order": "A1"}, user_data={"phone": 88}))
    assert (conv.data, user.data) == ({"order": "A1"}, {"phone": 88})


def test_data_update_over_the_limit_is_refused_not_truncated() -> None:
    f, (conv, user) = flow(), new()
    conv.data = {"old": 1}
    p = parse("price of speaker", "ask_price", product_name="speaker")
    big = {"blob": "x" * 490}
    result, _ = drive(f, conv, user, p, ok("x", data=big, user_data={"k": "v"}))
    assert conv.data == {"old": 1}
    assert result.bot_break is not None and "over the limit of 500" in result.bot_break
    assert texts(result) == ["Sorry, something broke."]


def test_integration_without_any_message_at_any_stage_is_a_bot_break() -> None:
    nodes = {"quiet": {"intents": ["greet"], "webhook": {"url": "http://127.0.0.1:9/q"}}}
    f, (conv, user) = flow(nodes=nodes), new()
    result, _ = drive(f, conv, user, parse("hi", "greet"), ok())
    assert result.bot_break is not None and texts(result) == ["Sorry, something broke."]


def test_unmatched_message_gets_the_fallback() -> None:
    f, (conv, user) = flow(settings={"fallback_message": "Pardon?"}), new()
    result, _ = drive(f, conv, user, parse("weather on mars"))
    assert texts(result) == ["Pardon?"]


def test_low_confidence_intent_is_not_trusted() -> None:
    f, (conv, user) = flow(settings={"fallback_message": "Pardon?"}), new()
    p = parse("hmm")
    p.intents = [IntentMatch("greet", 0.4)]
    assert texts(drive(f, conv, user, p)[0]) == ["Pardon?"]


def test_next_transitions_take_the_first_true_condition() -> None:
    nodes = {
        "route": {"intents": ["greet"], "next": [{"if": "vip", "node": "vip"}, {"node": "plain"}]},
        "vip": {"says": "Hello VIP {{ user.name }}"},
        "plain": {"says": "Hello"},
    }
    f = flow(nodes=nodes)
    conv, user = new()
    assert texts(drive(f, conv, user, parse("hi", "greet"))[0]) == ["Hello"]
    conv, user = new()
    conv.data = {"vip": True}
    result, _ = drive(f, conv, user, parse("hi", "greet"))
    assert texts(result) == ["Hello VIP Ada"] and result.nodes == ["route", "vip"]


def test_endless_transitions_stop_with_a_bot_break() -> None:
    f, (conv, user) = flow(), new()
    result, _ = drive(f, conv, user, parse("loop", "loop"))
    assert result.bot_break is not None and "transitions" in result.bot_break


def test_responses_catalog_follows_the_conversation_language() -> None:
    f, (conv, user) = flow(), new()
    conv.language = "hi"
    assert texts(drive(f, conv, user, parse("hi", "greet"))[0])[0] == "Swagat hai!"


def test_integration_can_name_a_catalog_response_and_switch_language() -> None:
    f, (conv, user) = flow(), new()
    p = parse("price of speaker", "ask_price", product_name="speaker")

    def script(call: Call) -> Outcome:
        return Outcome(messages=[Message("response_ref", "welcome")], language="hi")

    result, _ = drive(f, conv, user, p, script)
    assert texts(result)[0] == "Swagat hai!" and conv.language == "hi"


def test_template_that_breaks_the_sandbox_is_a_bot_break() -> None:
    nodes = {
        "evil": {"intents": ["greet"], "says": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
    }
    f, (conv, user) = flow(nodes=nodes), new()
    result, _ = drive(f, conv, user, parse("hi", "greet"))
    assert result.bot_break is not None and texts(result) == ["Sorry, something broke."]


def test_rich_says_render_templates_inside_structured_content() -> None:
    buttons = [{"title": "Price", "value": "price"}]
    says = [
        {"type": "quick_replies", "content": {"title": "Hi {{ user.name }}", "buttons": buttons}}
    ]
    f, (conv, user) = flow(nodes={"greet": {"intents": ["greet"], "says": says}}), new()
    result, _ = drive(f, conv, user, parse("hi", "greet"))
    assert result.messages[0].type == "quick_replies"
    assert result.messages[0].content["title"] == "Hi Ada"


def test_button_payload_marks_entities_as_structured() -> None:
    f, (conv, user) = flow(), new()
    p = parse("speaker", "ask_price", product_name="speaker")
    calls: list[Call] = []
    turn = run_turn(f, conv, user, p, structured=True)
    calls.append(next(turn))
    assert calls[0].entities["product_name"].detection is Detection.STRUCTURED


@pytest.mark.parametrize(
    ("ttl", "idle", "kept"),
    [(3600, 3599, True), (3600, 3601, False), (0, 10**9, True)],
)
def test_conversation_data_expires_after_the_idle_ttl(ttl: int, idle: int, kept: bool) -> None:
    f, (conv, user) = flow(settings={"data_ttl": ttl}), new()
    conv.data, conv.updated_at, conv.version = {"order": "A1"}, 1_000_000.0, 4
    turn = run_turn(f, conv, user, parse("hi", "greet"), now=1_000_000.0 + idle)
    with pytest.raises(StopIteration):
        next(turn)
    assert conv.data == ({"order": "A1"} if kept else {})

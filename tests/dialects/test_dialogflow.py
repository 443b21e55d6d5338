"""The Dialogflow dialect beyond the golden files: auth, ids, and contexts across turns."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

from parley.bot.schema import AuthSpec, WebhookSpec
from parley.dialects import WireResponse, get_dialect
from parley.dialects.dialogflow import CONTEXTS_KEY, session_name
from parley.model import Call, IntentMatch, Outcome, Parse

from .sample import URL, sample_call

DIALECT = get_dialect("dialogflow")
SESSION = "projects/parley/agent/sessions/c-42"


def _call(data: dict[str, Any] | None = None, version: int = 0, **spec: Any) -> Call:
    call = sample_call(secret=None)
    conversation = replace(call.conversation, version=version)
    if data is not None:
        conversation.data = data
    return replace(call, conversation=conversation, spec=WebhookSpec(path="/df", **spec))


def _body(call: Call) -> Any:
    return json.loads(DIALECT.encode(call, URL).body)


def _contexts(call: Call) -> dict[str, Any]:
    contexts = _body(call)["queryResult"]["outputContexts"]
    return {c["name"].rsplit("/", 1)[1]: c for c in contexts}


def _decode(call: Call, body: Any) -> Outcome:
    return DIALECT.decode(call, WireResponse(200, {}, json.dumps(body).encode()))


def _stored(version: int, **contexts: int) -> dict[str, Any]:
    kept = {cid: {"lifespanCount": n, "parameters": {"from": cid}} for cid, n in contexts.items()}
    return {"city": "Pune", CONTEXTS_KEY: {"version": version, "contexts": kept}}


def test_basic_auth_and_configured_headers_are_sent() -> None:
    auth = AuthSpec(type="basic", username="parley", password="s3cret:x")
    call = _call(auth=auth, headers={"X-Agent": "shop"})

    headers = DIALECT.encode(call, URL).headers

    expected = base64.b64encode(b"parley:s3cret:x").decode()
    assert headers == {
        "Content-Type": "application/json",
        "X-Agent": "shop",
        "Authorization": f"Basic {expected}",
    }


def test_bearer_auth_wins_over_a_configured_authorization_header() -> None:
    call = _call(auth=AuthSpec(type="bearer", token="t0k"), headers={"Authorization": "x"})

    assert DIALECT.encode(call, URL).headers["Authorization"] == "Bearer t0k"


def test_the_same_call_encodes_to_the_same_bytes_and_a_new_turn_to_a_new_response_id() -> None:
    first, again, later = _call(), _call(), _call(version=1)

    assert DIALECT.encode(first, URL).body == DIALECT.encode(again, URL).body
    assert _body(first)["responseId"] != _body(later)["responseId"]


def test_conversation_ids_dialogflow_would_refuse_become_a_stable_hash() -> None:
    long_id = "web:" + "x" * 60

    name = session_name(long_id)

    assert name == session_name(long_id)
    assert len(name.rsplit("/", 1)[1]) == 36
    assert session_name("c-42") == SESSION


def test_intent_confidence_and_action_come_from_the_parse_and_the_spec() -> None:
    parse = Parse("how much", "en", [IntentMatch("ask_price", 0.87654)])
    call = replace(_call(action="price.check"), parse=parse)

    result = _body(call)["queryResult"]

    assert result["intentDetectionConfidence"] == 0.8765
    assert result["action"] == "price.check"
    assert result["intent"]["displayName"] == "check_price"


def test_stored_contexts_are_sent_aged_one_per_turn_and_the_store_key_is_not_data() -> None:
    call = _call(_stored(3, shop=5, brief=1, gone=1), version=4)

    contexts = _contexts(call)

    assert contexts["shop"] == {
        "name": f"{SESSION}/contexts/shop",
        "lifespanCount": 4,
        "parameters": {"from": "shop"},
    }
    assert contexts["brief"]["lifespanCount"] == 0  # its last turn: still readable
    assert CONTEXTS_KEY not in contexts["parley-data"]["parameters"]
    assert contexts["parley-data"]["parameters"]["city"] == "Pune"
    assert set(_contexts(_call(_stored(3, shop=5, brief=1), version=5))) == {"parley-data", "shop"}


def test_contexts_the_answer_leaves_out_keep_aging_and_expired_ones_are_dropped() -> None:
    call = _call(_stored(3, shop=5, brief=1), version=4)

    outcome = _decode(call, {"fulfillmentText": "ok", "outputContexts": []})

    assert outcome.variables == {
        CONTEXTS_KEY: {
            "version": 4,
            "contexts": {"shop": {"lifespanCount": 4, "parameters": {"from": "shop"}}},
        }
    }


def test_an_answered_context_replaces_the_stored_one_and_lifespan_zero_deletes() -> None:
    call = _call(_stored(3, shop=5, cart=2), version=4)
    answer = {
        "outputContexts": [
            {"name": f"{SESSION}/contexts/shop", "lifespanCount": 2, "parameters": {"n": 1}},
            {"name": f"{SESSION}/contexts/cart", "lifespanCount": 0},
        ]
    }

    outcome = _decode(call, answer)

    assert outcome.variables == {
        "n": 1,
        CONTEXTS_KEY: {
            "version": 4,
            "contexts": {"shop": {"lifespanCount": 2, "parameters": {"n": 1}}},
        },
    }


def test_an_answer_without_output_contexts_leaves_data_alone() -> None:
    outcome = _decode(_call(_stored(3, shop=5), version=4), {"fulfillmentText": "ok"})

    assert outcome.variables is None


def test_parley_data_echoed_back_unchanged_updates_nothing() -> None:
    call = _call()
    echoed = _body(call)["queryResult"]["outputContexts"]

    outcome = _decode(call, {"outputContexts": echoed})

    assert outcome.variables is None


def test_a_context_set_in_one_turn_is_sent_in_the_next() -> None:
    turn1 = _call({}, version=0)
    context = {"name": f"{SESSION}/contexts/shop", "lifespanCount": 5, "parameters": {"p": 1}}
    outcome = _decode(turn1, {"outputContexts": [context]})

    turn2 = _call(dict(outcome.variables or {}), version=1)

    assert _contexts(turn2)["shop"] == {**context, "lifespanCount": 4}
    assert _contexts(turn2)["parley-data"]["parameters"]["p"] == 1

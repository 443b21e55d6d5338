"""The CAI dialect beyond its golden files: nlp from the parse, methods, headers, custom bodies."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from parley.bot.schema import WebhookSpec
from parley.dialects import WireResponse, get_dialect
from parley.dialects.cai import entity
from parley.dialects.jsonbody import BodyTemplateError, render_json
from parley.dialects.signatures import verify_sha1
from parley.model import Call, EntityValue, IntentMatch, Outcome, Parse

from .sample import URL, sample_call

CAI = get_dialect("cai")


def call(**spec: Any) -> Call:
    base = sample_call(secret=None)
    parse = Parse(
        "how much are the speakers?",
        "en",
        [IntentMatch("ask_price", 0.98765), IntentMatch("greet", 0.1)],
        {"product_name": [EntityValue("speaker", "speakers")]},
    )
    return replace(
        base,
        spec=WebhookSpec(path="/p", dialect="cai", **spec),
        parse=parse,
        now=1_508_967_362.071243,
    )


def body(c: Call) -> Any:
    return json.loads(CAI.encode(c, URL).body)


def test_nlp_comes_from_the_parse_and_the_turns_clock() -> None:
    nlp = body(call())["nlp"]

    assert nlp["intents"] == [
        {"slug": "ask_price", "confidence": 0.99},
        {"slug": "greet", "confidence": 0.1},
    ]
    assert nlp["entities"] == {
        "product_name": [{"value": "speaker", "raw": "speakers", "confidence": 1.0}]
    }
    assert (nlp["processing_language"], nlp["language"]) == ("en", "hi")
    assert nlp["timestamp"] == "2017-10-25T21:36:02.071243+00:00"


def test_nlp_uuid_is_stable_for_a_turn_and_new_for_the_next() -> None:
    first, again = body(call())["nlp"]["uuid"], body(call())["nlp"]["uuid"]
    later = body(replace(call(), now=1_508_967_400.0))["nlp"]["uuid"]

    assert first == again
    assert later != first


@pytest.mark.parametrize(
    ("name", "value", "extra"),
    [
        ("quantity", 3, {"scalar": 3}),
        ("person", "Francois", {"fullname": "Francois"}),
        ("phone", "+33600000000", {"number": "+33600000000"}),
        ("email", "ada@example.com", {"local": "ada", "domain": "example.com"}),
        ("datetime", "2017-10-25T21:36:02", {"iso": "2017-10-25T21:36:02"}),
        ("colour", "red", {}),
    ],
)
def test_entities_take_cai_gold_shapes(name: str, value: Any, extra: dict[str, Any]) -> None:
    shaped = entity(EntityValue(value, "as typed"), name)

    assert shaped == {"value": value, **extra, "raw": "as typed", "confidence": 1.0}


def test_collected_entities_win_over_data_keys_of_the_same_name() -> None:
    """Memory echoed back by a webhook lands in data; a newer entity value must not hide."""
    c = call()
    c = replace(c, conversation=replace(c.conversation, data={"product_name": "old", "n": 1}))

    memory = body(c)["conversation"]["memory"]

    assert memory["product_name"]["value"] == "speaker"
    assert memory["n"] == 1


def test_get_has_no_body_and_no_content_type() -> None:
    request = CAI.encode(call(method="GET", body={"x": 1}), URL)

    assert (request.method, request.body) == ("GET", b"")
    assert request.headers == {}


def test_spec_headers_override_content_type_whatever_their_case() -> None:
    request = CAI.encode(call(headers={"content-type": "application/vnd.api+json"}), URL)

    assert request.headers == {"content-type": "application/vnd.api+json"}


def test_secret_signs_the_exact_body() -> None:
    request = CAI.encode(call(secret="s"), URL)

    assert verify_sha1("s", request.body, request.headers["X-Hub-Signature"])


def test_custom_body_text_is_json_escaped() -> None:
    spec_body = {"text": 'He said "{{ nlp.source }}"\\ {{ conversation.memory.insurance_no }}'}

    request = CAI.encode(call(body=spec_body), URL)

    assert json.loads(request.body) == {"text": 'He said "how much are the speakers?"\\ CDQP12324'}


def test_custom_body_may_be_a_single_reference_or_scalar() -> None:
    assert body(call(body="{{ nlp.intents }}"))[0]["slug"] == "ask_price"
    assert body(call(body=42)) == 42


def test_keys_are_rendered_as_text() -> None:
    assert body(call(body={"{{ conversation.skill }}": True})) == {"check_price": True}


def test_reference_to_internals_is_refused() -> None:
    with pytest.raises(ValueError, match=r"access to '__class__' of a dict is not allowed"):
        CAI.encode(call(body={"x": "{{ memory.__class__.__mro__ }}"}), URL)


def test_syntax_error_names_the_reference() -> None:
    with pytest.raises(BodyTemplateError, match="not valid"):
        render_json({"x": "{{ memory. }}"}, {})


def test_undefined_reference_is_null_whole_and_empty_inside_text() -> None:
    rendered = render_json({"a": "{{ memory.nope.raw }}", "b": "<{{ memory.nope.raw }}>"}, {})

    assert rendered == {"a": None, "b": "<>"}


def test_whitespace_body_is_success_without_messages() -> None:
    outcome = CAI.decode(call(), WireResponse(200, {}, b" \r\n"))

    assert outcome == Outcome()

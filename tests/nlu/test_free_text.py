from __future__ import annotations

from collections.abc import Callable

import pytest

from parley.model import Detection, EntityValue
from parley.nlu import ExampleRecognizer


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("my name is Ada Lovelace", "Ada Lovelace"),
        ("My name is: Ada Lovelace!", "Ada Lovelace"),
        ("my   NAME   is   José", "José"),
        ("my name is O'Brien", "O'Brien"),
        ("call me Ada please", "Ada"),
        ("call me Grace Brewster Hopper please", "Grace Brewster Hopper"),
    ],
)
def test_free_text_is_taken_from_the_placeholder_position(
    shop_plus: ExampleRecognizer, text: str, name: str
) -> None:
    parse = shop_plus.parse(text, "en")
    [value] = parse.entities["name"]
    assert (value.value, value.raw, value.detection) == (name, name, Detection.MESSAGE)
    assert text[value.start : value.end] == name
    assert parse.intent is not None
    assert (parse.intent.name, parse.intent.confidence) == ("introduce", 1.0)


def test_template_with_words_around_it_captures_but_is_not_exact(
    shop_plus: ExampleRecognizer,
) -> None:
    parse = shop_plus.parse("hi there, my name is Ada", "en")
    assert [v.value for v in parse.entities["name"]] == ["Ada"]
    assert parse.intent is not None and parse.intent.name == "introduce"
    assert 0.6 <= parse.intent.confidence < 1.0


@pytest.mark.parametrize("text", ["my name is", "call me please", "name is Ada", "hello"])
def test_template_needs_its_words_and_a_value(shop_plus: ExampleRecognizer, text: str) -> None:
    assert "name" not in shop_plus.parse(text, "en").entities


def test_placeholder_first_template_captures_from_the_start(
    make: Callable[..., ExampleRecognizer],
) -> None:
    recognizer = make(
        entities={"city": {"type": "text"}},
        intents={"from": {"examples": ["{city} is where i live"]}},
    )
    parse = recognizer.parse("New Delhi is where I live", "en")
    assert parse.entities["city"] == [EntityValue("New Delhi", "New Delhi", start=0, end=9)]
    assert parse.intent is not None and parse.intent.confidence == 1.0


def test_template_mixes_free_text_with_other_entities(
    make: Callable[..., ExampleRecognizer],
) -> None:
    recognizer = make(
        entities={"gift": {"values": ["speaker"]}, "to": {"type": "text"}},
        intents={"send": {"examples": ["send a {gift} to {to}"]}},
    )
    parse = recognizer.parse("send a speaker to my sister Ana", "en")
    assert [v.value for v in parse.entities["to"]] == ["my sister Ana"]
    assert [v.value for v in parse.entities["gift"]] == ["speaker"]
    assert parse.intent is not None and parse.intent.confidence == 1.0


def test_expected_free_text_takes_the_whole_trimmed_message(
    shop_plus: ExampleRecognizer,
) -> None:
    text = "  Ada Lovelace \n"
    parse = shop_plus.parse(text, "en", expecting="name")
    assert parse.entities["name"] == [EntityValue("Ada Lovelace", "Ada Lovelace", start=2, end=14)]


def test_expected_free_text_prefers_the_template_capture(shop_plus: ExampleRecognizer) -> None:
    parse = shop_plus.parse("my name is Ada", "en", expecting="name")
    assert [v.value for v in parse.entities["name"]] == ["Ada"]


@pytest.mark.parametrize("text", ["hello", "how much is the speaker", "   "])
def test_expected_free_text_leaves_exact_intents_and_blanks_alone(
    shop_plus: ExampleRecognizer, text: str
) -> None:
    assert "name" not in shop_plus.parse(text, "en", expecting="name").entities


def test_free_text_is_not_read_unless_expected_or_templated(shop_plus: ExampleRecognizer) -> None:
    assert "name" not in shop_plus.parse("Ada Lovelace", "en").entities


def test_expecting_a_typed_entity_extracts_it_as_usual(shop_plus: ExampleRecognizer) -> None:
    parse = shop_plus.parse("3", "en", expecting="quantity")
    assert [v.value for v in parse.entities["quantity"]] == [3]
    assert "quantity" not in shop_plus.parse("some", "en", expecting="quantity").entities


def test_expecting_a_list_entity_extracts_it_as_usual(shop_plus: ExampleRecognizer) -> None:
    parse = shop_plus.parse("the power bank", "en", expecting="product_name")
    assert [v.value for v in parse.entities["product_name"]] == ["powerbank"]


def test_expecting_an_unknown_entity_is_harmless(shop_plus: ExampleRecognizer) -> None:
    assert shop_plus.parse("Ada", "en", expecting="nope").entities == {}

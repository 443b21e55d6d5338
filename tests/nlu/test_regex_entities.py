from __future__ import annotations

from collections.abc import Callable

import pytest

from parley.errors import BotInvalid
from parley.model import EntityValue
from parley.nlu import ExampleRecognizer


@pytest.fixture(scope="module")
def recognizer(make: Callable[..., ExampleRecognizer]) -> ExampleRecognizer:
    return make(
        entities={
            "order_id": {"pattern": r"ORD-(\d+)"},
            "pincode": {"type": "regex", "pattern": r"\b\d{6}\b"},
            "coupon": {"pattern": r"(?i)\bsave(\d{2})?\b"},
        }
    )


@pytest.mark.parametrize(
    ("text", "entity", "expected"),
    [
        ("where is ORD-1234", "order_id", [("1234", "ORD-1234")]),
        ("ORD-1 and ORD-22", "order_id", [("1", "ORD-1"), ("22", "ORD-22")]),
        ("ord-1234", "order_id", []),  # the author's pattern decides on case
        ("pin 560001 please", "pincode", [("560001", "560001")]),
        ("pin 5600012", "pincode", []),
        ("use SAVE20", "coupon", [("20", "SAVE20")]),
        ("use save", "coupon", [("save", "save")]),  # group did not take part: whole match
    ],
)
def test_regex_value_is_first_group_else_whole_match(
    recognizer: ExampleRecognizer, text: str, entity: str, expected: list[tuple[str, str]]
) -> None:
    values = recognizer.parse(text, "en").entities.get(entity, [])
    assert [(v.value, v.raw) for v in values] == expected


def test_regex_value_carries_offsets(recognizer: ExampleRecognizer) -> None:
    assert recognizer.parse("see ORD-77", "en").entities["order_id"] == [
        EntityValue("77", "ORD-77", start=4, end=10)
    ]


def test_empty_regex_matches_are_ignored(make: Callable[..., ExampleRecognizer]) -> None:
    recognizer = make(entities={"maybe": {"pattern": r"x*"}})
    assert recognizer.parse("abc", "en").entities == {}


def test_invalid_pattern_is_a_bot_error_naming_its_key(
    make: Callable[..., ExampleRecognizer],
) -> None:
    with pytest.raises(BotInvalid) as caught:
        make(entities={"broken": {"pattern": "(unclosed"}})
    assert caught.value.problems[0].key == "entities.broken.pattern"

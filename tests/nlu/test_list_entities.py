from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from parley.model import Detection, EntityValue
from parley.nlu import ExampleRecognizer

PRODUCTS: dict[str, Any] = {
    "values": {
        "speaker": ["speaker", "alarm clock speaker"],
        "powerbank": ["powerbank", "power bank"],
        "box": [],
        "battery": [],
    }
}
COLORS: dict[str, Any] = {"values": ["red", "blue", "navy blue"], "fuzzy": False}
CITIES: dict[str, Any] = {
    "values": {"new york": ["nyc", "big apple"], "são paulo": [], "münchen": ["munich"]},
    "fuzzy": 0.95,
}


@pytest.fixture(scope="module")
def recognizer(make: Callable[..., ExampleRecognizer]) -> ExampleRecognizer:
    return make(entities={"product": PRODUCTS, "color": COLORS, "city": CITIES})


def found(recognizer: ExampleRecognizer, text: str, entity: str) -> list[tuple[Any, str]]:
    return [(v.value, v.raw) for v in recognizer.parse(text, "en").entities.get(entity, [])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a speaker please", [("speaker", "speaker")]),
        ("I want an Alarm-Clock Speaker", [("speaker", "Alarm-Clock Speaker")]),
        ("POWER BANK", [("powerbank", "POWER BANK")]),
        ("a powerbank", [("powerbank", "powerbank")]),
        ("a box", [("box", "box")]),  # the canonical value is a synonym of itself
        ("two speakers and a power bank", [("speaker", "speakers"), ("powerbank", "power bank")]),
        ("speaker, speaker", [("speaker", "speaker"), ("speaker", "speaker")]),
    ],
)
def test_synonym_maps_to_canonical_value(
    recognizer: ExampleRecognizer, text: str, expected: list[tuple[Any, str]]
) -> None:
    assert found(recognizer, text, "product") == expected


def test_longest_synonym_wins_over_the_shorter_inside_it(recognizer: ExampleRecognizer) -> None:
    assert found(recognizer, "navy blue", "color") == [("navy blue", "navy blue")]
    assert found(recognizer, "alarm clock speaker", "product") == [
        ("speaker", "alarm clock speaker")
    ]


def test_value_carries_offsets_into_the_original_text(recognizer: ExampleRecognizer) -> None:
    text = "Hi! I'd like the  Power-Bank, thanks"
    [value] = recognizer.parse(text, "en").entities["product"]
    assert value == EntityValue("powerbank", "Power-Bank", Detection.MESSAGE, 18, 28)
    assert text[18:28] == "Power-Bank"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("speakers", "speaker"),
        ("power banks", "powerbank"),
        ("powerbanks", "powerbank"),
        ("boxes", "box"),
        ("batteries", "battery"),
        ("powerbnk", "powerbank"),
        ("power bnk", "powerbank"),
        ("speakr", "speaker"),
        ("alarm clock speakr", "speaker"),
    ],
)
def test_fuzzy_entity_tolerates_plurals_and_typos(
    recognizer: ExampleRecognizer, text: str, expected: str
) -> None:
    assert [value for value, _ in found(recognizer, text, "product")] == [expected]


@pytest.mark.parametrize("text", ["spea", "peak", "the bank", "a clock", "bo", "powder"])
def test_fuzzy_entity_rejects_words_too_far_off(recognizer: ExampleRecognizer, text: str) -> None:
    assert found(recognizer, text, "product") == []


@pytest.mark.parametrize("text", ["reds", "bleu", "blu", "navyblue"])
def test_entity_without_fuzzy_needs_the_exact_words(
    recognizer: ExampleRecognizer, text: str
) -> None:
    assert found(recognizer, text, "color") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sao paulo", "são paulo"),
        ("SÃO PAULO", "são paulo"),
        ("munchen", "münchen"),
        ("Big Apple", "new york"),
        ("nyc", "new york"),
        ("new yrok", None),  # 0.875 similar: below this entity's 0.95
    ],
)
def test_fuzzy_threshold_is_per_entity(
    recognizer: ExampleRecognizer, text: str, expected: str | None
) -> None:
    assert [v for v, _ in found(recognizer, text, "city")] == ([expected] if expected else [])


def test_synonym_inside_a_longer_word_is_not_found(recognizer: ExampleRecognizer) -> None:
    assert found(recognizer, "boxing redwood", "product") == []
    assert found(recognizer, "boxing redwood", "color") == []


def test_entity_shared_words_are_reported_for_each_entity(
    make: Callable[..., ExampleRecognizer],
) -> None:
    recognizer = make(
        entities={"fruit": {"values": ["orange"]}, "color": {"values": ["orange", "green"]}}
    )
    entities = recognizer.parse("an orange", "en").entities
    assert [v.value for v in entities["fruit"]] == ["orange"]
    assert [v.value for v in entities["color"]] == ["orange"]


def test_entities_not_in_the_message_are_absent(recognizer: ExampleRecognizer) -> None:
    assert recognizer.parse("nothing to see", "en").entities == {}

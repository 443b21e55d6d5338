from __future__ import annotations

from collections.abc import Callable

import pytest

from parley.nlu import ExampleRecognizer

Make = Callable[..., ExampleRecognizer]

THRESHOLD = 0.6  # the bot default the engine applies


def top(recognizer: ExampleRecognizer, text: str) -> tuple[str | None, float]:
    match = recognizer.parse(text, "en").intent
    return (match.name, match.confidence) if match else (None, 0.0)


@pytest.mark.parametrize(
    "text",
    [
        "how much is the speaker",
        "How much is the SPEAKER?!",
        "  price   of powerbank ",
        "Hello",
        "hi",
        "hey, there!",
    ],
)
def test_exact_normalised_example_is_confidence_one(shop: ExampleRecognizer, text: str) -> None:
    assert top(shop, text)[1] == 1.0


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hey", "greet"),
        ("helo", "greet"),
        ("hi bot", "greet"),
        ("hey there you", "greet"),
        ("morning", "greet"),
        ("how much is the speaker please", "ask_price"),
        ("how much does the speaker cost", "ask_price"),
        ("cost of a speaker", "ask_price"),
        ("price of the speakers", "ask_price"),
        ("whats the price of a power bank", "ask_price"),
        ("hi, how much is the speaker", "ask_price"),
    ],
)
def test_paraphrase_reaches_its_intent(shop: ExampleRecognizer, text: str, intent: str) -> None:
    name, confidence = top(shop, text)
    assert name == intent
    assert THRESHOLD <= confidence < 1.0


@pytest.mark.parametrize(
    "text",
    ["what's the weather on mars", "tell me a joke", "asdfgh", "my cat is sick", "ok"],
)
def test_unrelated_message_stays_below_threshold(shop: ExampleRecognizer, text: str) -> None:
    assert top(shop, text)[1] < THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "what does a power bank cost",
        "What does a speaker cost?",
        "what does an alarm clock speaker cost",
        "how much is the powerbank",  # an example's own entity generalises too
        "how much is the power bank",
    ],
)
def test_placeholder_example_matches_any_value_of_its_entity(
    shop: ExampleRecognizer, text: str
) -> None:
    assert top(shop, text)[0] == "ask_price"
    assert top(shop, text)[1] >= 0.95


def test_typo_in_entity_value_still_reaches_placeholder_example(shop: ExampleRecognizer) -> None:
    assert top(shop, "what does a powerbnk cost") == ("ask_price", 1.0)


def test_intents_are_sorted_best_first_within_bounds(shop_plus: ExampleRecognizer) -> None:
    intents = shop_plus.parse("hi, how much is the speaker", "en").intents
    confidences = [i.confidence for i in intents]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.3 <= c <= 1.0 for c in confidences)
    assert [i.name for i in intents][:2] == ["ask_price", "greet"]


def test_weak_intents_are_left_out(shop: ExampleRecognizer) -> None:
    assert shop.parse("zzzz qqqq", "en").intents == []


def test_empty_message_has_no_intent(shop: ExampleRecognizer) -> None:
    assert shop.parse("   ", "en").intents == []


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("thanks", "thanks"),
        ("thank you so much", "thanks"),
        ("thx a lot", "thanks"),
        ("I want to order 3 speakers", "order"),
        ("i want to order twenty power banks", "order"),
        ("buy a power bank", "order"),
        ("buy speakers", "order"),
        ("I'd like to place an order", "order"),
        ("hello there", "greet"),
    ],
)
def test_more_intents_are_told_apart(shop_plus: ExampleRecognizer, text: str, intent: str) -> None:
    name, confidence = top(shop_plus, text)
    assert name == intent
    assert confidence >= THRESHOLD


def test_typed_placeholders_match_exactly(shop_plus: ExampleRecognizer) -> None:
    parse = shop_plus.parse("I want to order 3 speakers", "en")
    assert parse.intent is not None and parse.intent.confidence == 1.0
    assert [v.value for v in parse.entities["quantity"]] == [3]
    assert [v.value for v in parse.entities["product_name"]] == ["speaker"]


def test_accents_and_case_do_not_matter(make: Make) -> None:
    recognizer = make(intents={"cafe": {"examples": ["Un café, s'il vous plaît"]}})
    assert top(recognizer, "UN CAFE SIL VOUS PLAIT") == ("cafe", 1.0)


def test_language_is_carried_into_the_parse(shop: ExampleRecognizer) -> None:
    assert shop.parse("hi", "de").language == "de"


def test_same_message_scores_the_same_every_time(shop: ExampleRecognizer) -> None:
    first = shop.parse("how much for a speaker", "en").intents
    assert all(shop.parse("how much for a speaker", "en").intents == first for _ in range(3))

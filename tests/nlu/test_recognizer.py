from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date

import pytest

import parley.nlu
from parley.model import IntentMatch, Parse
from parley.nlu import ExampleRecognizer, Recognizer, StubRecognizer

ALPHABET = "aeiou xyz 0123456789 .,:;/-+@'\u2019()$₹ éüßÅ\u0301\u200b\n\t😀中文!?{}_"


def _random_texts(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    texts = []
    for _ in range(count):
        size = rnd.choice([0, 1, 2, 5, 20, 80])
        if rnd.random() < 0.5:
            texts.append("".join(rnd.choice(ALPHABET) for _ in range(size)))
        else:  # any code point, lone surrogates included
            texts.append("".join(chr(rnd.randrange(0x30000)) for _ in range(size)))
    return texts


def _check(parse: Parse, text: str) -> None:
    assert parse.text == text
    assert all(0.0 <= i.confidence <= 1.0 for i in parse.intents)
    assert [i.confidence for i in parse.intents] == sorted(
        (i.confidence for i in parse.intents), reverse=True
    )
    for values in parse.entities.values():
        for value in values:
            assert value.start is not None and value.end is not None
            assert text[value.start : value.end] == value.raw


def test_parse_never_raises_and_stays_in_bounds_on_arbitrary_text(
    shop_plus: ExampleRecognizer,
) -> None:
    rnd = random.Random(7)
    for text in _random_texts(seed=1, count=3000):
        expecting = rnd.choice([None, "name", "quantity", "product_name"])
        today = rnd.choice([None, date(2026, 12, 31)])
        _check(shop_plus.parse(text, "en", expecting, today=today), text)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000,
        "1 " * 50_000,
        "(1)" * 30_000,
        "my name is " + "x " * 50_000,
        "a@" * 50_000,
        "power bank " * 10_000,
        "12/03/2026 " * 10_000,
        "😀" * 50_000,
    ],
)
def test_very_long_message_parses_quickly(shop_plus: ExampleRecognizer, text: str) -> None:
    started = time.perf_counter()
    _check(shop_plus.parse(text, "en", "name"), text)
    assert time.perf_counter() - started < 1.0


def test_recognizer_is_abstract() -> None:
    class Incomplete(Recognizer):
        pass

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


def test_public_names_are_sorted_and_complete() -> None:
    assert parley.nlu.__all__ == sorted(parley.nlu.__all__)
    assert {"ExampleRecognizer", "Recognizer", "StubRecognizer"} <= set(parley.nlu.__all__)
    assert all(hasattr(parley.nlu, name) for name in parley.nlu.__all__)


def test_stub_answers_from_a_mapping_and_records_calls() -> None:
    hello = Parse("hello", "en", [IntentMatch("greet", 1.0)])
    stub = StubRecognizer({"hello": hello})
    assert stub.parse("hello", "en") is hello
    assert stub.parse("what?", "fr", expecting="name") == Parse("what?", "fr")
    assert stub.calls == [("hello", "en", None), ("what?", "fr", "name")]


def test_stub_answers_from_a_callable() -> None:
    stub = StubRecognizer(lambda text, language, expecting: Parse(text.upper(), language))
    assert stub.parse("hi", "en", today=date(2026, 1, 1)) == Parse("HI", "en")
    assert isinstance(stub, Recognizer)


def test_parse_of_a_ten_by_ten_bot_stays_well_under_a_millisecond(
    make: Callable[..., ExampleRecognizer],
) -> None:
    """A loose guard against order-of-magnitude regressions, not a benchmark."""
    rnd = random.Random(3)
    words = ["how", "much", "is", "the", "price", "cost", "of", "a", "buy", "order", "i", "my"]
    intents = {
        f"intent{i}": {"examples": [" ".join(rnd.choices(words, k=5)) for _ in range(10)]}
        for i in range(10)
    }
    recognizer = make(
        entities={"product": {"values": {f"p{i}": [f"product {i}"] for i in range(20)}}},
        intents=intents,
        nodes={"n": {"entities": {"number": {}, "date": {}}}},
    )
    texts = [" ".join(rnd.choices(words, k=8)) + f" product {n}" for n in range(300)]
    started = time.perf_counter()
    for text in texts:  # all different: nothing comes from a memo
        recognizer.parse(text, "en")
    assert (time.perf_counter() - started) / len(texts) < 0.002

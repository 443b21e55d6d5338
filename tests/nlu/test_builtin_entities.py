"""Built-in types, as undeclared entities named after their type and as declared `type:`s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from parley.nlu import ExampleRecognizer

TODAY = date(2026, 3, 10)
BUILTINS = ("email", "phone", "number", "date", "time", "url")


@pytest.fixture(scope="module")
def recognizer(make: Callable[..., ExampleRecognizer]) -> ExampleRecognizer:
    return make(nodes={"collect": {"entities": {name: {} for name in BUILTINS}}})


def found(
    recognizer: ExampleRecognizer, text: str, entity: str, today: date | None = TODAY
) -> list[tuple[Any, str]]:
    values = recognizer.parse(text, "en", today=today).entities.get(entity, [])
    return [(v.value, v.raw) for v in values]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a@b.co", [("a@b.co", "a@b.co")]),
        ("mail Ada+x@Mail.Example.ORG.", [("Ada+x@mail.example.org", "Ada+x@Mail.Example.ORG")]),
        ("me@x.io, you@y.io", [("me@x.io", "me@x.io"), ("you@y.io", "you@y.io")]),
        ("not an @ email", []),
        ("foo@bar", []),
        ("@handle", []),
        ("a@b.c", []),
    ],
)
def test_email(recognizer: ExampleRecognizer, text: str, expected: list[tuple[Any, str]]) -> None:
    assert found(recognizer, text, "email") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +91 98765 43210", [("+919876543210", "+91 98765 43210")]),
        ("+1 555 123 4567", [("+15551234567", "+1 555 123 4567")]),
        ("98765-43210", [("9876543210", "98765-43210")]),
        ("(555) 123-4567", [("5551234567", "(555) 123-4567")]),
        ("555 1234", [("5551234", "555 1234")]),
        ("9876543210", [("9876543210", "9876543210")]),
        ("+442079460958", [("+442079460958", "+442079460958")]),
        ("5", []),  # a number, not a phone
        ("123456", []),  # six digits: too short
        ("1234567890123456", []),  # sixteen: too long
        ("Rs.1599", []),
        ("Rs.15999999", []),  # a price, however long
        ("₹ 15999999", []),
        ("1,299,000,000", []),
        ("2026-03-12", []),  # a date
        ("12-03-2026", []),
        ("17:30", []),
        ("1234567.89", []),
    ],
)
def test_phone(recognizer: ExampleRecognizer, text: str, expected: list[tuple[Any, str]]) -> None:
    assert found(recognizer, text, "phone") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", [(5, "5")]),
        ("-5", [(-5, "-5")]),
        ("3.14", [(3.14, "3.14")]),
        ("1,299", [(1299, "1,299")]),
        ("1,299.50", [(1299.5, "1,299.50")]),
        ("price is 1,299.50 or -3", [(1299.5, "1,299.50"), (-3, "-3")]),
        ("Rs.1599", [(1599, "1599")]),
        ("Rs1599", [(1599, "1599")]),
        ("$5", [(5, "5")]),
        ("50%", [(50, "50")]),
        ("2 speakers", [(2, "2")]),
        ("1234567", [(1234567, "1234567")]),  # also a phone
        ("one", [(1, "one")]),
        ("twenty five", [(25, "twenty five")]),
        ("Twenty-Five", [(25, "Twenty-Five")]),
        ("one hundred and five", [(105, "one hundred and five")]),
        ("a hundred", [(100, "a hundred")]),
        ("a thousand", [(1000, "a thousand")]),
        ("two thousand three hundred", [(2300, "two thousand three hundred")]),
        ("a dozen eggs", [(12, "a dozen")]),
        ("five five", [(5, "five"), (5, "five")]),
        ("twenty twenty", [(20, "twenty"), (20, "twenty")]),
        ("zero", [(0, "zero")]),
        ("i want this one", []),
        ("the one with the strap", []),
        ("mp3", []),
        ("5pm", []),  # a time
        ("5/10", []),
        ("1.2.3", []),
        ("1,5", []),
        ("2026-03-12", []),  # a date
        ("12 March 2026", []),
        ("at 17:30", []),
        ("+91 98765 43210", []),  # a formatted phone
        ("a@b2.co", []),
        ("https://x.com/42", []),
        ("and", []),
        ("a", []),
    ],
)
def test_number(recognizer: ExampleRecognizer, text: str, expected: list[tuple[Any, str]]) -> None:
    assert found(recognizer, text, "number") == expected


def test_number_values_are_int_or_float(recognizer: ExampleRecognizer) -> None:
    values = [v for v, _ in found(recognizer, "2 and 2.0 and two", "number")]
    assert values == [2, 2.0, 2]
    assert [type(v) for v in values] == [int, float, int]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-12", "2026-03-12"),
        ("12/03/2026", "2026-03-12"),  # day first
        ("1/2/2026", "2026-02-01"),
        ("12.03.2026", "2026-03-12"),
        ("12-03-26", "2026-03-12"),
        ("12 March 2026", "2026-03-12"),
        ("12th of march, 2026", "2026-03-12"),
        ("March 12", "2026-03-12"),  # this year
        ("Mar 12th, 2027", "2027-03-12"),
        ("on 1 Sept", "2026-09-01"),
        ("today", "2026-03-10"),
        ("Tomorrow", "2026-03-11"),
        ("yesterday", "2026-03-09"),
        ("the day after tomorrow", "2026-03-12"),
        ("day before yesterday", "2026-03-08"),
        ("31/02/2026", None),  # no such day
        ("13/13/2026", None),
        ("12/2026", None),
        ("5/10", None),
        ("March", None),
        ("may i help", None),
        ("1.2.3", None),
    ],
)
def test_date(recognizer: ExampleRecognizer, text: str, expected: str | None) -> None:
    assert [v for v, _ in found(recognizer, text, "date")] == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-12", ["2026-03-12"]),
        ("tomorrow", []),
        ("March 12", []),
        ("12 March 2026", ["2026-03-12"]),
    ],
)
def test_date_relative_to_today_needs_today(
    recognizer: ExampleRecognizer, text: str, expected: list[str]
) -> None:
    assert [v for v, _ in found(recognizer, text, "date", today=None)] == expected


def test_date_rolls_over_month_and_year_ends(recognizer: ExampleRecognizer) -> None:
    assert found(recognizer, "tomorrow", "date", today=date(2026, 12, 31)) == [
        ("2027-01-01", "tomorrow")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5pm", "17:00"),
        ("5 PM", "17:00"),
        ("5:30 pm", "17:30"),
        ("5.30pm", "17:30"),
        ("9 a.m.", "09:00"),
        ("12am", "00:00"),
        ("12 pm", "12:00"),
        ("17:30", "17:30"),
        ("at 09:05:59", "09:05"),
        ("noon", "12:00"),
        ("Midnight", "00:00"),
        ("5 o'clock", "05:00"),
        ("13pm", None),
        ("0am", None),
        ("25:00", None),
        ("17:30 pm", "17:30"),
        ("5", None),
        ("5.30", None),
        ("I am here", None),
        ("5 amazing things", None),
    ],
)
def test_time(recognizer: ExampleRecognizer, text: str, expected: str | None) -> None:
    assert [v for v, _ in found(recognizer, text, "time")] == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://example.com/a?b=1.",
            [("https://example.com/a?b=1", "https://example.com/a?b=1")],
        ),
        ("see www.example.org, ok", [("www.example.org", "www.example.org")]),
        ("HTTP://EXAMPLE.COM", [("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM")]),
        ("(http://x.io/p)", [("http://x.io/p", "http://x.io/p")]),
        ("http://", []),
        ("www.", []),
        ("example.com", []),  # no scheme and no www.
        ("ftp://example.com", []),
    ],
)
def test_url(recognizer: ExampleRecognizer, text: str, expected: list[tuple[Any, str]]) -> None:
    assert found(recognizer, text, "url") == expected


def test_builtin_values_carry_offsets(recognizer: ExampleRecognizer) -> None:
    text = "meet 2026-03-12 at 17:30, call 555-123-4567 or mail a@b.co about 3 items"
    entities = recognizer.parse(text, "en", today=TODAY).entities
    assert {name: [text[v.start : v.end] for v in values] for name, values in entities.items()} == {
        "email": ["a@b.co"],
        "phone": ["555-123-4567"],
        "number": ["3"],
        "date": ["2026-03-12"],
        "time": ["17:30"],
    }


def test_builtin_type_serves_a_declared_entity_under_its_own_name(
    make: Callable[..., ExampleRecognizer],
) -> None:
    recognizer = make(entities={"quantity": {"type": "number"}, "when": {"type": "date"}})
    entities = recognizer.parse("3 on 2026-01-02", "en").entities
    assert [v.value for v in entities["quantity"]] == [3]
    assert [v.value for v in entities["when"]] == ["2026-01-02"]
    assert "number" not in entities


def test_builtin_named_entity_is_read_only_when_the_bot_refers_to_it(
    make: Callable[..., ExampleRecognizer],
) -> None:
    silent = make(intents={"hi": {"examples": ["hi"]}})
    assert silent.parse("mail a@b.co", "en").entities == {}
    by_placeholder = make(intents={"contact": {"examples": ["my mail is {email}"]}})
    assert [v.value for v in by_placeholder.parse("a@b.co", "en").entities["email"]] == ["a@b.co"]

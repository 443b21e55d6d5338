from __future__ import annotations

import unicodedata

import pytest

from parley.nlu.normalize import normalize


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Hello, World!", "hello world"),
        ("  lots   of\tspace\n", "lots of space"),
        ("What's up?", "whats up"),
        ("What\u2019s up?", "whats up"),
        ("Crème Brûlée", "creme brulee"),
        (unicodedata.normalize("NFD", "Crème"), "creme"),  # accents as combining marks
        ("STRASSE Straße", "strasse strasse"),
        ("power-bank/alarm_clock", "power bank alarm clock"),
        ("\uff13 \uff46\uff55\uff4c\uff4c width", "3 full width"),  # full-width forms
        ("中文 😀 текст", "中文 текст"),
        ("...!!!", ""),
        ("", ""),
    ],
)
def test_text_folds_to_plain_words(text: str, folded: str) -> None:
    assert normalize(text).folded == folded


def test_each_word_keeps_its_span_in_the_original() -> None:
    text = "  Hi, Crème-Brûlée's FAN!"
    normalized = normalize(text)
    assert [text[t.start : t.end] for t in normalized.tokens] == [
        "Hi",
        "Crème",
        "Brûlée's",
        "FAN",
    ]
    assert normalized.span(1, 3) == (6, 20)
    assert text[6:20] == "Crème-Brûlée's"

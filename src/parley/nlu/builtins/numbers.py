"""Numbers written in digits ("1,299", "-3.5") or in English words ("twenty five")."""

from __future__ import annotations

import re
from collections.abc import Iterator

from parley.nlu.normalize import Normalized
from parley.nlu.spans import Span

# Not glued to a word or to another number (so "mp3", "5pm", "1.2.3" and "5/10" are not
# numbers), except after a currency code: "Rs.1599" is 1599.
_DIGITS = re.compile(
    r"(?:(?<![\w.,/:+-])|(?<=\brs\.)|(?<=\brs)|(?<=\binr)|(?<=\busd)|(?<=\beur)|(?<=\bgbp))"
    r"(?P<sign>[-\u2212])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?![\w]|[.,/:-]\d)",
    re.IGNORECASE,
)

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
# "the one", "this one": a pronoun, not a count.
_NOT_BEFORE_ONE = {"the", "this", "that", "which", "any", "no", "every", "some", "each", "other"}


def find_numbers(text: str, normalized: Normalized) -> list[Span]:
    return [*_digits(text), *_words(normalized)]


def _digits(text: str) -> Iterator[Span]:
    for match in _DIGITS.finditer(text):
        digits = match["int"].replace(",", "")
        value: int | float = float(digits + match["frac"]) if match["frac"] else int(digits)
        yield Span(match.start(), match.end(), -value if match["sign"] else value)


def _words(normalized: Normalized) -> Iterator[Span]:
    words = normalized.words
    i = 0
    while i < len(words):
        end, value = _read_words(words, i)
        if end > i:
            yield Span(*normalized.span(i, end), value)
            i = end
        else:
            i += 1


def _read_words(words: tuple[str, ...], start: int) -> tuple[int, int]:
    """The end and value of the longest number in words starting at `start` (end == start: none)."""
    total = current = 0
    last = ""  # kind of the last word read: unit, teen, ten, hundred, scale
    end = i = start
    if words[i] == "a" and i + 1 < len(words) and words[i + 1] in _SCALES.keys() | {"dozen"}:
        current, last, i = 1, "unit", i + 1
    if words[i] == "one" and start > 0 and words[start - 1] in _NOT_BEFORE_ONE:
        return start, 0
    while i < len(words):
        word = words[i]
        if word == "and" and last in ("hundred", "scale") and i + 1 < len(words):
            i += 1
            word = words[i]
        kind = _kind(word)
        if not _follows(last, kind, word):
            break
        if kind in ("unit", "teen", "ten"):
            current += _UNITS.get(word) or _TEENS.get(word) or _TENS.get(word, 0)
        elif word == "dozen":
            current = (current or 1) * 12
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _SCALES[word]
            current = 0
        last, i = kind, i + 1
        end = i
    return end, total + current


def _kind(word: str) -> str:
    if word in _UNITS:
        return "unit"
    if word in _TEENS:
        return "teen"
    if word in _TENS:
        return "ten"
    if word in ("hundred", "dozen"):
        return "hundred"
    return "scale" if word in _SCALES else ""


def _follows(last: str, kind: str, word: str) -> bool:
    if not kind:
        return False
    allowed = {
        "": ("unit", "teen", "ten", "hundred", "scale"),
        "unit": ("hundred", "scale"),
        "teen": ("hundred", "scale"),
        "ten": ("unit", "hundred", "scale"),
        "hundred": ("unit", "teen", "ten", "scale"),
        "scale": ("unit", "teen", "ten"),
    }[last]
    if kind == "unit" and word == "zero" and last:
        return False
    return kind in allowed

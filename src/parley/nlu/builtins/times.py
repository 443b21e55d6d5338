"""Times of day, valued as 24-hour `HH:MM`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from parley.nlu.spans import Span

_DIGIT = re.compile(r"\d")
_TWELVE_HOUR = re.compile(
    r"(?<![\w:.])(?P<hour>\d{1,2})(?:[:.](?P<minute>[0-5]\d))?\s*(?P<half>[ap])\.?m\b\.?",
    re.IGNORECASE,
)
_TWENTY_FOUR_HOUR = re.compile(
    r"(?<![\w:.])(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)(?::[0-5]\d)?(?![\w:]|\.\d)"
)
_OCLOCK = re.compile(r"(?<![\w:.])(?P<hour>\d{1,2})\s*o['\u2019]?\s?clock\b", re.IGNORECASE)
_NAMED = re.compile(r"\b(?P<name>noon|midday|midnight)\b", re.IGNORECASE)
_NAMED_VALUES = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}


def find_times(text: str) -> list[Span]:
    found = [
        Span(m.start(), m.end(), _NAMED_VALUES[m["name"].lower()]) for m in _NAMED.finditer(text)
    ]
    return [*found, *_numeric(text)] if _DIGIT.search(text) else found


def _numeric(text: str) -> Iterator[Span]:
    for match in _TWELVE_HOUR.finditer(text):
        hour = int(match["hour"])
        if 1 <= hour <= 12:
            hour = hour % 12 + (12 if match["half"].lower() == "p" else 0)
            yield Span(match.start(), match.end(), _clock(hour, match["minute"]))
    for match in _TWENTY_FOUR_HOUR.finditer(text):
        yield Span(match.start(), match.end(), _clock(int(match["hour"]), match["minute"]))
    for match in _OCLOCK.finditer(text):
        if int(match["hour"]) <= 23:
            yield Span(match.start(), match.end(), _clock(int(match["hour"]), None))


def _clock(hour: int, minute: str | None) -> str:
    return f"{hour:02d}:{minute or '00'}"

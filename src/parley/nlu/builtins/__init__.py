"""Built-in entity types: email, phone, number, date, time, url.

One `BuiltinScan` per message runs each type at most once. A number is not read from inside
a date, a time, an email, a URL or a formatted phone number ("+91 98765 43210"); a bare run
of 7 to 15 digits is both a phone and a number.
"""

from __future__ import annotations

from datetime import date

from parley.model import EntityValue
from parley.nlu.builtins.contact import find_emails, find_phones, find_urls
from parley.nlu.builtins.dates import find_dates
from parley.nlu.builtins.numbers import find_numbers
from parley.nlu.builtins.times import find_times
from parley.nlu.normalize import Normalized
from parley.nlu.spans import Span, longest_first, overlaps

__all__ = ["BuiltinScan"]


class BuiltinScan:
    def __init__(self, normalized: Normalized, today: date | None = None) -> None:
        self._normalized = normalized
        self._today = today
        self._spans: dict[str, list[Span]] = {}

    def values(self, kind: str) -> list[EntityValue]:
        text = self._normalized.text
        return [
            EntityValue(span.value, text[span.start : span.end], start=span.start, end=span.end)
            for span in self._found(kind)
            if span.value is not None
        ]

    def _found(self, kind: str) -> list[Span]:
        if kind not in self._spans:
            self._spans[kind] = longest_first(self._find(kind))
        return self._spans[kind]

    def _find(self, kind: str) -> list[Span]:
        text = self._normalized.text
        match kind:
            case "email":
                return find_emails(text)
            case "phone":
                return find_phones(text)
            case "url":
                return find_urls(text)
            case "date":
                return find_dates(text, self._today)
            case "time":
                return find_times(text)
            case "number":
                claims = self._claims()
                numbers = find_numbers(text, self._normalized)
                return [number for number in numbers if not overlaps(number, claims)]
        raise ValueError(f"not a built-in entity type: {kind}")

    def _claims(self) -> list[Span]:
        """Spans a number must not be read from."""
        text = self._normalized.text
        phones = (p for p in self._found("phone") if not text[p.start : p.end].isdigit())
        return [
            *self._found("date"),
            *self._found("time"),
            *self._found("email"),
            *self._found("url"),
            *phones,
        ]

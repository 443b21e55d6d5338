"""Calendar dates, valued as ISO `YYYY-MM-DD`.

Numeric dates are read day first (12/03/2026 is 12 March). Words relative to a day
(today, tomorrow, yesterday) and dates without a year need `today`; without it they are
still found (so their digits are not read as numbers) but have no value.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from parley.nlu.spans import Span

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11,
    "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_RELATIVE = {
    "day before yesterday": -2,
    "yesterday": -1,
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
    "tmrw": 1,
    "day after tomorrow": 2,
}
_PATTERNS = [
    re.compile(r"(?<![\w/.-])(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?![\w/-]|\.\d)"),
    re.compile(
        r"(?<![\w/.-])(?P<day>\d{1,2})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)"
        r"(?P<year>\d{4}|\d{2})(?![\w/-]|\.\d)"
    ),
    re.compile(rf"\b{_DAY}(?:\s+of)?\s+(?P<name>{_MONTH})\b\.?{_YEAR}(?![\w/-])", re.IGNORECASE),
    re.compile(rf"\b(?P<name>{_MONTH})\b\.?\s+{_DAY}\b{_YEAR}(?![\w/-])", re.IGNORECASE),
]
_DIGIT = re.compile(r"\d")
_RELATIVE_PATTERN = re.compile(
    r"\b(?:" + "|".join(w.replace(" ", r"\s+") for w in _RELATIVE) + r")\b", re.IGNORECASE
)


def find_dates(text: str, today: date | None) -> list[Span]:
    """Every date-like span; a span's value is None when it names no resolvable day."""
    patterns = _PATTERNS if _DIGIT.search(text) else ()
    found = [
        Span(m.start(), m.end(), _absolute(m, today)) for p in patterns for m in p.finditer(text)
    ]
    for match in _RELATIVE_PATTERN.finditer(text):
        offset = _RELATIVE[" ".join(match.group().lower().split())]
        value = (today + timedelta(days=offset)).isoformat() if today else None
        found.append(Span(match.start(), match.end(), value))
    return found


def _absolute(match: re.Match[str], today: date | None) -> str | None:
    parts = match.groupdict()
    month = MONTHS[parts["name"].lower()] if parts.get("name") else int(parts["month"])
    if parts["year"] is None:
        if today is None:
            return None
        year = today.year
    else:
        year = int(parts["year"])
        year += 2000 if len(parts["year"]) == 2 else 0
    try:
        return date(year, month, int(parts["day"])).isoformat()
    except ValueError:
        return None

"""Email addresses, phone numbers and URLs."""

from __future__ import annotations

import re
import unicodedata

from parley.nlu.spans import Span

_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(
    r"(?<![\w.%+-])([\w.%+-]+)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})(?![\w-]|\.[A-Za-z0-9])"
)

# Digit groups joined by one space or dash, or glued after a parenthesised area code.
# Every group after the first needs its separator, which keeps backtracking linear.
_PHONE = re.compile(
    r"(?<![\w.,/:+$€£₹-])"
    r"(\+?(?:\(\d{1,5}\)|\d+)(?:[ -]?\(\d{1,5}\)|[ -]\d+|(?<=\))\d+)*)"
    r"(?!\d|[.,:/]\d)"
)
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-(?:\d{4}|\d{2})")
_CURRENCY_BEFORE = re.compile(r"(?:\b(?:rs\.?|inr|usd|eur|gbp)|[$€£₹])\s*$", re.IGNORECASE)

_URL = re.compile(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'\""


def find_emails(text: str) -> list[Span]:
    if "@" not in text:
        return []
    return [
        Span(m.start(), m.end(), f"{m.group(1)}@{m.group(2).lower()}")
        for m in _EMAIL.finditer(text)
        if not m.group(1).startswith(".")
    ]


def find_phones(text: str) -> list[Span]:
    """7 to 15 digits; a leading `+` is kept in the value. Prices and dates are not phones."""
    found: list[Span] = []
    if not _DIGIT.search(text):
        return found
    for match in _PHONE.finditer(text):
        raw = match.group(1)
        digits = "".join(str(unicodedata.decimal(c)) for c in raw if c.isdecimal())
        if not 7 <= len(digits) <= 15 or _DATE_LIKE.fullmatch(raw):
            continue
        if _CURRENCY_BEFORE.search(text, max(0, match.start() - 6), match.start()):
            continue
        value = f"+{digits}" if raw.startswith("+") else digits
        found.append(Span(match.start(), match.end(), value))
    return found


def find_urls(text: str) -> list[Span]:
    found: list[Span] = []
    if "www." not in text.lower() and "http" not in text.lower():
        return found
    for match in _URL.finditer(text):
        url = match.group().rstrip(_URL_TRAILING)
        host = url.split("//", 1)[-1]
        if "." not in host.strip(".") or host.lower() == "www.":
            continue
        found.append(Span(match.start(), match.start() + len(url), url))
    return found

"""Found spans of text and the rule for choosing among overlapping ones."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol, TypeVar

Value = str | int | float


class Span(NamedTuple):
    """A match in the original text; `value` is None when it could not be resolved."""

    start: int
    end: int
    value: Value | None


class _Spanned(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


S = TypeVar("S", bound=_Spanned)


def non_overlapping(spans: Iterable[S], priority: Callable[[S], Any]) -> list[S]:
    """Spans taken in `priority` order, each kept unless it overlaps one already kept;
    returned in text order."""
    starts: list[int] = []
    chosen: list[S] = []
    for span in sorted(spans, key=priority):
        i = bisect_left(starts, span.start)
        if (i > 0 and chosen[i - 1].end > span.start) or (
            i < len(chosen) and chosen[i].start < span.end
        ):
            continue
        starts.insert(i, span.start)
        chosen.insert(i, span)
    return chosen


def longest_first(spans: Iterable[S]) -> list[S]:
    """Non-overlapping spans, longer ones winning (then the earlier), in text order."""
    return non_overlapping(spans, lambda s: (s.start - s.end, s.start))


def overlaps(span: _Spanned, others: Iterable[_Spanned]) -> bool:
    return any(span.start < o.end and o.start < span.end for o in others)

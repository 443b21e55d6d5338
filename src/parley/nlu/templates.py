"""Intent examples with `{entity}` placeholders.

An example "what does a {product_name} cost" compares with a message whose entity spans were
replaced by the same placeholder tokens. An example holding a free-text placeholder,
"my name is {name}", is also a template: matched on words, it captures the message's words
at the placeholder's place ("my name is Ada Lovelace" gives name = "Ada Lovelace").
Templates match in one pass over the words (leftmost literal after each placeholder), so
no message, however long, makes them backtrack.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from parley.nlu.normalize import Normalized, normalize
from parley.nlu.spans import longest_first

_PLACEHOLDER = re.compile(r"\{\s*([^{}\s]+)\s*\}")
_PRIVATE_USE = 0xF0000  # plane 15, never part of a word the normaliser keeps


class Slot(NamedTuple):
    entity: str


class Placeholders:
    """The token standing for each entity in compared text: one private-use character
    repeated, so that no two entities' tokens, nor any typed word, look alike to the fuzzy
    scorer, and a token weighs about as much as a word."""

    def __init__(self, entities: Iterable[str]) -> None:
        self._tokens = {
            name: chr(_PRIVATE_USE + n) * 4 for n, name in enumerate(dict.fromkeys(entities))
        }

    def __getitem__(self, entity: str) -> str:
        return self._tokens.get(entity) or f"{{{entity}}}"


@dataclass(frozen=True, slots=True)
class Example:
    intent: str
    parts: tuple[str | Slot, ...]  # literal text and placeholders, in order

    @classmethod
    def parse(cls, intent: str, text: str) -> Example:
        pieces = _PLACEHOLDER.split(text)
        parts = [Slot(p) if i % 2 else p for i, p in enumerate(pieces) if p.strip()]
        return cls(intent, tuple(parts))

    @property
    def slots(self) -> list[str]:
        return [p.entity for p in self.parts if isinstance(p, Slot)]


class Marked(NamedTuple):
    """An entity's span in a message, to be replaced by its placeholder."""

    start: int
    end: int
    entity: str


def substitute(normalized: Normalized, marks: Iterable[Marked], placeholders: Placeholders) -> str:
    """The folded words of a message with each marked span replaced by its placeholder."""
    chosen = longest_first(marks)
    if not chosen:
        return normalized.folded
    out: list[str] = []
    k, placed = 0, -1
    for token in normalized.tokens:
        while k < len(chosen) and chosen[k].end <= token.start:
            k += 1
        if k < len(chosen) and chosen[k].start < token.end:
            if placed != k:
                out.append(placeholders[chosen[k].entity])
                placed = k
        else:
            out.append(token.word)
    return " ".join(out)


class TemplateMatch(NamedTuple):
    full: bool  # the whole message, not just part of it
    captures: dict[str, tuple[int, int]]  # free-text entity -> token range


@dataclass(frozen=True, slots=True)
class Template:
    intent: str
    segments: tuple[tuple[str, ...] | Slot, ...]  # literal words and placeholders, alternating
    captured: frozenset[str]

    @classmethod
    def compile(cls, example: Example, text_entities: Collection[str]) -> Template | None:
        """The example as a template, or None when it has no free-text placeholder to fill."""
        segments: list[tuple[str, ...] | Slot] = []
        for part in example.parts:
            segment = part if isinstance(part, Slot) else normalize(part).words
            if not segment:
                continue
            if segments and isinstance(segment, Slot) == isinstance(segments[-1], Slot):
                return None  # two placeholders side by side: no words to tell them apart
            segments.append(segment)
        captured = frozenset(example.slots) & frozenset(text_entities)
        if not captured or all(isinstance(s, Slot) for s in segments):
            return None
        return cls(example.intent, tuple(segments), captured)

    def match(self, words: Sequence[str]) -> TemplateMatch | None:
        captures: dict[str, tuple[int, int]] = {}
        start = pos = 0
        open_slot: Slot | None = None
        for segment in self.segments:
            if isinstance(segment, Slot):
                open_slot = segment
                continue
            # Only a leading literal may be preceded by other words; segments alternate.
            at = _find(words, segment, pos + 1 if open_slot else pos)
            if at < 0:
                return None
            if open_slot is None:
                start = at
            else:
                self._capture(captures, open_slot, pos, at)
            pos, open_slot = at + len(segment), None
        if open_slot is not None:
            if pos >= len(words):
                return None
            self._capture(captures, open_slot, pos, len(words))
            pos = len(words)
        return TemplateMatch(start == 0 and pos == len(words), captures)

    def _capture(self, captures: dict[str, tuple[int, int]], slot: Slot, a: int, b: int) -> None:
        if slot.entity in self.captured:
            captures.setdefault(slot.entity, (a, b))


def _find(words: Sequence[str], needle: tuple[str, ...], start: int) -> int:
    first, n = needle[0], len(needle)
    for i in range(start, len(words) - n + 1):
        if words[i] == first and tuple(words[i : i + n]) == needle:
            return i
    return -1

"""List entities: canonical values and their synonyms, found on word boundaries.

Longer synonyms win over shorter ones ("alarm clock speaker" over "speaker"). An entity with
`fuzzy` on also takes plurals ("speakers"), compounds written as one word ("powerbank" for
"power bank") and typos scoring at least its threshold ("powerbnk").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz, process

from parley.bot.schema import EntitySpec
from parley.model import EntityValue
from parley.nlu.normalize import Normalized, normalize
from parley.nlu.spans import non_overlapping

DEFAULT_FUZZY = 0.85
_MIN_FUZZY_CHARS = 4  # shorter words are too close to each other for typos to be told apart
_EXACT, _LOOSE, _FUZZY = 0, 1, 2
_MEMO_SIZE = 20_000


class _Entry(NamedTuple):
    entity: str
    canonical: str


class _Candidate(NamedTuple):
    start: int  # token indexes
    end: int
    entry: _Entry
    rank: int
    score: float


@dataclass(slots=True)
class _FuzzyChoices:
    keys: list[str] = field(default_factory=list)
    entries: list[_Entry] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)
    seen: set[tuple[str, _Entry]] = field(default_factory=set)
    memo: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def add(self, key: str, entry: _Entry, threshold: float) -> None:
        if (key, entry) not in self.seen:
            self.seen.add((key, entry))
            self.keys.append(key)
            self.entries.append(entry)
            self.thresholds.append(threshold * 100)


@lru_cache(maxsize=16384)
def singular(word: str) -> str:
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


def fuzzy_threshold(fuzzy: bool | float) -> float | None:
    if isinstance(fuzzy, bool):
        return DEFAULT_FUZZY if fuzzy else None
    return float(fuzzy) if fuzzy > 0 else None


class ListMatcher:
    def __init__(self, entities: Mapping[str, EntitySpec]) -> None:
        self._exact: dict[str, list[_Entry]] = defaultdict(list)
        self._loose: dict[str, list[_Entry]] = defaultdict(list)
        self._fuzzy: dict[int, _FuzzyChoices] = defaultdict(_FuzzyChoices)
        self._max_words = 0
        for name, spec in entities.items():
            if spec.type == "list":
                self._add(name, spec)
        # Only positions starting with one of these words can start a synonym.
        self._first_words = {key.split(" ", 1)[0] for key in [*self._exact, *self._loose]}
        self._min_threshold = min(
            (t for c in self._fuzzy.values() for t in c.thresholds), default=100.0
        )

    def _add(self, name: str, spec: EntitySpec) -> None:
        threshold = fuzzy_threshold(spec.fuzzy)
        for canonical, synonyms in spec.values.items():
            entry = _Entry(name, canonical)
            for synonym in dict.fromkeys([canonical, *synonyms]):
                words = normalize(synonym).words
                if not words:
                    continue
                self._max_words = max(self._max_words, len(words))
                _add_once(self._exact, " ".join(words), entry)
                if threshold is None:
                    continue
                forms = [words, ("".join(words),)] if len(words) > 1 else [words]
                for form in forms:
                    _add_once(self._loose, " ".join(map(singular, form)), entry)
                    self._fuzzy[len(form)].add(" ".join(form), entry, threshold)

    def find(self, normalized: Normalized) -> dict[str, list[EntityValue]]:
        candidates = self._exact_candidates(normalized.words)
        if self._fuzzy:
            covered = {i for c in candidates for i in range(c.start, c.end)}
            candidates += self._fuzzy_candidates(normalized.words, covered)
        by_entity: dict[str, list[_Candidate]] = defaultdict(list)
        for candidate in candidates:
            by_entity[candidate.entry.entity].append(candidate)
        text = normalized.text
        found = {}
        for entity, entity_candidates in by_entity.items():
            values = []
            for c in _choose(entity_candidates):
                start, end = normalized.span(c.start, c.end)
                values.append(EntityValue(c.entry.canonical, text[start:end], start=start, end=end))
            found[entity] = values
        return found

    def _exact_candidates(self, words: tuple[str, ...]) -> list[_Candidate]:
        candidates = []
        for rank, index, forms in (
            (_EXACT, self._exact, words),
            (_LOOSE, self._loose, [singular(w) for w in words] if self._loose else []),
        ):
            for i, first in enumerate(forms):
                if first not in self._first_words:
                    continue
                for n in range(1, min(self._max_words, len(forms) - i) + 1):
                    for entry in index.get(" ".join(forms[i : i + n]), ()):
                        candidates.append(_Candidate(i, i + n, entry, rank, 100.0))
        return candidates

    def _fuzzy_candidates(self, words: tuple[str, ...], covered: set[int]) -> list[_Candidate]:
        candidates = []
        for n, choices in self._fuzzy.items():
            for i in range(len(words) - n + 1):
                if covered and not covered.isdisjoint(range(i, i + n)):
                    continue
                key = " ".join(words[i : i + n]) if n > 1 else words[i]
                for k, score in self._fuzzy_lookup(choices, key):
                    candidates.append(_Candidate(i, i + n, choices.entries[k], _FUZZY, score))
        return candidates

    def _fuzzy_lookup(self, choices: _FuzzyChoices, key: str) -> list[tuple[int, float]]:
        """The choices `key` is a typo of; remembered, as the same words come back often."""
        if len(key) < _MIN_FUZZY_CHARS or key.replace(" ", "").isdigit():
            return []
        found = choices.memo.get(key)
        if found is None:
            scored = process.extract(
                key, choices.keys, scorer=fuzz.ratio, score_cutoff=self._min_threshold, limit=None
            )
            found = [(k, score) for _, score, k in scored if score >= choices.thresholds[k]]
            if len(choices.memo) >= _MEMO_SIZE:
                choices.memo.clear()
            choices.memo[key] = found
        return found


def _add_once(index: dict[str, list[_Entry]], key: str, entry: _Entry) -> None:
    if entry not in index[key]:
        index[key].append(entry)


def _choose(candidates: list[_Candidate]) -> list[_Candidate]:
    """Longest first, then exact before loose before fuzzy, then the better score."""
    return non_overlapping(candidates, lambda c: (c.start - c.end, c.rank, -c.score, c.start))

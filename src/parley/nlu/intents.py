"""Intent scores by fuzzy similarity of a message to each intent's examples.

A message scores against an example as the mean of two rapidfuzz scores on folded words:
`token_sort_ratio` (the same words, in any order, typos forgiven) and `token_set_ratio`
(the example's words all present, the message saying more). An intent scores its best
example. Only an exact match scores 1.0; anything else is capped just below it.

Examples come in two forms, as written and with entity mentions made placeholders; a
message too. When the message mentions entities, its plain form is compared with the plain
examples and its marked form with the marked ones, which halves the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rapidfuzz import fuzz, process

_BELOW_EXACT = 0.99
_MEMO_SIZE = 10_000


class _Choices:
    def __init__(self, owners: dict[str, list[int]]) -> None:
        self.texts = list(owners)
        self.sorted_texts = [_sorted_words(text) for text in self.texts]
        self.owners = list(owners.values())


class IntentIndex:
    def __init__(self, examples: Iterable[tuple[str, str, bool]], min_score: float) -> None:
        """`examples` are (folded example, intent, whether it holds placeholders) triples;
        intents scoring under `min_score` may be left out."""
        self._intents: list[str] = []
        self._exact: dict[str, list[int]] = {}
        plain: dict[str, list[int]] = {}
        marked: dict[str, list[int]] = {}
        for text, intent, has_placeholders in examples:
            if not text:
                continue
            if intent not in self._intents:
                self._intents.append(intent)
            owner = self._intents.index(intent)
            for index in (self._exact, marked if has_placeholders else plain):
                if owner not in index.setdefault(text, []):
                    index[text].append(owner)
        self._all = _Choices(self._exact)
        self._plain = _Choices(plain)
        self._marked = _Choices(marked)
        self._cutoff = min_score * 100
        self._memo: dict[tuple[str, str], dict[str, float]] = {}

    def score(self, plain: str, marked: str) -> dict[str, float]:
        """Each intent's confidence for a message in its plain and its marked form."""
        # Quick replies and greetings come back word for word: remember recent answers.
        scores = self._memo.get((plain, marked))
        if scores is None:
            scores = self._score(plain, marked)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[plain, marked] = scores
        return dict(scores)

    def _score(self, plain: str, marked: str) -> dict[str, float]:
        best = [0.0] * len(self._intents)
        if plain == marked:
            self._score_into(best, plain, self._all)
        else:
            self._score_into(best, plain, self._plain)
            self._score_into(best, marked, self._marked)
        best = [min(score, _BELOW_EXACT) for score in best]
        for query in (plain, marked):
            for owner in self._exact.get(query, ()):
                best[owner] = 1.0
        return {intent: score for intent, score in zip(self._intents, best, strict=True) if score}

    def _score_into(self, best: list[float], query: str, choices: _Choices) -> None:
        if not query or not choices.texts:
            return
        # A mean of at least the cutoff needs one of the two scores at least at the cutoff.
        sorted_query = _sorted_words(query)
        sort_scores = _scores(sorted_query, choices.sorted_texts, fuzz.ratio, self._cutoff)
        set_scores = _scores(query, choices.texts, fuzz.token_set_ratio, self._cutoff)
        for i in sort_scores.keys() | set_scores.keys():
            sort_score = sort_scores.get(i)
            if sort_score is None:
                sort_score = fuzz.ratio(sorted_query, choices.sorted_texts[i])
            set_score = set_scores.get(i)
            if set_score is None:
                set_score = fuzz.token_set_ratio(query, choices.texts[i])
            score = (sort_score + set_score) / 200
            for owner in choices.owners[i]:
                if score > best[owner]:
                    best[owner] = score


def _scores(
    query: str, texts: list[str], scorer: Callable[..., float], cutoff: float
) -> dict[int, float]:
    found = process.extract(query, texts, scorer=scorer, limit=None, score_cutoff=cutoff)
    return {i: score for _, score, i in found}


def _sorted_words(text: str) -> str:
    return " ".join(sorted(text.split()))

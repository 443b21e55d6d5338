"""Text normalisation shared by intents, list entities and templates.

A message becomes a sequence of folded words (casefolded, accents and apostrophes removed,
any other punctuation a separator); every word keeps its character span in the original
text, so a match on words maps back to the exact text the user typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# A word is a run of letters/digits (with any combining accents), apostrophes inside it
# allowed so "what's" stays one word.
_WORD = re.compile(r"(?:[^\W_][\u0300-\u036f]*)+(?:['\u2019](?:[^\W_][\u0300-\u036f]*)+)*")


@lru_cache(maxsize=16384)
def fold(word: str) -> str:
    if word.isascii():
        return word.lower().replace("'", "")
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if c.isalnum())


@dataclass(frozen=True, slots=True)
class Token:
    word: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Normalized:
    """`text` as folded `words`, each with its span in `text`; `folded` joins them by spaces."""

    text: str
    tokens: tuple[Token, ...]
    words: tuple[str, ...]
    folded: str

    def span(self, first: int, last: int) -> tuple[int, int]:
        """The original character span of tokens `first` to `last` (exclusive)."""
        return self.tokens[first].start, self.tokens[last - 1].end


def normalize(text: str) -> Normalized:
    tokens = []
    for match in _WORD.finditer(text):
        word = fold(match.group())
        if word:
            tokens.append(Token(word, match.start(), match.end()))
    words = tuple(t.word for t in tokens)
    return Normalized(text, tuple(tokens), words, " ".join(words))

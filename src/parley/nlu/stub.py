"""A fake recognizer for tests of the engine and the runtime."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from parley.model import Parse
from parley.nlu.base import Recognizer

Answer = Callable[[str, str, str | None], Parse]


class StubRecognizer(Recognizer):
    """Answers from a mapping of text to `Parse`, or from a callable `(text, language,
    expecting) -> Parse`; an unknown text parses to nothing. Every call is kept in `calls`."""

    def __init__(self, answers: Mapping[str, Parse] | Answer) -> None:
        self._answers = answers
        self.calls: list[tuple[str, str, str | None]] = []

    def parse(
        self,
        text: str,
        language: str,
        expecting: str | None = None,
        *,
        today: date | None = None,
    ) -> Parse:
        self.calls.append((text, language, expecting))
        if callable(self._answers):
            return self._answers(text, language, expecting)
        parse = self._answers.get(text)
        return parse if parse is not None else Parse(text, language)

"""The recognizer interface: what the runtime asks of any NLU backend."""

from __future__ import annotations

import abc
from datetime import date

from parley.model import Parse


class Recognizer(abc.ABC):
    """Reads one user message into a `Parse`.

    Done means: `intents` holds every intent with a meaningful score, best first, each
    confidence in [0, 1] (1.0 only for an exact example or template match; the engine applies
    the bot's `intent_threshold`); `entities` maps entity names to the values found in the
    message, each with its `raw` text and `start`/`end` offsets in `text`; `language` is
    carried through. A recognizer does no I/O and never reads the clock: relative dates
    ("tomorrow") resolve against `today` and have no value when it is None. `parse` never
    raises on any text.

    `expecting` names the entity the bot just asked for: a free-text (`type: text`) entity
    then takes the whole trimmed message when no example template captured it and the message
    is not an exact example of an intent; typed and list entities are extracted as usual.
    """

    @abc.abstractmethod
    def parse(
        self,
        text: str,
        language: str,
        expecting: str | None = None,
        *,
        today: date | None = None,
    ) -> Parse: ...

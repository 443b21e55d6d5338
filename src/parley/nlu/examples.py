"""The example-based recognizer: what a small bot lives on until a statistical model comes."""

from __future__ import annotations

from datetime import date

from parley.bot.schema import BotSpec
from parley.model import EntityValue, IntentMatch, Parse
from parley.nlu.base import Recognizer
from parley.nlu.entities import EntityExtractor
from parley.nlu.intents import IntentIndex
from parley.nlu.normalize import Normalized, normalize
from parley.nlu.templates import Example, Marked, Placeholders, Slot, Template, substitute

MIN_CONFIDENCE = 0.3
MAX_CHARS = 2_000  # longer messages are read up to here; chat messages rarely come close


class ExampleRecognizer(Recognizer):
    """Intents by fuzzy similarity to the bot's examples, entities by list, regex, built-in
    type and example template. Everything that depends only on the bot is built here."""

    def __init__(self, spec: BotSpec) -> None:
        examples = [
            Example.parse(intent, text)
            for intent, intent_spec in spec.intents.items()
            for text in intent_spec.examples
        ]
        referenced = [slot for example in examples for slot in example.slots]
        referenced += [name for node in spec.nodes.values() for name in node.entities]
        self._entities = EntityExtractor(spec.entities, referenced)
        self._placeholders = Placeholders([*spec.entities, *referenced])
        self._text_entities = frozenset(n for n, e in spec.entities.items() if e.type == "text")
        self._templates = [
            template
            for example in examples
            if (template := Template.compile(example, self._text_entities))
        ]
        self._index = IntentIndex(
            (
                (form, example.intent, marked)
                for example in examples
                for form, marked in self._forms(example)
            ),
            MIN_CONFIDENCE,
        )
        self._rank = {intent: n for n, intent in enumerate(spec.intents)}

    def _forms(self, example: Example) -> list[tuple[str, bool]]:
        """The example as written, and with the entities it mentions made placeholders."""
        plain, marked = [], []
        for part in example.parts:
            if isinstance(part, Slot):
                plain.append(self._placeholders[part.entity])
                marked.append(self._placeholders[part.entity])
            else:
                normalized = normalize(part)
                marks = _marks(self._entities.extract(normalized, None))
                plain.append(normalized.folded)
                marked.append(substitute(normalized, marks, self._placeholders))
        plain_form, marked_form = " ".join(filter(None, plain)), " ".join(filter(None, marked))
        if plain_form == marked_form:
            return [(plain_form, bool(example.slots))]
        return [(plain_form, bool(example.slots)), (marked_form, True)]

    def parse(
        self,
        text: str,
        language: str,
        expecting: str | None = None,
        *,
        today: date | None = None,
    ) -> Parse:
        normalized = normalize(text[:MAX_CHARS])
        entities = self._entities.extract(normalized, today)
        exact = self._apply_templates(normalized, entities)
        marked = substitute(normalized, _marks(entities), self._placeholders)
        scores = self._index.score(normalized.folded, marked)
        scores.update(dict.fromkeys(exact, 1.0))
        intents = sorted(
            (IntentMatch(name, score) for name, score in scores.items() if score >= MIN_CONFIDENCE),
            key=lambda match: (-match.confidence, self._rank.get(match.name, 0)),
        )
        exact_intent = bool(intents) and intents[0].confidence == 1.0
        if expecting in self._text_entities and expecting not in entities and not exact_intent:
            entities.update(_whole_message(expecting, text))
        return Parse(text, language, intents, entities)

    def _apply_templates(
        self, normalized: Normalized, entities: dict[str, list[EntityValue]]
    ) -> set[str]:
        """Adds free-text captures to `entities`; returns the intents matched whole."""
        exact = set()
        for template in self._templates:
            match = template.match(normalized.words)
            if match is None:
                continue
            if match.full:
                exact.add(template.intent)
            for name, (first, last) in match.captures.items():
                start, end = normalized.span(first, last)
                raw = normalized.text[start:end]
                value = EntityValue(raw, raw, start=start, end=end)
                values = entities.setdefault(name, [])
                if value not in values:
                    values.append(value)
        return exact


def _whole_message(name: str, text: str) -> dict[str, list[EntityValue]]:
    stripped = text.strip()
    if not stripped:
        return {}
    start = text.index(stripped)
    return {name: [EntityValue(stripped, stripped, start=start, end=start + len(stripped))]}


def _marks(entities: dict[str, list[EntityValue]]) -> list[Marked]:
    return [
        Marked(value.start, value.end, name)
        for name, values in entities.items()
        for value in values
        if value.start is not None and value.end is not None
    ]

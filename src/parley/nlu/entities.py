"""Every entity a bot can read from a message, by kind: list, regex and built-in types.

Free-text entities are not here: only a template or `expecting` can place them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date

from parley.bot.schema import BUILTIN_ENTITY_TYPES, EntitySpec
from parley.errors import BotInvalid, Problem
from parley.model import EntityValue
from parley.nlu.builtins import BuiltinScan
from parley.nlu.lists import ListMatcher
from parley.nlu.normalize import Normalized


class EntityExtractor:
    """Reads the declared entities, and undeclared ones named after a built-in type that the
    bot refers to (`email` in a node's `entities:` or an example's placeholder)."""

    def __init__(self, entities: Mapping[str, EntitySpec], referenced: Collection[str]) -> None:
        self._lists = ListMatcher(entities)
        self._regexes: dict[str, re.Pattern[str]] = {}
        self._typed: dict[str, str] = {}
        self._order: list[str] = []
        for name, spec in entities.items():
            if spec.type == "regex" and spec.pattern:
                self._regexes[name] = _compile(name, spec.pattern)
            elif spec.type in BUILTIN_ENTITY_TYPES:
                self._typed[name] = spec.type
            if spec.type != "text":
                self._order.append(name)
        for name in dict.fromkeys(referenced):
            if name not in entities and name in BUILTIN_ENTITY_TYPES and name not in self._typed:
                self._typed[name] = name
                self._order.append(name)

    def extract(self, normalized: Normalized, today: date | None) -> dict[str, list[EntityValue]]:
        found = self._lists.find(normalized)
        for name, pattern in self._regexes.items():
            found[name] = _regex_values(pattern, normalized.text)
        if self._typed:
            scan = BuiltinScan(normalized, today)
            for name, kind in self._typed.items():
                found[name] = scan.values(kind)
        return {name: found[name] for name in self._order if found.get(name)}


def _compile(name: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise BotInvalid(
            [Problem("bot.yaml", None, f"entities.{name}.pattern", str(error))]
        ) from error


def _regex_values(pattern: re.Pattern[str], text: str) -> list[EntityValue]:
    values = []
    for match in pattern.finditer(text):
        if match.end() == match.start():
            continue
        value = match.group(1) if pattern.groups and match.group(1) is not None else match.group()
        values.append(EntityValue(value, match.group(), start=match.start(), end=match.end()))
    return values

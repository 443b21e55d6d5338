"""Entities: the ones nodes collect and examples mention exist, and regex patterns compile."""

from __future__ import annotations

import re

from parley.bot.hints import did_you_mean
from parley.bot.schema import BUILTIN_ENTITY_TYPES, BotSpec
from parley.bot.source import KeyPath, SourceMap
from parley.errors import Problem

PLACEHOLDER = re.compile(r"\{\s*([^{}\s]+)\s*\}")
"""`{product_name}` in an intent example: an entity value goes here."""


def check_entities(spec: BotSpec, source: SourceMap) -> list[Problem]:
    known = [*spec.entities, *BUILTIN_ENTITY_TYPES]
    out: list[Problem] = []
    for node_name, node in spec.nodes.items():
        for entity in node.entities:
            if entity not in known:
                slot_path: KeyPath = ("nodes", node_name, "entities", entity)
                out.append(source.problem(slot_path, _unknown(entity, known)))
    for intent_name, intent in spec.intents.items():
        for index, example in enumerate(intent.examples):
            for entity in PLACEHOLDER.findall(example):
                if entity not in known:
                    example_path: KeyPath = ("intents", intent_name, "examples", index)
                    out.append(source.problem(example_path, _unknown(entity, known)))
    for name, entity_spec in spec.entities.items():
        if entity_spec.type == "regex" and entity_spec.pattern is not None:
            try:
                re.compile(entity_spec.pattern)
            except re.error as exc:
                message = f"invalid regular expression: {exc}"
                out.append(source.problem(("entities", name, "pattern"), message))
    return out


def _unknown(entity: str, known: list[str]) -> str:
    if hint := did_you_mean(entity, known):
        return f"unknown entity `{entity}`{hint}"
    builtins = ", ".join(BUILTIN_ENTITY_TYPES)
    return f"unknown entity `{entity}`: declare it under `entities:` or use a type ({builtins})"

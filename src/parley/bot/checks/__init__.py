"""Checks that need the whole bot: references between its parts, URLs, templates, patterns.

Each check is a function `(spec, source) -> list[Problem]`; they run once the schema passes.
"""

from __future__ import annotations

from collections.abc import Callable

from parley.bot.checks.entities import check_entities
from parley.bot.checks.graph import check_graph
from parley.bot.checks.templates import check_templates
from parley.bot.checks.webhooks import check_webhooks
from parley.bot.schema import BotSpec
from parley.bot.source import SourceMap
from parley.errors import Problem

Check = Callable[[BotSpec, SourceMap], list[Problem]]

CHECKS: tuple[Check, ...] = (check_graph, check_entities, check_webhooks, check_templates)


def run_checks(spec: BotSpec, source: SourceMap) -> list[Problem]:
    return [problem for check in CHECKS for problem in check(spec, source)]

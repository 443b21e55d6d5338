from __future__ import annotations

from parley.errors import Problem


def where(problems: list[Problem]) -> list[tuple[int | None, str]]:
    """(line, key) of each problem: what most tests assert exactly."""
    return [(p.line, p.key) for p in problems]

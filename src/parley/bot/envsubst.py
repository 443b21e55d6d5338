"""`${NAME}` in string values reads the environment.

`${NAME:-default}` falls back to `default` when NAME is unset or empty; `$${` is a literal
`${`; `${{` is left alone, so `${{ price }}` renders a dollar sign before a Jinja expression.
Keys are never substituted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from parley.bot.source import KeyPath

_REFERENCE = re.compile(
    r"\$\$\{"  # escaped
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|\$\{(?!\{)"  # anything else after `${` is malformed
)


def substitute(data: Any, env: Mapping[str, str]) -> tuple[Any, list[tuple[KeyPath, str]]]:
    """`data` with every reference replaced, and `(key path, message)` for each failure.

    A failed reference is replaced by an empty string so validation can go on.
    """
    failures: list[tuple[KeyPath, str]] = []
    return _walk(data, (), env, failures), failures


def _walk(data: Any, path: KeyPath, env: Mapping[str, str], out: list[tuple[KeyPath, str]]) -> Any:
    if isinstance(data, str):
        return _expand(data, path, env, out) if "${" in data else data
    if isinstance(data, dict):
        return {key: _walk(value, (*path, key), env, out) for key, value in data.items()}
    if isinstance(data, list):
        return [_walk(item, (*path, index), env, out) for index, item in enumerate(data)]
    return data


def _expand(
    text: str, path: KeyPath, env: Mapping[str, str], out: list[tuple[KeyPath, str]]
) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        if match[0] == "$${":
            return "${"
        if name is None:
            out.append((path, "malformed `${...}`: write `${NAME}`, or `$${` for a literal `${`"))
            return ""
        value = env.get(name)
        if value:
            return value
        if default is not None:
            return default
        if value is None:
            out.append((path, f"environment variable `{name}` is not set"))
        return ""

    return _REFERENCE.sub(replace, text)

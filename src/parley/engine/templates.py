"""Sandboxed Jinja templates (`says`) and conditions (`next[].if`), compiled once per source."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from parley.errors import ParleyError
from parley.model import Conversation, Parse, User


class TemplateFailed(ParleyError):
    """A template or condition raised while rendering (not a syntax error: `parley check`
    catches those)."""

    code = "template_failed"


_PATH = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)\s*")
"""A dotted name (`user.id`, `memory.city.raw`): looked up without a Jinja context."""
_WHOLE_PATH = re.compile(r"\{\{" + _PATH.pattern + r"\}\}")


class _Sandbox(ImmutableSandboxedEnvironment):
    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        # Fail loudly instead of rendering "": a template probing internals is a bug or an attack.
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} is not allowed")


class Templates:
    """Renders strings and evaluates conditions over a conversation's variables.

    Undefined names render as empty and are false in conditions, so `{{ memory.x.raw }}`
    before `x` is known is "" rather than an error. The sandbox forbids attribute access to
    internals and mutation of the variables.
    """

    def __init__(self) -> None:
        self._env = _Sandbox(
            undefined=jinja2.ChainableUndefined, autoescape=False, keep_trailing_newline=False
        )
        self._templates: dict[str, jinja2.Template] = {}
        self._conditions: dict[str, Callable[..., Any]] = {}
        self._render_paths: dict[str, tuple[str, ...] | None] = {}
        self._expression_paths: dict[str, tuple[str, ...] | None] = {}

    def render(self, source: str, variables: Mapping[str, Any]) -> str:
        if "{" not in source:  # the common case: plain text, no Jinja at all
            return source
        if (path := _path(source, _WHOLE_PATH, self._render_paths)) is not None:  # {{ a.b }}
            return str(self._resolve(path, variables))
        template = self._templates.get(source)
        if template is None:
            template = self._templates[source] = self._env.from_string(source)
        try:
            return template.render(variables)
        except Exception as exc:
            raise TemplateFailed(f"template {source!r} failed: {exc}") from exc

    def evaluate(self, expression: str, variables: Mapping[str, Any]) -> Any:
        """The value of a Jinja expression (undefined → None), for typed substitutions."""
        if (path := _path(expression, _PATH, self._expression_paths)) is not None:
            value = self._resolve(path, variables)
            return None if isinstance(value, jinja2.Undefined) else value
        condition = self._conditions.get(expression)
        if condition is None:
            condition = self._env.compile_expression(expression, undefined_to_none=True)
            self._conditions[expression] = condition
        try:
            return condition(**variables)
        except Exception as exc:
            raise TemplateFailed(f"expression {expression!r} failed: {exc}") from exc

    def test(self, expression: str, variables: Mapping[str, Any]) -> bool:
        return bool(self.evaluate(expression, variables))

    def _resolve(self, path: tuple[str, ...], variables: Mapping[str, Any]) -> Any:
        """What Jinja gives a dotted name, without building a template context (a fifth of a
        simple render's time): the variable or global, then the sandbox's own `getattr` for
        each attribute (its safety checks, attribute-then-item), undefined when missing."""
        root, *attributes = path
        if root in variables:
            value = variables[root]
        elif root in self._env.globals:
            value = self._env.globals[root]
        else:
            return self._env.undefined(name=root)
        try:
            for attribute in attributes:
                value = self._env.getattr(value, attribute)
        except Exception as exc:
            raise TemplateFailed(f"template {'.'.join(path)!r} failed: {exc}") from exc
        return value


def _path(
    source: str, pattern: re.Pattern[str], seen: dict[str, tuple[str, ...] | None]
) -> tuple[str, ...] | None:
    """The dotted name `source` is (by `pattern`), or None; remembered in `seen`."""
    try:
        return seen[source]
    except KeyError:
        match = pattern.fullmatch(source)
        path = seen[source] = tuple(match.group(1).split(".")) if match else None
        return path


def variables(conversation: Conversation, user: User, parse: Parse | None) -> dict[str, Any]:
    """The names a template sees.

    Top level: every conversation data key, then every collected entity's value (so
    `{{ product_name }}`). Also `memory.<entity>.{value,raw,detection}`, `user.<x>` (profile
    and permanent data, plus id/name/full_name/language), `data`, `conversation` and `nlp`.
    """
    out: dict[str, Any] = dict(conversation.data)
    memory = {}
    for name, value in conversation.entities.items():
        out[name] = value.value
        memory[name] = value.to_json()
    out["memory"] = memory
    out["data"] = conversation.data
    out["user"] = {
        **user.data,
        **user.profile,
        "id": user.id,
        "name": user.name,
        "full_name": user.full_name,
        "language": user.language or conversation.language,
        "data": user.data,
    }
    out["conversation"] = {
        "id": conversation.id,
        "no": conversation.conversation_no,
        "language": conversation.language,
        "node": conversation.node,
        "environment": conversation.environment.value,
    }
    out["nlp"] = parse.to_json() if parse is not None else {}
    return out

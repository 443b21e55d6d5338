"""Custom JSON bodies with `{{ }}` references, rendered in a Jinja sandbox.

A string that is one whole reference (`"{{ memory.qty.scalar }}"`) becomes the referenced
value with its JSON type (a number stays a number, an object an object, undefined is null);
a reference inside a longer string is rendered as text. Keys are rendered as text. The
result is plain JSON data: `json.dumps` does the escaping, so rendered text can never break
the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from parley.model import JSON

_WHOLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)


class BodyTemplateError(ValueError):
    """A reference in a custom body failed to compile or render; the message names it."""


class _Sandbox(ImmutableSandboxedEnvironment):
    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} is not allowed")


_ENV = _Sandbox(undefined=jinja2.ChainableUndefined, autoescape=False, keep_trailing_newline=True)


def render_json(template: JSON, variables: Mapping[str, Any]) -> JSON:
    """`template` (any JSON value) with every `{{ }}` reference in its strings filled in."""
    if isinstance(template, str):
        return _render_string(template, variables)
    if isinstance(template, dict):
        return {
            _text(str(key), variables): render_json(value, variables)
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [render_json(item, variables) for item in template]
    return template


def _render_string(source: str, variables: Mapping[str, Any]) -> JSON:
    if "{" not in source:
        return source
    whole = _WHOLE.match(source)
    if whole is None:
        return _text(source, variables)
    expression = _expression(whole["expr"])
    try:
        value = expression(**variables)
    except Exception as exc:
        raise BodyTemplateError(f"body reference {source!r} failed: {exc}") from exc
    return _plain(value)


def _text(source: str, variables: Mapping[str, Any]) -> str:
    if "{" not in source:
        return source
    template = _template(source)
    try:
        return template.render(variables)
    except Exception as exc:
        raise BodyTemplateError(f"body template {source!r} failed: {exc}") from exc


@lru_cache(maxsize=512)
def _expression(source: str) -> Callable[..., Any]:
    try:
        return _ENV.compile_expression(source, undefined_to_none=True)
    except jinja2.TemplateSyntaxError as exc:
        raise BodyTemplateError(f"body reference {{{{{source}}}}} is not valid: {exc}") from exc


@lru_cache(maxsize=512)
def _template(source: str) -> jinja2.Template:
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise BodyTemplateError(f"body template {source!r} is not valid: {exc}") from exc


def _plain(value: Any) -> JSON:
    """`value` as JSON data: undefined is null, tuples are lists, anything else is its text."""
    if value is None or isinstance(value, jinja2.Undefined):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)

"""Templates: every text the bot says is valid Jinja, every condition a valid expression, and
every `{response: key}` names a key of `responses:`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from parley.bot.hints import did_you_mean
from parley.bot.schema import BotSpec, ResponseRef, RichSay, Say
from parley.bot.source import KeyPath, SourceMap
from parley.errors import Problem

_JINJA = SandboxedEnvironment()


def check_templates(spec: BotSpec, source: SourceMap) -> list[Problem]:
    out: list[Problem | None] = []
    for path, say in says(spec):
        if isinstance(say, ResponseRef):
            if say.response not in spec.responses:
                hint = did_you_mean(say.response, spec.responses)
                message = f"unknown response `{say.response}`{hint}"
                out.append(source.problem((*path, "response"), message))
        elif isinstance(say, RichSay):
            out += [
                _template(text, p, source) for p, text in _strings(say.content, (*path, "content"))
            ]
        else:
            out.append(_template(say, path, source))
    for path, text in texts(spec):
        out.append(_template(text, path, source))
    for name, node in spec.nodes.items():
        for index, step in enumerate(node.next):
            if step.if_ is not None:
                out.append(_expression(step.if_, ("nodes", name, "next", index, "if"), source))
        if node.webhook is not None and node.webhook.body is not None:
            body: KeyPath = ("nodes", name, "webhook", "body")
            out += [_template(t, p, source) for p, t in _strings(node.webhook.body, body)]
        if node.http is not None:
            http: KeyPath = ("nodes", name, "http")
            out.append(_template(node.http.url, (*http, "url"), source))
            out += [
                _template(v, (*http, "headers", k), source) for k, v in node.http.headers.items()
            ]
            out += [_template(t, p, source) for p, t in _strings(node.http.body, (*http, "body"))]
    for key, template in spec.templates.items():
        at: KeyPath = ("templates", key, "body")
        out += [_template(t, p, source) for p, t in _strings(template.body, at)]
    return [problem for problem in out if problem is not None]


def says(spec: BotSpec) -> Iterator[tuple[KeyPath, Say]]:
    """Every message a node can say, with its key path."""
    for name, node in spec.nodes.items():
        for field in ("says", "success", "failure"):
            for index, say in enumerate(getattr(node, field)):
                yield ("nodes", name, field, index), say
        for entity, slot in node.entities.items():
            for index, say in enumerate(slot.prompt):
                yield ("nodes", name, "entities", entity, "prompt", index), say


def texts(spec: BotSpec) -> Iterator[tuple[KeyPath, str]]:
    """The bot-wide templates: the `responses:` catalog and the settings' messages."""
    for key, entry in spec.responses.items():
        if isinstance(entry, str):
            yield ("responses", key), entry
        else:
            for language, text in entry.items():
                yield ("responses", key, language), text
    yield ("settings", "bot_break_message"), spec.settings.bot_break_message
    yield ("settings", "fallback_message"), spec.settings.fallback_message
    if spec.settings.handoff_message is not None:
        yield ("settings", "handoff_message"), spec.settings.handoff_message


def _strings(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _template(text: str, path: KeyPath, source: SourceMap) -> Problem | None:
    try:
        _JINJA.compile(text)  # compiling also catches unknown filters and tests
    except TemplateSyntaxError as exc:
        return source.problem(path, f"bad template: {_describe(exc, text)}")
    return None


def _expression(text: str, path: KeyPath, source: SourceMap) -> Problem | None:
    try:
        _JINJA.compile_expression(text)
    except TemplateSyntaxError as exc:
        return source.problem(path, f"bad condition `{text}`: {_describe(exc, text)}")
    return None


def _describe(exc: TemplateSyntaxError, text: str) -> str:
    message = exc.message or str(exc)
    return f"{message} (line {exc.lineno} of the template)" if "\n" in text.strip() else message

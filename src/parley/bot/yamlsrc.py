"""YAML to plain data plus a `SourceMap` holding the line of every mapping key and list item.

The node graph is composed with PyYAML's safe loader and built here by hand, so each key
keeps its line and duplicate keys are caught (PyYAML silently keeps the last).

Scalars resolve as in YAML 1.2's core schema rather than PyYAML's YAML 1.1: only
`true`/`false` are booleans (`yes`, `no`, `on`, `off` stay text), `10:30` and `012` stay
text instead of becoming sexagesimal or octal numbers, and dates stay text. Mapping keys
are always text, as written.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from parley.bot.source import KeyPath, Location, SourceMap, format_key
from parley.errors import Problem

MAX_VALUES = 100_000
"""Values built from one file; stops alias bombs (`&a [*b, *b, ...]`) from exhausting memory."""

_MERGE = "tag:yaml.org,2002:merge"
_NULL = "tag:yaml.org,2002:null"
_CORE_SCHEMA = {
    "tag:yaml.org,2002:bool": r"true|True|TRUE|false|False|FALSE",
    "tag:yaml.org,2002:int": r"[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+",
    "tag:yaml.org,2002:float": (
        r"[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    ),
}


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in (_MERGE, _NULL)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern in _CORE_SCHEMA.items():
    _Loader.add_implicit_resolver(_tag, re.compile(f"^(?:{_pattern})$"), None)


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap, list[Problem]]:
    """The data in `text`, where each key came from, and every problem found.

    A syntax error gives `None` data and one problem at the error's line.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return None, SourceMap({}, file), [_syntax_problem(exc, file)]
    finally:
        loader.dispose()
    if node is None:
        return None, SourceMap({}, file), [Problem(file, None, "", "the file is empty")]
    builder = _Builder(loader, file)
    data = builder.build(node, ())
    return data, SourceMap(builder.lines, file), builder.problems


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    message = f"invalid YAML: {(exc.problem or exc.context or '').removeprefix('but ')}"
    if exc.context and exc.problem and exc.context_mark:
        message += f" ({exc.context}, line {exc.context_mark.line + 1})"
    return Problem(file, mark.line + 1 if mark else None, "", message)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Builder:
    def __init__(self, loader: _Loader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[KeyPath, Location] = {}
        self.problems: list[Problem] = []
        self._open: set[int] = set()  # ids of the collections being built: catches `&a [*a]`
        self._count = 0

    def problem(self, node: Node, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.file, _line(node), format_key(path), message))

    def build(self, node: Node, path: KeyPath) -> Any:
        self.lines.setdefault(path, Location(self.file, _line(node)))
        self._count += 1
        if self._count == MAX_VALUES:
            self.problem(node, path, f"too many values (over {MAX_VALUES}); check aliases")
        if self._count >= MAX_VALUES:
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._open:
            self.problem(node, path, "an alias refers to its own ancestor")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            assert isinstance(node, SequenceNode)
            return self._sequence(node, path)
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        try:
            return self.loader.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            self.problem(node, path, f"invalid YAML value: {exc.problem}")
            return None

    def _sequence(self, node: SequenceNode, path: KeyPath) -> list[Any]:
        if node.tag != "tag:yaml.org,2002:seq":
            self.problem(node, path, f"unsupported YAML tag {node.tag}")
            return []
        return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        if node.tag != "tag:yaml.org,2002:map":
            self.problem(node, path, f"unsupported YAML tag {node.tag}")
            return {}
        self._check_duplicates(node, path)
        try:
            self.loader.flatten_mapping(node)  # applies `<<: *anchor` merges, in place
        except yaml.MarkedYAMLError as exc:
            self.problem(node, path, f"invalid YAML merge: {exc.problem}")
            return {}
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, path, "a key must be plain text, not a list or mapping")
                continue
            key_path = (*path, key_node.value)
            self.lines[key_path] = Location(self.file, _line(key_node))
            out[key_node.value] = self.build(value_node, key_path)
        return out

    def _check_duplicates(self, node: MappingNode, path: KeyPath) -> None:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                continue
            if key_node.value in seen:
                message = f"duplicate key `{key_node.value}` (first on line {seen[key_node.value]})"
                self.problem(key_node, (*path, key_node.value), message)
            else:
                seen[key_node.value] = _line(key_node)

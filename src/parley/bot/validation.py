"""Pydantic's validation errors, told as `Problem`s at the key that caused them.

Pydantic reports a union (`str | ResponseRef | RichSay`) as one error per member, tagged by
the member's name in the error location. Here the member that came closest (its errors
inside the value rather than about the value's type, then the fewest) speaks for the union;
when every member rejects the value's type, one problem lists what was expected.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from parley.bot.hints import did_you_mean
from parley.bot.schema import BotSpec
from parley.bot.source import KeyPath, SourceMap
from parley.errors import Problem

_MEMBER_NAMES = {
    "str": "text",
    "ResponseRef": "`{response: key}`",
    "RichSay": "`{type: ..., content: ...}`",
    "dict[str,str]": "a mapping of language to text",
    "bool": "true or false",
    "float": "a number",
    "int": "a whole number",
}


@dataclass(frozen=True)
class _Error:
    # one per `loc` part: ("key", k) walks into the data, ("missing", k) names an absent key,
    # ("tag", t) is pydantic's own (a union member's name, `[key]`)
    segments: tuple[tuple[str, Any], ...]
    loc: tuple[str | int, ...]
    type: str
    msg: str

    @property
    def first_tag(self) -> int | None:
        return next((i for i, (kind, _) in enumerate(self.segments) if kind == "tag"), None)

    @property
    def path(self) -> KeyPath:
        return tuple(value for kind, value in self.segments if kind == "key")


def validation_problems(error: ValidationError, data: Any, source: SourceMap) -> list[Problem]:
    errors = [_classify(e["loc"], e["type"], e["msg"], data) for e in error.errors()]
    return [_problem(e, source) for e in _resolve_unions(errors)]


def _classify(loc: tuple[str | int, ...], type_: str, msg: str, data: Any) -> _Error:
    segments: list[tuple[str, Any]] = []
    here = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if _has(here, part):
            here = here[part]
        elif isinstance(here, dict) and last and type_ == "missing":
            segments.append(("missing", part))
            continue
        else:
            segments.append(("tag", part))
            continue
        segments.append(("key", part))
    return _Error(tuple(segments), loc, type_, msg)


def _has(data: Any, part: str | int) -> bool:
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)


def _resolve_unions(errors: list[_Error]) -> list[_Error]:
    out = [e for e in errors if e.first_tag is None]
    unions: dict[tuple[tuple[str, Any], ...], list[_Error]] = {}
    for e in errors:
        if (at := e.first_tag) is not None:
            unions.setdefault(e.segments[:at], []).append(e)
    for prefix, group in unions.items():
        out.extend(_resolve_union(prefix, group))
    return out


def _resolve_union(prefix: tuple[tuple[str, Any], ...], group: list[_Error]) -> list[_Error]:
    at = len(prefix)
    members: dict[Any, list[_Error]] = {}
    for e in group:
        members.setdefault(e.segments[at][1], []).append(e)
    if "[key]" in members:
        return [_Error(prefix, e.loc, "invalid_key", e.msg) for e in members["[key]"]]

    def rejects_type(errs: list[_Error]) -> bool:
        return all(len(e.segments) == at + 1 for e in errs)

    if len(members) > 1 and all(rejects_type(errs) for errs in members.values()):
        names = [_MEMBER_NAMES.get(str(m), f"`{m}`") for m in members]
        expected = f"{', '.join(names[:-1])} or {names[-1]}"
        return [_Error(prefix, group[0].loc[: len(prefix)], "union", f"expected {expected}")]
    closest = min(members.values(), key=lambda errs: (rejects_type(errs), len(errs)))
    inner = [_Error(e.segments[:at] + e.segments[at + 1 :], e.loc, e.type, e.msg) for e in closest]
    return _resolve_unions(inner)


def _problem(e: _Error, source: SourceMap) -> Problem:
    path = e.path
    if e.type == "missing":
        return source.problem(path, f"missing required key `{e.loc[-1]}`")
    if e.type == "extra_forbidden":
        known = _known_keys(e.loc[:-1])
        hint = did_you_mean(str(path[-1]), known)
        return source.problem(path, f"unknown key `{path[-1]}`{hint}")
    if e.type == "invalid_key":
        return source.problem(path, f"invalid key `{path[-1]}`: {e.msg}")
    message = e.msg.removeprefix("Value error, ")
    return source.problem(path, message[:1].lower() + message[1:])


def _known_keys(loc: Iterable[str | int]) -> list[str]:
    """The keys the model at `loc` (a pydantic error location, union tags included) accepts."""
    here: Any = BotSpec
    for part in loc:
        here = _unwrap(here)
        if isinstance(here, type) and issubclass(here, BaseModel):
            fields = {f.alias or name: f for name, f in here.model_fields.items()}
            field = fields.get(str(part)) or here.model_fields.get(str(part))
            if field is None:
                return []
            here = field.annotation
        elif get_origin(here) is dict:
            here = get_args(here)[1]
        elif get_origin(here) is list:
            here = get_args(here)[0]
        elif _is_union(here):
            here = next((m for m in get_args(here) if getattr(m, "__name__", None) == part), None)
        else:
            return []
    here = _unwrap(here)
    if isinstance(here, type) and issubclass(here, BaseModel):
        return [f.alias or name for name, f in here.model_fields.items()]
    return []


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]` -> X and `X | None` -> X."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif _is_union(annotation) and len(get_args(annotation)) == 2:
            first, second = get_args(annotation)
            if type(None) not in (first, second):
                return annotation
            annotation = second if first is type(None) else first
        else:
            return annotation

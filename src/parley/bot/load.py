"""Load a bot folder: read its files, substitute the environment, validate, cross-check.

Every stage reports what it finds and the next stage goes on where it can, so one run of
`parley check` lists every problem, each at its file and line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from parley.bot.checks import run_checks
from parley.bot.code import load_code
from parley.bot.envsubst import substitute
from parley.bot.schema import BotSpec
from parley.bot.source import SourceMap
from parley.bot.validation import validation_problems
from parley.bot.yamlsrc import parse_yaml
from parley.errors import BotInvalid, Problem

BOT_FILE = "bot.yaml"


@dataclass(frozen=True)
class Bot:
    """A valid bot: its spec, its folder, and where each of its keys was written."""

    spec: BotSpec
    path: Path
    source: SourceMap


def load_bot(path: str | Path, env: Mapping[str, str] | None = None) -> Bot:
    """The bot in `path` (its folder or its bot.yaml); `${NAME}` reads `env` (default:
    `os.environ`). Raises `BotInvalid` listing every problem found."""
    bot, problems = _load(Path(path), os.environ if env is None else env)
    if problems or bot is None:
        raise BotInvalid(problems)
    return bot


def check_bot(path: str | Path, env: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem in the bot at `path`, in file and line order; empty when it is valid."""
    return _load(Path(path), os.environ if env is None else env)[1]


def _load(path: Path, env: Mapping[str, str]) -> tuple[Bot | None, list[Problem]]:
    data, source, problems = _read_yaml(_bot_file(path))
    if data is None:
        return None, problems
    data, failures = substitute(data, env)
    unset = [source.problem(key_path, message) for key_path, message in failures]
    spec: BotSpec | None = None
    if not isinstance(data, dict):
        problems.append(source.problem((), "a bot file must be a mapping of keys to values"))
    else:
        try:
            spec = BotSpec.model_validate(data)
        except ValidationError as exc:
            problems += validation_problems(exc, data, source)
    if spec is not None:
        spec, code_problems = load_code(spec, _bot_file(path).parent, source)
        problems += run_checks(spec, source) + code_problems
    problems = unset + _unless_caused(problems, unset)
    problems = sorted(dict.fromkeys(problems), key=lambda p: (p.file, p.line or 0))
    if problems or spec is None:
        return None, problems
    return Bot(spec, _bot_file(path).parent, source), []


def _bot_file(path: Path) -> Path:
    """`path` if it names a file (existing, or ending in .yaml), else its bot.yaml."""
    is_file = path.is_file() or (path.suffix in (".yaml", ".yml") and not path.is_dir())
    return path if is_file else path / BOT_FILE


def _read_yaml(file: Path) -> tuple[Any, SourceMap, list[Problem]]:
    name = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        missing = f"no {file.name} in {file.parent}" if file.parent.is_dir() else "no such folder"
        return None, SourceMap({}, name), [Problem(name, None, "", missing)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, SourceMap({}, name), [Problem(name, None, "", f"cannot read: {exc}")]
    return parse_yaml(text, name)


def _unless_caused(found: list[Problem], causes: list[Problem]) -> list[Problem]:
    """`found` without the problems at or under a key where a cause was reported (a failed
    `${NAME}` leaves an empty value that later stages would flag again)."""
    keys = {p.key for p in causes if p.key}
    return [p for p in found if not any(_within(p.key, key) for key in keys)]


def _within(key: str, ancestor: str) -> bool:
    return key == ancestor or key.startswith((f"{ancestor}.", f"{ancestor}["))

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from parley.bot import check_bot
from parley.errors import Problem

WriteBot = Callable[[str], Path]
Check = Callable[[str], list[Problem]]


@pytest.fixture
def write_bot(tmp_path: Path) -> WriteBot:
    """Writes `text` (dedented; its first line is line 1) as tmp_path/bot/bot.yaml."""

    def write(text: str) -> Path:
        folder = tmp_path / "bot"
        folder.mkdir(exist_ok=True)
        (folder / "bot.yaml").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return folder

    return write


@pytest.fixture
def check(write_bot: WriteBot) -> Check:
    """The problems of a bot written from `text`, with an empty environment."""

    def run(text: str) -> list[Problem]:
        return check_bot(write_bot(text), env={})

    return run

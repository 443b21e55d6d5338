"""A bot folder as data: its text files, their digest, and loading a bot back from them.

A release (`parley deploy`) keeps every text file of the folder — bot.yaml and whatever it uses
beside it, such as `code/*.py` — so production runs exactly what was checked. Hidden files and
folders (`.git`, `.env`, `.parley`), `__pycache__` and files that are not UTF-8 text (a database,
an image) are left out. `${NAME}` values stay unsubstituted: secrets are read from the
environment of the process that loads the release, never stored.

To load, the files are written to a private temporary folder and loaded like any bot folder, so
whatever reads files beside bot.yaml works the same on a release; the folder is removed when
the loaded `Bot` is garbage-collected.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from parley.bot.load import Bot, check_bot, load_bot
from parley.errors import BotInvalid, Problem

Files = dict[str, str]
"""POSIX path relative to the bot folder -> the file's text."""

MAX_FILES = 1000
MAX_BYTES = 8 * 1024 * 1024
_SKIPPED_FOLDERS = {"__pycache__", "node_modules"}


@dataclass(frozen=True)
class Snapshot:
    files: Files
    digest: str
    skipped: list[str] = field(default_factory=list)
    """Files left out because they are not UTF-8 text."""


def snapshot(folder: Path) -> Snapshot:
    """The text files of the bot `folder`. Raises `BotInvalid` if it cannot be read whole."""
    if not folder.is_dir():
        what = "not a folder: name the bot's folder" if folder.exists() else "no such folder"
        raise BotInvalid([Problem(str(folder), None, "", what)])
    files: Files = {}
    skipped: list[str] = []
    size = 0
    for path in _walk(folder):
        name = path.relative_to(folder).as_posix()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BotInvalid([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            skipped.append(name)
            continue
        size += len(data)
        if size > MAX_BYTES or len(files) > MAX_FILES:
            limit = f"at most {MAX_FILES} files and {MAX_BYTES // 2**20} MB of text"
            message = f"too big for a release ({limit}): keep only the bot's own files here"
            raise BotInvalid([Problem(str(folder), None, "", message)])
    return Snapshot(files, digest(files), skipped)


def digest(files: Files) -> str:
    """SHA-256 of the files' names and texts: equal digests, equal bots."""
    canonical = json.dumps(sorted(files.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def check_files(files: Files, shown_as: str) -> list[Problem]:
    """Every problem `parley check` finds in the bot these files make, plus every Python file
    that does not compile; file names read `shown_as/<path>`."""
    with _unpacked(files) as folder:
        problems = check_bot(folder) + _compile_problems(files, folder)
        return _renamed(problems, folder, shown_as)


def load_files(files: Files, shown_as: str) -> Bot:
    """The bot these files make, from a private folder that lives as long as the `Bot`.
    Raises `BotInvalid` (file names read `shown_as/<path>`)."""
    folder = Path(tempfile.mkdtemp(prefix="parley-release-"))
    try:
        _unpack(files, folder)
        bot = load_bot(folder)
    except BotInvalid as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise BotInvalid(_renamed(exc.problems, folder, shown_as)) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    weakref.finalize(bot, shutil.rmtree, folder, ignore_errors=True)
    return bot


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_FOLDERS)
        for name in sorted(names):
            path = Path(root) / name
            if not name.startswith(".") and path.is_file():
                yield path


@contextmanager
def _unpacked(files: Files) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="parley-check-") as folder:
        _unpack(files, Path(folder))
        yield Path(folder)


def _unpack(files: Files, folder: Path) -> None:
    for name, text in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise BotInvalid([Problem(name, None, "", "a release file must stay in its folder")])
        path = folder.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "surrogatepass"))


def _compile_problems(files: Files, folder: Path) -> list[Problem]:
    problems = []
    for name, text in sorted(files.items()):
        if not name.endswith(".py"):
            continue
        filename = str(folder.joinpath(*PurePosixPath(name).parts))
        try:
            with warnings.catch_warnings():  # invalid escapes etc. warn; only errors count
                warnings.simplefilter("ignore")
                compile(text, filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            problems.append(Problem(filename, exc.lineno, "", f"Python syntax error: {exc.msg}"))
        except ValueError as exc:  # source with NUL bytes
            problems.append(Problem(filename, None, "", f"not Python source: {exc}"))
    return problems


def _renamed(problems: list[Problem], folder: Path, shown_as: str) -> list[Problem]:
    """Problems naming the temporary `folder` name `shown_as` instead."""
    prefix = str(folder)
    renamed = [
        replace(
            p, file=p.file.replace(prefix, shown_as), message=p.message.replace(prefix, shown_as)
        )
        for p in dict.fromkeys(problems)
    ]
    return sorted(renamed, key=lambda p: (p.file, p.line or 0))

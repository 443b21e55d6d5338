"""Where each key of a bot came from: key path -> (file, line), so any finding names file:line.

A key path is a tuple of mapping keys (`str`) and sequence indexes (`int`):
`("nodes", "check_price", "webhook", "path")` or `("intents", "greet", "examples", 2)`.
The empty path `()` is the document itself. Entries from several files can live in one map.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

from parley.errors import Problem

KeyPath = tuple[str | int, ...]


class Location(NamedTuple):
    file: str
    line: int


def format_key(path: KeyPath) -> str:
    """`("nodes", "greet", "says", 0)` -> `nodes.greet.says[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class SourceMap(Mapping[KeyPath, Location]):
    """An immutable map from key paths to the line that defines them."""

    def __init__(self, entries: Mapping[KeyPath, Location], default_file: str = "") -> None:
        self._entries = dict(entries)
        self.default_file = default_file

    def __getitem__(self, path: KeyPath) -> Location:
        return self._entries[path]

    def __iter__(self) -> Iterator[KeyPath]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SourceMap({len(self)} keys, default_file={self.default_file!r})"

    def present(self, path: KeyPath) -> KeyPath:
        """The longest prefix of `path` that the source defines (`()` if none)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self._entries:
                return path[:end]
        return ()

    def locate(self, path: KeyPath) -> Location | None:
        """The location of `path`, or of its deepest ancestor that the source defines."""
        return self._entries.get(self.present(path))

    def problem(self, path: KeyPath, message: str) -> Problem:
        """A finding at `path`, named as written: an index the source lacks (a scalar or
        mapping written where a list is allowed, `intents: greet`) is left out of its key."""
        path = self.as_written(path)
        where = self.locate(path)
        file = where.file if where else self.default_file
        return Problem(file, where.line if where else None, format_key(path), message)

    def as_written(self, path: KeyPath) -> KeyPath:
        out: KeyPath = ()
        for part in path:
            if isinstance(part, int) and out in self and (*out, part) not in self:
                continue
            out = (*out, part)
        return out

    def merged(self, other: Mapping[KeyPath, Location]) -> SourceMap:
        """This map with `other`'s entries added (for more files joining the bot)."""
        return SourceMap({**self._entries, **other}, self.default_file)

"""Releases: immutable, numbered snapshots of a bot folder, and which one production runs.

`parley deploy` adds a release and makes it current; `parley rollback N` points production at
an earlier one. Nothing is ever deleted or changed: numbers go 1, 2, 3… per bot.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

Files = dict[str, str]
"""A bot folder's text files: POSIX path relative to the folder -> content."""


@dataclass(slots=True)
class Release:
    """One deploy of a bot (its files are read apart: `ReleaseStore.release_files`)."""

    bot: str
    number: int
    digest: str
    created_at: float
    author: str = ""
    note: str = ""
    current: bool = False


class ReleaseStore(abc.ABC):
    """Done means: `add_release` numbers the release and makes it current in one transaction,
    so two deploys at once get two numbers and the current one is one of them; a release, once
    written, never changes; `current_release` is one cheap read (the runtime polls it)."""

    @abc.abstractmethod
    async def add_release(
        self, bot: str, digest: str, files: Files, *, author: str = "", note: str = ""
    ) -> Release:
        """Store the next release of `bot` and make it current. Returns it (`current` True)."""

    @abc.abstractmethod
    async def releases(self, bot: str | None = None) -> list[Release]:
        """The releases of `bot` (of every bot when None), by bot then number."""

    @abc.abstractmethod
    async def release_files(self, bot: str, number: int) -> Files | None:
        """The files of a release; None if there is no such release."""

    @abc.abstractmethod
    async def current_release(self, bot: str) -> int | None:
        """The number of the release production runs; None if the bot was never deployed."""

    @abc.abstractmethod
    async def set_current_release(self, bot: str, number: int) -> Release:
        """Make release `number` current (a rollback); `NotFound` if it does not exist."""

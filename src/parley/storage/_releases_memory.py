"""`ReleaseStore` in process memory, for `MemoryStore`. Reads return copies."""

from __future__ import annotations

import time
from dataclasses import replace

from parley.errors import NotFound
from parley.storage import _rows
from parley.storage.releases import Files, Release, ReleaseStore


class MemoryReleases(ReleaseStore):
    def __init__(self) -> None:
        super().__init__()
        self._releases: dict[str, list[tuple[Release, str]]] = {}
        self._current: dict[str, int] = {}

    async def add_release(
        self, bot: str, digest: str, files: Files, *, author: str = "", note: str = ""
    ) -> Release:
        encoded = _rows.dumps(files)  # like a database: not JSON fails before any change
        stored = self._releases.setdefault(bot, [])
        release = Release(bot, len(stored) + 1, digest, time.time(), author, note)
        stored.append((release, encoded))
        self._current[bot] = release.number
        return replace(release, current=True)

    async def releases(self, bot: str | None = None) -> list[Release]:
        bots = sorted(self._releases) if bot is None else [bot]
        return [
            replace(release, current=self._current.get(name) == release.number)
            for name in bots
            for release, _ in self._releases.get(name, [])
        ]

    async def release_files(self, bot: str, number: int) -> Files | None:
        stored = self._releases.get(bot, [])
        if not 1 <= number <= len(stored):
            return None
        files: Files = _rows.loads(stored[number - 1][1])
        return files

    async def current_release(self, bot: str) -> int | None:
        return self._current.get(bot)

    async def set_current_release(self, bot: str, number: int) -> Release:
        stored = self._releases.get(bot, [])
        if not 1 <= number <= len(stored):
            raise NotFound(f"bot {bot!r} has no release {number}")
        self._current[bot] = number
        return replace(stored[number - 1][0], current=True)

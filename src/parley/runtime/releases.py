"""Releases at run time: deploy and roll back, and the bot each production turn runs.

Production runs a bot's current release, or its working copy (the folder the server loaded) if
the bot was never deployed; the test environment always runs the working copy. A server learns
of a deploy or a rollback by reading the current release number at most once per
`check_seconds` per bot (one indexed read of one row; turns in between read a cached answer),
so a change reaches every server within about that long, without a restart. A turn takes its
bot once, when it starts: a turn in flight during a deploy finishes on the release it began
with.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from parley.bot import Bot
from parley.bot.snapshot import check_files, load_files, snapshot
from parley.errors import BotInvalid, NotFound, Unavailable
from parley.storage import Store
from parley.storage.releases import Release

if TYPE_CHECKING:
    from parley.runtime.runner import LiveBot

log = logging.getLogger("parley.releases")


@dataclass(frozen=True)
class Deployed:
    release: Release
    created: bool
    """False: the current release already had exactly these files, and stays current."""
    files: list[str]
    skipped: list[str] = field(default_factory=list)
    """Files left out of the release: not UTF-8 text."""


async def deploy(store: Store, folder: Path, *, author: str = "", note: str = "") -> Deployed:
    """Check the bot in `folder` as `parley check` does (and compile its Python files), then
    store its files as the bot's next release and make it current. `BotInvalid` lists every
    problem, and then nothing is stored."""
    snap = snapshot(folder)
    problems = check_files(snap.files, str(folder))
    if problems:
        raise BotInvalid(problems)
    name = load_files(snap.files, str(folder)).spec.name
    listing = sorted(snap.files)
    current = await store.current_release(name)
    if current is not None:
        release = next(r for r in await store.releases(name) if r.number == current)
        if release.digest == snap.digest:
            return Deployed(release, False, listing, snap.skipped)
    release = await store.add_release(name, snap.digest, snap.files, author=author, note=note)
    return Deployed(release, True, listing, snap.skipped)


async def rollback(store: Store, bot: str, number: int) -> Release:
    """Make release `number` of `bot` current again; `NotFound` names the ones there are."""
    known = await store.releases(bot)
    if not known:
        raise NotFound(f"bot {bot!r} has no releases: `parley deploy BOT_DIR` makes the first")
    if number not in {r.number for r in known}:
        raise NotFound(
            f"bot {bot!r} has no release {number}: its releases are 1 to {known[-1].number}"
        )
    return await store.set_current_release(bot, number)


@dataclass
class _Current:
    number: int | None
    live: LiveBot | None
    checked_at: float
    error: str = ""


class ProductionBots:
    """The `LiveBot` production runs for each bot, re-checked at most every `check_seconds`."""

    def __init__(
        self,
        store: Store,
        working: dict[str, LiveBot],
        build: Callable[[Bot, int], LiveBot],
        *,
        check_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.working, self.build = store, working, build
        self.check_seconds, self.clock = check_seconds, clock
        self._current: dict[str, _Current] = {}
        self._checks: dict[str, asyncio.Future[_Current]] = {}

    async def live(self, name: str) -> LiveBot:
        """The bot production runs now (`name` must be one of the working copies)."""
        current = self._current.get(name)
        if current is None or self.clock() - current.checked_at >= self.check_seconds:
            current = await self._check(name)
        if current.live is None:
            raise Unavailable(current.error)
        return current.live

    async def _check(self, name: str) -> _Current:
        """One read of the current release number for all the turns that ask at once."""
        pending = self._checks.get(name)
        if pending is None:
            pending = asyncio.ensure_future(self._refresh(name))
            self._checks[name] = pending
            pending.add_done_callback(lambda _: self._checks.pop(name, None))
        return await asyncio.shield(pending)

    async def _refresh(self, name: str) -> _Current:
        number = await self.store.current_release(name)
        now = self.clock()
        known = self._current.get(name)
        if known is not None and known.number == number and known.live is not None:
            known.checked_at = now
            return known
        if number is None:
            current = _Current(None, self.working[name], now)
        else:
            current = await self._load(name, number, now)
        self._current[name] = current
        return current

    async def _load(self, name: str, number: int, now: float) -> _Current:
        files = await self.store.release_files(name, number)
        if files is None:  # cannot happen: releases are never deleted
            return _Current(number, None, now, f"bot {name!r} has no release {number}")

        def build() -> LiveBot:  # parsing and indexing a bot is CPU work: off the loop
            return self.build(load_files(files, f"{name} release {number}"), number)

        try:
            live = await asyncio.to_thread(build)
        except Exception as exc:  # any reason: 503 now and another try in a second
            # e.g. a `${NAME}` this server's environment lacks, or a full temp folder: refuse
            # rather than run anything else than the current release; tried again at the
            # next check, not on every turn.
            why = exc.message if isinstance(exc, BotInvalid) else f"{type(exc).__name__}: {exc}"
            log.error("release %s of bot %s cannot be loaded:\n%s", number, name, why)
            error = f"release {number} of bot {name!r} cannot be loaded here (see the log)"
            return _Current(number, None, now, error)
        log.info("bot %s: production now runs release %s", name, number)
        return _Current(number, live, now)

"""`ReleaseStore` in plain SQL shared by the two SQL stores (see `_accounts_sql`).

A deploy is two statements in one transaction: insert the release under the next number,
then point `current_releases` at the bot's newest release. Two deploys at once on PostgreSQL
may pick the same number: the loser's insert does nothing, its transaction is rolled back
and it tries again with the next number.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Mapping, Sequence
from typing import Any

from parley.errors import Conflict, NotFound
from parley.storage import _rows
from parley.storage._accounts_sql import Params, Rows
from parley.storage.releases import Files, Release, ReleaseStore

Steps = Sequence[tuple[str, Params]]

# VALUES with subqueries rather than INSERT ... SELECT: PostgreSQL then takes every
# parameter's type from its column (`:of_bot` is `:bot` again, typed by the subquery).
_INSERT_RELEASE = (
    "INSERT INTO releases (bot, number, digest, files, author, note, created_at)"
    " VALUES (:bot, (SELECT COALESCE(MAX(number), 0) + 1 FROM releases WHERE bot = :of_bot),"
    " :digest, :files, :author, :note, :now)"
    " ON CONFLICT DO NOTHING RETURNING number"
)
_CURRENT_NEWEST = (
    "INSERT INTO current_releases (bot, number, updated_at)"
    " VALUES (:bot, (SELECT MAX(number) FROM releases WHERE bot = :of_bot), :now)"
    " ON CONFLICT (bot) DO UPDATE SET number = excluded.number, updated_at = excluded.updated_at"
    " RETURNING number"
)
# A bot with a release has a current_releases row: a rollback only updates it.
_CURRENT_CHOSEN = (
    "UPDATE current_releases SET number = :number, updated_at = :now WHERE bot = :bot"
    " AND EXISTS (SELECT 1 FROM releases WHERE bot = :bot AND number = :number)"
    " RETURNING number"
)
_RELEASES = (
    "SELECT r.bot, r.number, r.digest, r.author, r.note, r.created_at,"
    " CASE WHEN c.number IS NULL THEN 0 ELSE 1 END AS current"
    " FROM releases r LEFT JOIN current_releases c ON c.bot = r.bot AND c.number = r.number"
)
_SELECT_RELEASE = _RELEASES + " WHERE r.bot = :bot AND r.number = :number"
_TRIES = 20  # each round of concurrent deploys of one bot lets at least one through


class SqlReleases(ReleaseStore):
    @abc.abstractmethod
    async def _sql_read(self, sql: str, params: Params) -> Rows: ...

    @abc.abstractmethod
    async def _sql_transaction(self, steps: Steps) -> list[Rows] | None:
        """Run the statements in one transaction, in order, and return each one's RETURNING
        rows; if one returns no row, roll everything back and return None."""

    async def add_release(
        self, bot: str, digest: str, files: Files, *, author: str = "", note: str = ""
    ) -> Release:
        now = time.time()
        params: Params = {"bot": bot, "of_bot": bot, "digest": digest, "now": now}
        params.update(files=_rows.dumps(files), author=author, note=note)
        steps = [
            (_INSERT_RELEASE, params),
            (_CURRENT_NEWEST, {"bot": bot, "of_bot": bot, "now": now}),
        ]
        for _ in range(_TRIES):
            done = await self._sql_transaction(steps)
            if done is not None:
                number = int(done[0][0]["number"])
                return Release(bot, number, digest, now, author, note, current=True)
        raise Conflict(f"bot {bot!r} is being deployed by someone else: try again")

    async def releases(self, bot: str | None = None) -> list[Release]:
        sql = _RELEASES + (" WHERE r.bot = :bot" if bot is not None else "")
        rows = await self._sql_read(sql + " ORDER BY r.bot, r.number", {"bot": bot})
        return [_release(row) for row in rows]

    async def release_files(self, bot: str, number: int) -> Files | None:
        sql = "SELECT files FROM releases WHERE bot = :bot AND number = :number"
        rows = await self._sql_read(sql, {"bot": bot, "number": number})
        if not rows:
            return None
        files: Files = _rows.loads(rows[0]["files"])
        return files

    async def current_release(self, bot: str) -> int | None:
        sql = "SELECT number FROM current_releases WHERE bot = :bot"
        rows = await self._sql_read(sql, {"bot": bot})
        return int(rows[0]["number"]) if rows else None

    async def set_current_release(self, bot: str, number: int) -> Release:
        params = {"bot": bot, "number": number, "now": time.time()}
        if await self._sql_transaction([(_CURRENT_CHOSEN, params)]) is None:
            raise NotFound(f"bot {bot!r} has no release {number}")
        rows = await self._sql_read(_SELECT_RELEASE, {"bot": bot, "number": number})
        return _release(rows[0])


def _release(row: Mapping[str, Any]) -> Release:
    return Release(
        row["bot"],
        int(row["number"]),
        row["digest"],
        row["created_at"],
        row["author"],
        row["note"],
        bool(row["current"]),
    )

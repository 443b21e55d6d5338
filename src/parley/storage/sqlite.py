"""The SQLite store on the standard library's sqlite3, one worker thread, one connection.

The default store, so it is on the hot path of every turn: each store call is ONE hop to the
database thread that runs all of its statements there (a turn costs three hops: conversation,
user, save), instead of a hop per DB-API call as an async driver makes. The tables and the
migrations are the SQL store's (`_tables.py`, Alembic), so a database file can be opened by
either; SQLAlchemy and Alembic are imported only to migrate a file that is not at the newest
revision (`_schema.py` has what the store needs of them).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from parley.errors import BadRequest, Conflict, StorageError
from parley.model import (
    Conversation,
    HistoryEntry,
    Invocation,
    StoredAnswer,
    TurnRecord,
    User,
)
from parley.storage import _rows
from parley.storage._accounts_sql import Params, Rows, SqlAccounts
from parley.storage._releases_sql import SqlReleases, Steps
from parley.storage._rows import Row
from parley.storage._schema import COLUMNS, HEAD_REVISION, SQLITE_PRAGMAS
from parley.storage.base import Store

T = TypeVar("T")


def _insert(table: str, extra: str = "") -> str:
    """INSERT with named parameters; autoincremented ids are left to SQLite."""
    names = [n for n in COLUMNS[table] if not (n == "id" and table in ("history", "invocations"))]
    values = ", ".join(f":{n}" for n in names)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values}) {extra}"


_CONVERSATION_COLUMNS = [
    n for n in COLUMNS["conversations"] if n not in ("bot", "id", "created_at")
]
_INSERT_CONVERSATION = _insert("conversations", "ON CONFLICT (bot, id) DO NOTHING")
_UPDATE_CONVERSATION = (
    f"UPDATE conversations SET {', '.join(f'{n} = :{n}' for n in _CONVERSATION_COLUMNS)}"
    " WHERE bot = :bot AND id = :id AND version = :expected"
)
_UPSERT_USER = _insert(
    "users",
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{n} = excluded.{n}" for n in COLUMNS["users"] if n != "id"),
)
_INSERT_HISTORY = _insert("history")
_INSERT_INVOCATION = _insert("invocations")
_INSERT_ANSWER = _insert("answers", "ON CONFLICT (bot, conversation_id, message_id) DO NOTHING")
_SELECT_ANSWER = "SELECT * FROM answers WHERE bot = ? AND conversation_id = ? AND message_id = ?"


class SqliteStore(SqlAccounts, SqlReleases, Store):
    """`Store` on a SQLite file (`sqlite:///path/to.db`), in WAL mode."""

    def __init__(self, url: str) -> None:
        scheme, _, database = url.partition(":///")
        database = database.split("?", 1)[0]
        if scheme != "sqlite" or database in ("", ":memory:"):
            raise BadRequest("SqliteStore needs a file: sqlite:///path/to.db")
        self._url = url
        self._path = Path(database).expanduser()
        self._thread: _DatabaseThread | None = None
        self._db: sqlite3.Connection | None = None
        self._queue: list[_Job] = []

    async def open(self) -> None:
        if self._thread is not None:
            return
        self._thread = _DatabaseThread(self._run_jobs)
        try:
            await self._run(self._migrate)
            await self._run(self._connect)
        except BaseException:
            self._thread.stop()
            self._thread = None
            raise

    async def close(self) -> None:
        if self._thread is None:
            return
        await self._run(self._disconnect)
        self._thread.stop()
        self._thread = None

    def _migrate(self) -> None:
        """Alembic's migrations, on SQLAlchemy's sync driver, on the database thread; skipped
        (and neither imported) when the file is at the newest revision."""
        if self._revision() == HEAD_REVISION:
            return
        import sqlalchemy as sa

        from parley.storage import _engine

        try:
            _engine.upgrade_sqlite_file(_engine.normalise_url(self._url))
        except sa.exc.DBAPIError as exc:
            raise StorageError(f"database error: {type(exc.orig).__name__}: {exc.orig}") from exc

    def _revision(self) -> str | None:
        if not self._path.is_file():
            return None
        db = sqlite3.connect(f"{self._path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            return None
        finally:
            db.close()
        return str(row[0]) if row else None

    def _connect(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        for pragma in SQLITE_PRAGMAS:
            db.execute(pragma)
        self._db = db

    def _disconnect(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    async def _run(self, work: Callable[..., T], *args: Any, writes: bool = False) -> T:
        """Run `work(*args)` on the database thread. Calls made while the loop is busy are
        batched into one hop to the thread and one wake-up of the loop; the writes of a batch
        share one transaction (group commit), each in a savepoint of its own, so one write's
        failure undoes only that write."""
        if self._thread is None:
            raise StorageError("the store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Job(work, args, future, writes))
        if len(self._queue) == 1:
            loop.call_soon(self._flush, loop)
        with _translate_errors():
            result: T = await future
            return result

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        jobs, self._queue = self._queue, []
        if self._thread is None:  # closed between queueing and flushing
            for job in jobs:
                job.value = StorageError("the store is not open")
            _settle(jobs)
            return
        self._thread.submit(jobs, loop)

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[Any]:
        """sqlite3.Row objects: they index by column name, as the row codec needs."""
        assert self._db is not None
        return self._db.execute(sql, params).fetchall()

    async def _sql_read(self, sql: str, params: Params) -> Rows:
        return await self._run(self._rows, sql, params)

    async def _sql_write(self, sql: str, params: Params) -> Rows:
        return await self._run(self._rows, sql, params, writes=True)

    async def _sql_transaction(self, steps: Steps) -> list[Rows] | None:
        try:
            return await self._run(self._steps, steps, writes=True)
        except _RolledBack:
            return None

    def _steps(self, steps: Steps) -> list[Rows]:
        """On the database thread, in the batch's savepoint: `_attempt` undoes it on raise."""
        done: list[Rows] = []
        for sql, params in steps:
            rows = self._rows(sql, params)
            if not rows:
                raise _RolledBack
            done.append(rows)
        return done

    async def get_conversation(self, bot: str, conversation_id: str) -> Conversation | None:
        sql = "SELECT * FROM conversations WHERE bot = ? AND id = ?"
        rows = await self._run(self._rows, sql, (bot, conversation_id))
        return _rows.conversation(rows[0]) if rows else None

    async def get_user(self, user_id: str) -> User | None:
        rows = await self._run(self._rows, "SELECT * FROM users WHERE id = ?", (user_id,))
        return _rows.user(rows[0]) if rows else None

    async def load(
        self, bot: str, conversation_id: str, user_id: str | None = None
    ) -> tuple[Conversation | None, User | None]:
        conv_row, user_row = await self._run(self._load, bot, conversation_id, user_id)
        conversation = _rows.conversation(conv_row) if conv_row else None
        return conversation, _rows.user(user_row) if user_row else None

    def _load(self, bot: str, conversation_id: str, user_id: str | None) -> tuple[Any, Any]:
        conv = self._rows(
            "SELECT * FROM conversations WHERE bot = ? AND id = ?", (bot, conversation_id)
        )
        user_id = user_id or (conv[0]["user_id"] if conv else conversation_id)
        user = self._rows("SELECT * FROM users WHERE id = ?", (user_id,))
        return conv[0] if conv else None, user[0] if user else None

    async def save_turn(self, record: TurnRecord) -> None:
        # Encode first: a value that is not JSON fails before anything is written.
        now = time.time()
        expected = record.expected_version
        conv = {**_rows.conversation_row(record.conversation), "version": expected + 1}
        conv.update(updated_at=now, created_at=now, expected=expected)
        user = None if record.user_unchanged else {**_rows.user_row(record.user), "updated_at": now}
        history_rows = [_rows.history_row(entry) for entry in record.history]
        invocation_rows = [_rows.invocation_row(inv) for inv in record.invocations]
        answer = None
        if record.answer is not None:
            answer = _rows.answer_row(record.answer, conv["bot"], conv["id"])
            answer["created_at"] = now
        history_ids, invocation_ids = await self._run(
            self._save, conv, user, history_rows, invocation_rows, answer, writes=True
        )
        record.conversation.version, record.conversation.updated_at = expected + 1, now
        if record.answer is not None:
            record.answer.created_at = now
        for entry, history_id in zip(record.history, history_ids, strict=True):
            entry.id = history_id
        for inv, invocation_id in zip(record.invocations, invocation_ids, strict=True):
            inv.id = invocation_id

    def _save(
        self,
        conv: Row,
        user: Row | None,
        history_rows: list[Row],
        invocation_rows: list[Row],
        answer: Row | None,
    ) -> tuple[list[int], list[int]]:
        """The statements of one turn; `_run_jobs` wraps them in a transaction."""
        db = self._db
        assert db is not None
        if user is not None:
            db.execute(_UPSERT_USER, user)
        sql = _INSERT_CONVERSATION if conv["expected"] == 0 else _UPDATE_CONVERSATION
        if db.execute(sql, conv).rowcount != 1:
            raise Conflict(
                f"conversation {conv['bot']}/{conv['id']} changed since the turn began"
                f" (expected version {conv['expected']})"
            )
        if answer is not None and db.execute(_INSERT_ANSWER, answer).rowcount != 1:
            raise Conflict(
                f"conversation {conv['bot']}/{conv['id']} has message {answer['message_id']!r}"
            )
        history_ids = [_last_id(db.execute(_INSERT_HISTORY, row)) for row in history_rows]
        invocation_ids = [_last_id(db.execute(_INSERT_INVOCATION, row)) for row in invocation_rows]
        return history_ids, invocation_ids

    def _run_jobs(self, jobs: list[_Job]) -> None:
        """On the database thread: every job of a batch, each succeeding or failing alone."""
        db = self._db
        writes = [job for job in jobs if job.writes]
        try:
            if writes and db is not None:
                db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            for job in writes:
                job.value = exc
            jobs = [job for job in jobs if not job.writes]
            writes = []
        for job in jobs:
            _attempt(db, job)
        if writes and db is not None:
            try:
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                db.execute("ROLLBACK")
                for job in writes:
                    job.ok, job.value = False, exc

    async def get_answer(
        self, bot: str, conversation_id: str, message_id: str
    ) -> StoredAnswer | None:
        rows = await self._run(self._rows, _SELECT_ANSWER, (bot, conversation_id, message_id))
        return _rows.stored_answer(rows[0]) if rows else None

    async def history(
        self,
        bot: str,
        conversation_id: str,
        conversation_no: int | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        if limit is not None and limit <= 0:
            return []
        sql = "SELECT * FROM history WHERE bot = ? AND conversation_id = ?"
        params: list[Any] = [bot, conversation_id]
        if conversation_no is not None:
            sql += " AND conversation_no = ?"
            params.append(conversation_no)
        if limit is None:
            rows = await self._run(self._rows, sql + " ORDER BY id", params)
        else:
            rows = await self._run(self._rows, sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
            rows.reverse()
        return [_rows.history_entry(row) for row in rows]

    async def invocations(
        self,
        *,
        bot: str | None = None,
        conversation_id: str | None = None,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int = 100,
        newest: bool = False,
    ) -> list[Invocation]:
        if limit <= 0:
            return []
        sql = "SELECT * FROM invocations WHERE id > ?"
        params: list[Any] = [after_id]
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        if bot is not None:
            sql += " AND bot = ?"
            params.append(bot)
        if conversation_id is not None:
            sql += " AND conversation_id = ?"
            params.append(conversation_id)
        sql += f" ORDER BY id {'DESC' if newest else 'ASC'} LIMIT ?"
        rows = await self._run(self._rows, sql, [*params, limit])
        found = [_rows.invocation(row) for row in rows]
        return found[::-1] if newest else found


class _DatabaseThread:
    """One thread that owns the connection: it runs each submitted batch, then wakes the
    loop once to settle the batch's futures (cheaper than an executor's future per call)."""

    def __init__(self, run: Callable[[list[_Job]], None]) -> None:
        self._run = run
        self._inbox: queue.SimpleQueue[tuple[list[_Job], asyncio.AbstractEventLoop] | None]
        self._inbox = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name="parley-sqlite", daemon=True)
        self._thread.start()

    def submit(self, jobs: list[_Job], loop: asyncio.AbstractEventLoop) -> None:
        self._inbox.put((jobs, loop))

    def stop(self) -> None:
        self._inbox.put(None)
        self._thread.join()

    def _main(self) -> None:
        while (item := self._inbox.get()) is not None:
            jobs, loop = item
            try:
                self._run(jobs)
            except Exception as exc:  # a broken connection: fail the batch, keep the thread
                for job in jobs:
                    job.ok, job.value = False, exc
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
                loop.call_soon_threadsafe(_settle, jobs)


class _RolledBack(Exception):
    """A step of `_sql_transaction` returned no row."""


@dataclass(slots=True)
class _Job:
    work: Callable[..., Any]
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    writes: bool = False
    ok: bool = False
    value: Any = None


def _attempt(db: sqlite3.Connection | None, job: _Job) -> None:
    if job.writes and db is not None:
        db.execute("SAVEPOINT turn")
    try:
        job.value, job.ok = job.work(*job.args), True
    except BaseException as exc:  # handed to the awaiting task, like run_in_executor does
        job.value = exc
        if job.writes and db is not None:
            db.execute("ROLLBACK TO turn")
    if job.writes and db is not None:
        db.execute("RELEASE turn")


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.cancelled():
            continue
        if job.ok:
            job.future.set_result(job.value)
        else:
            job.future.set_exception(job.value)


def _last_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None
    return cursor.lastrowid


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        # The driver's message only: row values (which may hold secrets) are never echoed.
        raise StorageError(f"database error: {type(exc).__name__}: {exc}") from exc

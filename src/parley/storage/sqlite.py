"""The SQLite store on the standard library's sqlite3: two connections to one file in WAL mode.

The default store, so it is on the hot path of every turn. A turn's own statements (its
point reads of the conversation, the user and a stored answer, and its one write
transaction) run on the event loop's connection: indexed statements that take microseconds,
where a hop to a thread and back costs more than the statements. That connection never
waits inside SQLite: a statement that finds the file locked by another connection (a
checkpoint, a CLI deploying) sleeps a moment and tries again while the loop serves other
turns. The database thread's connection runs everything that may be slow: migrations, pages
of history and of the invocation log, accounts, releases, and the checkpoints of the
write-ahead log. The tables
and the migrations are the SQL store's (`_tables.py`, Alembic), so a database file can be
opened by either; a new file is created from `sqlite_head.sql`, and SQLAlchemy and Alembic
are imported only to migrate a file that is not at the newest revision (`_schema.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
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
from parley.storage._schema import COLUMNS, HEAD_REVISION, HEAD_SQL, SQLITE_PRAGMAS
from parley.storage.base import Store

T = TypeVar("T")
log = logging.getLogger("parley.storage")

_FAST_PRAGMAS = ("PRAGMA busy_timeout=0", "PRAGMA wal_autocheckpoint=0")
"""The loop's connection never waits for a lock and never checkpoints (the thread does)."""
_BUSY_PAUSES = (0.001, 0.002, 0.005, 0.01, 0.02)
"""Seconds the loop's connection sleeps between tries when the file is locked (then 0.02)."""
_BUSY_TIMEOUT = 5.0
"""Seconds it keeps trying, as long as the thread's connection waits (`busy_timeout`)."""
_CHECKPOINT_EVERY = 200
"""The loop's commits between two checkpoints on the database thread (a turn writes a few
pages; SQLite's own default is every 1,000 pages)."""
_RESTART_EVERY = 1000
"""Commits between two checkpoints that start the log over (a multiple of the above)."""


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
_CONVERSATION = COLUMNS["conversations"]
_USER = COLUMNS["users"]
_LOAD = (  # the conversation and its user (the one asked for, the conversation's, or its id's)
    f"SELECT {', '.join(f'c.{n}' for n in _CONVERSATION)}, {', '.join(f'u.{n}' for n in _USER)}"
    " FROM (SELECT 1) AS one"
    " LEFT JOIN conversations AS c ON c.bot = ?1 AND c.id = ?2"
    " LEFT JOIN users AS u ON u.id = COALESCE(?3, c.user_id, ?2)"
)
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
        """The database thread's connection: migrations, pages of history and logs, accounts,
        releases, and any write that found the file locked by another connection."""
        self._fast: sqlite3.Connection | None = None
        """The event loop's connection: a turn's own point reads and its one write."""
        self._fast_commits = 0
        """Turns saved on the loop's connection, for the checkpoints."""
        self._writes: list[_Job] = []
        """Writes waiting for the loop's next commit (`_write_here`)."""
        self._busy_since: float | None = None
        """When the loop's pending commit first found the file locked."""
        self._busy_tries = 0
        self._queue: list[_Job] = []

    async def open(self) -> None:
        if self._thread is not None:
            return
        self._thread = _DatabaseThread(lambda jobs: _execute(self._db, jobs))
        try:
            await self._run(lambda _db: self._migrate())
            self._db = _connect(self._path, SQLITE_PRAGMAS)
            self._fast = _connect(self._path, (*SQLITE_PRAGMAS, *_FAST_PRAGMAS))
        except BaseException:
            await self._shut()
            raise

    async def close(self) -> None:
        if self._thread is not None:
            await self._run(lambda _db: None)  # what was queued before runs first
            await self._shut()

    async def _shut(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
        for db in (self._db, self._fast):
            if db is not None:
                db.close()
        self._db = self._fast = None

    def _migrate(self) -> None:
        """A new database from the head schema's script; an older one through Alembic's
        migrations, on SQLAlchemy's sync driver, on the database thread. SQLAlchemy and Alembic
        are imported only for the latter."""
        if self._revision() == HEAD_REVISION or self._create():
            return
        import sqlalchemy as sa

        from parley.storage import _engine

        try:
            _engine.upgrade_sqlite_file(_engine.normalise_url(self._url))
        except sa.exc.DBAPIError as exc:
            raise StorageError(f"database error: {type(exc.orig).__name__}: {exc.orig}") from exc

    def _create(self) -> bool:
        """Builds the newest schema in a file with no tables yet, in one transaction (another
        process creating it at the same moment waits, then finds the tables); False when the
        file already has tables."""
        script = (Path(__file__).parent / HEAD_SQL).read_text(encoding="utf-8")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self._path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"database error: {type(exc).__name__}: {exc}") from exc
        try:
            for pragma in SQLITE_PRAGMAS:
                db.execute(pragma)
            db.execute("BEGIN IMMEDIATE")
            if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                db.execute("ROLLBACK")
                return False
            for statement in script.split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute("COMMIT")
            return True
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StorageError(f"database error: {type(exc).__name__}: {exc}") from exc
        finally:
            db.close()

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

    async def _run(self, work: Callable[..., T], *args: Any, writes: bool = False) -> T:
        """Run `work(db, *args)` on the database thread. Calls made while the loop is busy are
        batched into one hop to the thread and one wake-up of the loop; the writes of a batch
        share one transaction (group commit), each in a savepoint of its own, so one write's
        failure undoes only that write."""
        with _translate_errors():
            result: T = await self._submit(work, *args, writes=writes)
            return result

    def _submit(
        self, work: Callable[..., Any], *args: Any, writes: bool = False
    ) -> asyncio.Future[Any]:
        if self._thread is None:
            raise StorageError("the store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Job(work, args, future, writes))
        if len(self._queue) == 1:
            loop.call_soon(self._flush, loop)
        return future

    async def _run_here(self, work: Callable[..., T], *args: Any) -> T:
        """Run the read `work(db, *args)` on the event loop's own connection, for a turn's
        point reads: indexed statements that take microseconds, where the hop to the thread
        and back (two wake-ups, the GIL changing hands) cost a third of a turn's CPU.

        The connection never waits inside SQLite (busy_timeout 0), which would block the
        loop: when the file is locked, the call sleeps a little and tries again, for up to
        `_BUSY_TIMEOUT` seconds like the thread's connection, while the loop serves other
        turns."""
        fast = self._fast
        if fast is None:
            raise StorageError("the store is not open")
        waited = 0.0
        for attempt in itertools.count():
            job = _Job(work, args, None)
            _call(fast, job)
            if job.ok:
                break
            if not _busy(job.value) or waited >= _BUSY_TIMEOUT:
                with _translate_errors():
                    raise job.value
            pause = _BUSY_PAUSES[min(attempt, len(_BUSY_PAUSES) - 1)]
            await asyncio.sleep(pause)
            waited += pause
        result: T = job.value
        return result

    def _write_here(self, work: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run the write `work(db, *args)` on the event loop's connection, committed together
        with the other writes that arrive before the loop next gets to them (group commit:
        one transaction, each write in a savepoint of its own, so one write's failure undoes
        only that write). A lone turn commits at once; under load a commit carries several
        turns, which share its page writes (a third less CPU per save at four)."""
        if self._fast is None:
            raise StorageError("the store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._writes.append(_Job(work, args, future, writes=True))
        if len(self._writes) == 1 and self._busy_since is None:
            loop.call_soon(self._commit_here, loop)
        return future

    def _commit_here(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commits the queued writes on the loop's connection. When another connection holds
        the file's write lock (a checkpoint on the thread, a CLI deploying) nothing is
        written: the batch, and whatever queues behind it, tries again after a pause
        (`_BUSY_PAUSES`) for up to `_BUSY_TIMEOUT` seconds, then fails with a 503. (Handing it
        to the thread instead made the thread the writer: the next turns found its batch
        holding the lock, followed it there, and half of all saves took the slow path.)"""
        jobs, self._writes = self._writes, []
        fast = self._fast
        if fast is None:  # closed in between
            for job in jobs:
                job.value = StorageError("the store is not open")
        else:
            locked = _execute(fast, jobs)
            if locked is not None and _busy(locked):
                started = self._busy_since = self._busy_since or loop.time()
                if loop.time() - started < _BUSY_TIMEOUT:
                    for job in jobs:  # none of them ran
                        job.ok, job.value = False, None
                    self._writes[:0] = jobs
                    pause = _BUSY_PAUSES[min(self._busy_tries, len(_BUSY_PAUSES) - 1)]
                    self._busy_tries += 1
                    loop.call_later(pause, self._commit_here, loop)
                    return
            self._busy_since, self._busy_tries = None, 0
            self._count_commits(sum(job.ok for job in jobs))
        for job in jobs:
            if not job.ok and isinstance(job.value, sqlite3.Error):
                job.value = _storage_error(job.value)
        _settle(jobs)

    def _count_commits(self, turns: int) -> None:
        """Asks the database thread for a checkpoint every `_CHECKPOINT_EVERY` saved turns."""
        before, self._fast_commits = self._fast_commits, self._fast_commits + turns
        if before // _CHECKPOINT_EVERY != self._fast_commits // _CHECKPOINT_EVERY:
            restart = before // _RESTART_EVERY != self._fast_commits // _RESTART_EVERY
            mode = "RESTART" if restart else "PASSIVE"
            self._submit(_checkpoint, mode).add_done_callback(_log_failure)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        jobs, self._queue = self._queue, []
        if self._thread is None:  # closed between queueing and flushing
            for job in jobs:
                job.value = StorageError("the store is not open")
            _settle(jobs)
            return
        self._thread.submit(jobs, loop)

    @staticmethod
    def _rows(
        db: sqlite3.Connection, sql: str, params: Sequence[Any] | dict[str, Any]
    ) -> list[Any]:
        """sqlite3.Row objects: they index by column name, as the row codec needs."""
        return db.execute(sql, params).fetchall()

    async def _sql_read(self, sql: str, params: Params) -> Rows:
        return await self._run(self._rows, sql, params)

    async def _sql_write(self, sql: str, params: Params) -> Rows:
        return await self._run(self._rows, sql, params, writes=True)

    async def _sql_transaction(self, steps: Steps) -> list[Rows] | None:
        try:
            return await self._run(self._steps, steps, writes=True)
        except _RolledBack:
            return None

    def _steps(self, db: sqlite3.Connection, steps: Steps) -> list[Rows]:
        """On the database thread, in the batch's savepoint: `_attempt` undoes it on raise."""
        done: list[Rows] = []
        for sql, params in steps:
            rows = self._rows(db, sql, params)
            if not rows:
                raise _RolledBack
            done.append(rows)
        return done

    async def get_conversation(self, bot: str, conversation_id: str) -> Conversation | None:
        sql = "SELECT * FROM conversations WHERE bot = ? AND id = ?"
        rows = await self._run_here(self._rows, sql, (bot, conversation_id))
        return _rows.conversation(rows[0]) if rows else None

    async def get_user(self, user_id: str) -> User | None:
        rows = await self._run_here(self._rows, "SELECT * FROM users WHERE id = ?", (user_id,))
        return _rows.user(rows[0]) if rows else None

    async def load(
        self, bot: str, conversation_id: str, user_id: str | None = None
    ) -> tuple[Conversation | None, User | None]:
        return _rows.loaded(await self._run_here(self._one, _LOAD, (bot, conversation_id, user_id)))

    @staticmethod
    def _one(db: sqlite3.Connection, sql: str, params: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(db.execute(sql, params).fetchone())

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
        history_ids, invocation_ids = await self._write_here(
            self._save, conv, user, history_rows, invocation_rows, answer
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
        db: sqlite3.Connection,
        conv: Row,
        user: Row | None,
        history_rows: list[Row],
        invocation_rows: list[Row],
        answer: Row | None,
    ) -> tuple[list[int], list[int]]:
        """The statements of one turn; `_execute` wraps them in a transaction."""
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

    async def get_answer(
        self, bot: str, conversation_id: str, message_id: str
    ) -> StoredAnswer | None:
        rows = await self._run_here(self._rows, _SELECT_ANSWER, (bot, conversation_id, message_id))
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

    def __init__(self, run: Callable[[list[_Job]], object]) -> None:
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
    future: asyncio.Future[Any] | None
    """Settled on the loop after a batch on the thread; None for a call on the loop."""
    writes: bool = False
    ok: bool = False
    value: Any = None


def _connect(path: Path, pragmas: Sequence[str]) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.row_factory = sqlite3.Row
        for pragma in pragmas:
            db.execute(pragma)
    except BaseException:
        db.close()
        raise
    return db


def _execute(db: sqlite3.Connection | None, jobs: list[_Job]) -> sqlite3.Error | None:
    """Every job of a batch on `db`, each succeeding or failing alone; the writes in one
    transaction. Answers why that transaction could not begin (then no write ran), if so."""
    writes = [job for job in jobs if job.writes]
    if writes and db is not None:
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            for job in jobs:
                if job.writes:
                    job.value = exc
                else:
                    _call(db, job)
            return exc
    shared = len(writes) > 1  # a lone write is undone with its transaction, no savepoint
    for job in jobs:
        _attempt(db, job, savepoint=shared)
    if writes and db is not None:
        if not shared and not writes[0].ok:
            db.execute("ROLLBACK")
            return None
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            db.execute("ROLLBACK")
            for job in writes:
                job.ok, job.value = False, exc
    return None


def _attempt(db: sqlite3.Connection | None, job: _Job, *, savepoint: bool) -> None:
    if db is None or not (savepoint and job.writes):
        _call(db, job)
        return
    db.execute("SAVEPOINT turn")
    if not _call(db, job):
        db.execute("ROLLBACK TO turn")
    db.execute("RELEASE turn")


def _call(db: sqlite3.Connection | None, job: _Job) -> bool:
    try:
        job.value, job.ok = job.work(db, *job.args), True
    except BaseException as exc:  # handed to the awaiting task, like run_in_executor does
        job.value = exc
    return job.ok


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        future = job.future
        if future is None or future.cancelled():
            continue
        if job.ok:
            future.set_result(job.value)
        else:
            future.set_exception(job.value)


def _busy(exc: BaseException | None) -> bool:
    """Another connection holds the lock the statement needed."""
    return isinstance(exc, sqlite3.OperationalError) and (
        (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    )


def _checkpoint(db: sqlite3.Connection, mode: str = "RESTART") -> None:
    """Copies the write-ahead log into the database file. PASSIVE copies what it can and
    waits for nobody. RESTART also waits for the write in progress and has the next write
    start the log over: passive checkpoints alone, racing the loop's steady writes, never
    find the log fully copied at the start of a write, so the log is never reused and grows
    without bound (a GB in a minute of load), slowing every read. While a RESTART runs the
    loop's writes find the file locked and queue behind it on this thread: the passive
    checkpoints before it leave it little to copy."""
    db.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.warning("checkpoint of the SQLite write-ahead log failed: %s", exc)


def _last_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None
    return cursor.lastrowid


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise _storage_error(exc) from exc


def _storage_error(exc: sqlite3.Error) -> StorageError:
    # The driver's message only: row values (which may hold secrets) are never echoed.
    error = StorageError(f"database error: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error

"""The PostgreSQL store on asyncpg directly: a pool of connections, every statement prepared
once per connection (asyncpg's statement cache), and a turn's two visits to the database one
statement each.

`load` is one query: the conversation and its user side by side, outer-joined to one row.
`save_turn` is one statement, so one round trip and a transaction of its own: data-modifying
CTEs write the conversation (`INSERT ... ON CONFLICT DO NOTHING` when it is new, `UPDATE ...
WHERE version = expected` when not), and each of the others (the user's upsert, the answer,
the history and invocation rows as `unnest` of one array per column) writes only if that one
returned its row. A stale version thus writes nothing, and any error (a foreign key, a
duplicate message id, a lost connection) fails the whole statement, which PostgreSQL undoes
whole. Foreign keys are checked at the end of the statement, so the CTEs' order is free.

The tables and migrations are the SQL store's (`_tables.py`, Alembic): `open` runs Alembic,
through SQLAlchemy on an asyncpg connection made with this store's settings, only when the
database is not at the newest revision.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

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
from parley.storage._schema import COLUMNS, HEAD_REVISION
from parley.storage.base import Store

SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
DEFAULT_POOL_SIZE = 10
"""Connections per process at most (`?pool_size=N` in the URL). A statement holds one only
while it runs, so a few serve many concurrent turns."""

ARRAY_TYPES: dict[str, dict[str, str]] = {
    "history": {
        "conversation_id": "varchar", "bot": "varchar", "conversation_no": "integer",
        "sender": "varchar", "message": "text", "turn_id": "varchar",
        "created_at": "double precision",
    },
    "invocations": {
        "turn_id": "varchar", "bot": "varchar", "conversation_id": "varchar", "node": "varchar",
        "kind": "varchar", "dialect": "varchar", "environment": "varchar", "method": "varchar",
        "url": "text", "request_headers": "text", "request_body": "text", "status": "integer",
        "response_body": "text", "latency_ms": "double precision", "error": "text",
        "created_at": "double precision",
    },
}  # fmt: skip
"""The PostgreSQL types of the columns a turn inserts many rows of, for the arrays `unnest`
takes (a test holds them equal to `_tables.py`)."""

_CONVERSATION = COLUMNS["conversations"]
_USER = COLUMNS["users"]
_LOAD = (
    f"SELECT {', '.join(f'c.{n}' for n in _CONVERSATION)}, {', '.join(f'u.{n}' for n in _USER)}"
    " FROM (SELECT) AS one"
    " LEFT JOIN conversations AS c ON c.bot = $1 AND c.id = $2"
    " LEFT JOIN users AS u ON u.id = COALESCE($3, c.user_id, $2)"
)
_ANSWERS_KEY = "pk_answers"


class PgStore(SqlAccounts, SqlReleases, Store):
    """`Store` on PostgreSQL (`postgresql://user:password@host/db`), through asyncpg.

    `?pool_size=N` in the URL caps this process's connections (default 10); every other part
    of the URL is asyncpg's (`sslmode`, `host=/socket/dir`, ...).
    """

    def __init__(self, url: str) -> None:
        self._dsn, self._pool_size = _parse_url(url)
        self._pool: Any = None

    @property
    def pool(self) -> Any:
        """The asyncpg pool (None until `open`), for tools and tests that need SQL of their own."""
        return self._pool

    async def open(self) -> None:
        if self._pool is not None:
            return
        # No floor of idle connections (min_size 0): connections are made when a statement
        # needs one, where a floor is rebuilt by a background task that logs a traceback at
        # every try while the database is down.
        with _translate_errors():
            pool = await asyncpg.create_pool(
                self._dsn, min_size=0, max_size=self._pool_size, reset=_keep_session
            )
        try:
            await self._migrate(pool)
        except BaseException:
            pool.terminate()
            raise
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _migrate(self, pool: Any) -> None:
        """Alembic, on SQLAlchemy, only for a database that is not at the newest revision:
        a server on a migrated database starts without importing either."""
        with _translate_errors():
            try:
                revision = await pool.fetchval("SELECT version_num FROM alembic_version")
            except asyncpg.UndefinedTableError:
                revision = None
        if revision == HEAD_REVISION:
            return
        import sqlalchemy as sa

        from parley.storage import _engine

        try:
            await _engine.upgrade_with(lambda: asyncpg.connect(self._dsn))
        except sa.exc.SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            raise StorageError(f"database error: {type(cause).__name__}: {cause}") from exc
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise _storage_error(exc) from exc

    def _open_pool(self) -> Any:
        if self._pool is None:
            raise StorageError("the store is not open")
        return self._pool

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        with _translate_errors():
            rows: list[Any] = await self._open_pool().fetch(sql, *args)
            return rows

    async def get_conversation(self, bot: str, conversation_id: str) -> Conversation | None:
        sql = "SELECT * FROM conversations WHERE bot = $1 AND id = $2"
        rows = await self._fetch(sql, bot, conversation_id)
        return _rows.conversation(rows[0]) if rows else None

    async def get_user(self, user_id: str) -> User | None:
        rows = await self._fetch("SELECT * FROM users WHERE id = $1", user_id)
        return _rows.user(rows[0]) if rows else None

    async def load(
        self, bot: str, conversation_id: str, user_id: str | None = None
    ) -> tuple[Conversation | None, User | None]:
        [row] = await self._fetch(_LOAD, bot, conversation_id, user_id)
        return _rows.loaded(tuple(row))

    async def save_turn(self, record: TurnRecord) -> None:
        # Encode first: a value that is not JSON fails before anything is sent.
        now = time.time()
        expected = record.expected_version
        conv = _rows.conversation_row(record.conversation)
        values: dict[str, Any] = {f"conversations.{k}": v for k, v in conv.items()}
        values.update(
            {
                "conversations.version": expected + 1,
                "conversations.created_at": now,
                "conversations.updated_at": now,
                "expected": expected,
            }
        )
        if not record.user_unchanged:
            user = {**_rows.user_row(record.user), "updated_at": now}
            values.update({f"users.{k}": v for k, v in user.items()})
        _add_columns(values, "history", [_rows.history_row(e) for e in record.history])
        _add_columns(values, "invocations", [_rows.invocation_row(i) for i in record.invocations])
        answer = None
        if record.answer is not None:
            answer = {**_rows.answer_row(record.answer, conv["bot"], conv["id"]), "created_at": now}
            values.update({f"answers.{k}": v for k, v in answer.items()})

        statement = _save_statement(expected == 0, not record.user_unchanged, answer is not None)
        args = [values[name] for name in statement.names]
        with _translate_errors():
            try:
                row = await self._open_pool().fetchrow(statement.sql, *args)
            except asyncpg.UniqueViolationError as exc:
                if answer is None or exc.constraint_name != _ANSWERS_KEY:
                    raise
                raise Conflict(
                    f"conversation {conv['bot']}/{conv['id']} has message {answer['message_id']!r}"
                ) from None
        if not row["saved"]:
            raise Conflict(
                f"conversation {conv['bot']}/{conv['id']} changed since the turn began"
                f" (expected version {expected})"
            )
        record.conversation.version, record.conversation.updated_at = expected + 1, now
        if record.answer is not None:
            record.answer.created_at = now
        for entry, history_id in zip(record.history, row["history_ids"], strict=True):
            entry.id = history_id
        for inv, invocation_id in zip(record.invocations, row["invocation_ids"], strict=True):
            inv.id = invocation_id

    async def get_answer(
        self, bot: str, conversation_id: str, message_id: str
    ) -> StoredAnswer | None:
        sql = "SELECT * FROM answers WHERE bot = $1 AND conversation_id = $2 AND message_id = $3"
        rows = await self._fetch(sql, bot, conversation_id, message_id)
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
        sql = "SELECT * FROM history WHERE bot = $1 AND conversation_id = $2"
        args: list[Any] = [bot, conversation_id]
        if conversation_no is not None:
            args.append(conversation_no)
            sql += f" AND conversation_no = ${len(args)}"
        if limit is None:
            rows = await self._fetch(sql + " ORDER BY id", *args)
        else:
            args.append(limit)
            rows = await self._fetch(sql + f" ORDER BY id DESC LIMIT ${len(args)}", *args)
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
        sql = "SELECT * FROM invocations WHERE id > $1"
        args: list[Any] = [after_id]
        for column, operator, value in (
            ("id", "<", before_id),
            ("bot", "=", bot),
            ("conversation_id", "=", conversation_id),
        ):
            if value is not None:
                args.append(value)
                sql += f" AND {column} {operator} ${len(args)}"
        args.append(limit)
        sql += f" ORDER BY id {'DESC' if newest else 'ASC'} LIMIT ${len(args)}"
        found = [_rows.invocation(row) for row in await self._fetch(sql, *args)]
        return found[::-1] if newest else found

    async def _sql_read(self, sql: str, params: Params) -> Rows:
        text, names = positional(sql)
        return await self._fetch(text, *[params[name] for name in names])

    async def _sql_write(self, sql: str, params: Params) -> Rows:
        # One statement is a transaction of its own.
        return await self._sql_read(sql, params)

    async def _sql_transaction(self, steps: Steps) -> list[Rows] | None:
        with _translate_errors():
            async with self._open_pool().acquire() as connection:
                try:
                    async with connection.transaction():
                        done: list[Rows] = []
                        for sql, params in steps:
                            text, names = positional(sql)
                            rows = await connection.fetch(text, *[params[n] for n in names])
                            if not rows:
                                raise _RolledBack
                            done.append(rows)
                        return done
                except _RolledBack:
                    return None


class _RolledBack(Exception):
    """A step of `_sql_transaction` returned no row: the transaction block rolls back."""


_NAME = re.compile(r"'(?:[^']|'')*'|(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=512)
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters as asyncpg's `$1, $2, ...`, and the names in that order: a name used
    twice is one parameter. `::type` casts and quoted literals are left alone. Cached, like the
    statements asyncpg prepares from the result."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match[1]
        if name is None:  # a string literal
            return match[0]
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAME.sub(number, sql), tuple(names)


class _Statement:
    """SQL with `$n` parameters and, for each `n`, the name of its value."""

    __slots__ = ("names", "sql")

    def __init__(self) -> None:
        self.sql = ""
        self.names: list[str] = []

    def bind(self, name: str, cast: str = "") -> str:
        if name not in self.names:
            self.names.append(name)
        return f"${self.names.index(name) + 1}{cast}"


@functools.cache
def _save_statement(new: bool, user: bool, answer: bool) -> _Statement:
    """The one statement of `save_turn`: `saved` has a row only if the conversation was
    written, and every other write is conditional on it."""
    statement = _Statement()
    bind = statement.bind
    if new:
        values = ", ".join(bind(f"conversations.{n}") for n in _CONVERSATION)
        conversation = (
            f"INSERT INTO conversations ({', '.join(_CONVERSATION)}) VALUES ({values})"
            " ON CONFLICT (bot, id) DO NOTHING RETURNING 1"
        )
    else:
        names = [n for n in _CONVERSATION if n not in ("bot", "id", "created_at")]
        sets = ", ".join(f"{n} = {bind(f'conversations.{n}')}" for n in names)
        conversation = (
            f"UPDATE conversations SET {sets} WHERE bot = {bind('conversations.bot')}"
            f" AND id = {bind('conversations.id')} AND version = {bind('expected')} RETURNING 1"
        )
    parts = [f"saved AS ({conversation})"]
    if user:
        updates = ", ".join(f"{n} = excluded.{n}" for n in _USER if n != "id")
        parts.append(
            f"saved_user AS ({_insert_one(statement, 'users')}"
            f" ON CONFLICT (id) DO UPDATE SET {updates})"
        )
    if answer:
        parts.append(f"saved_answer AS ({_insert_one(statement, 'answers')})")
    parts.append(f"history_ids AS ({_insert_many(statement, 'history')})")
    parts.append(f"invocation_ids AS ({_insert_many(statement, 'invocations')})")
    statement.sql = (
        f"WITH {', '.join(parts)} SELECT EXISTS (SELECT FROM saved) AS saved,"
        " ARRAY(SELECT id FROM history_ids ORDER BY id) AS history_ids,"
        " ARRAY(SELECT id FROM invocation_ids ORDER BY id) AS invocation_ids"
    )
    return statement


def _insert_one(statement: _Statement, table: str) -> str:
    columns = COLUMNS[table]
    values = ", ".join(statement.bind(f"{table}.{n}") for n in columns)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values}"
        " WHERE EXISTS (SELECT FROM saved)"
    )


def _insert_many(statement: _Statement, table: str) -> str:
    """One row per array element. `unnest` yields them in order, and the sequence numbers
    them as they come: the ids, sorted, are the rows' in the record's order."""
    types = ARRAY_TYPES[table]
    arrays = ", ".join(statement.bind(f"{table}.{n}", f"::{t}[]") for n, t in types.items())
    return (
        f"INSERT INTO {table} ({', '.join(types)}) SELECT * FROM unnest({arrays})"
        " WHERE EXISTS (SELECT FROM saved) RETURNING id"
    )


def _add_columns(values: dict[str, Any], table: str, rows: Sequence[Row]) -> None:
    for column in ARRAY_TYPES[table]:
        values[f"{table}.{column}"] = [row[column] for row in rows]


async def _keep_session(connection: Any) -> None:
    """Released connections are not reset. asyncpg's default reset is a query (`RESET ALL`,
    `UNLISTEN *`, ...) at every release, a second round trip for each statement here, and
    this store leaves no session state to reset: no SET, LISTEN, cursor or session lock.
    asyncpg still rolls back a transaction left open."""


def _parse_url(url: str) -> tuple[str, int]:
    """asyncpg's DSN (scheme `postgresql`, without `pool_size`) and the pool size. Messages
    never echo the URL: it may hold a password."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise BadRequest("PgStore needs a postgresql:// URL")
    query = parse_qsl(parts.query, keep_blank_values=True)
    sizes = [value for name, value in query if name == "pool_size"]
    rest = [(name, value) for name, value in query if name != "pool_size"]
    size = DEFAULT_POOL_SIZE
    if sizes:
        if not sizes[-1].isdigit() or int(sizes[-1]) < 1:
            raise BadRequest("pool_size in the database URL must be a whole number, 1 or more")
        size = int(sizes[-1])
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(rest), parts.fragment))
    return dsn, size


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise _storage_error(exc) from exc


_DATA_ERRORS = (asyncpg.DataError, asyncpg.exceptions._base.DataError)


def _storage_error(exc: BaseException) -> StorageError:
    """The driver's primary message, never the row values: PostgreSQL's DETAIL (`Key
    (id)=(...)`) is left out, and so is what follows the colon of a data error (asyncpg's
    `invalid input for query argument $2: 'the value' ...`, the server's `invalid input syntax
    for type integer: "the value"`)."""
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, _DATA_ERRORS):
        message = message.split(": ", 1)[0]
    return StorageError(f"database error: {type(exc).__name__}: {message}")

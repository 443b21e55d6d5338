"""The SQL store: SQLAlchemy Core on SQLite (aiosqlite) or PostgreSQL (asyncpg).

`create_store` gives it `sqlite+aiosqlite://` and `postgresql+sqlalchemy://` URLs: plain
`sqlite:///` and `postgresql://` go to the stores on the drivers directly (`SqliteStore`,
`PgStore`), which cost a fraction of its CPU per turn.

A turn is one transaction of at most four statements: upsert the user, write the conversation
if its version is still the expected one, then insert the history and invocation rows in one
multi-row INSERT ... RETURNING each.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.errors import Conflict, StorageError
from parley.model import (
    Conversation,
    HistoryEntry,
    Invocation,
    StoredAnswer,
    TurnRecord,
    User,
)
from parley.storage import _engine, _rows
from parley.storage._accounts_sql import Params, Rows, SqlAccounts
from parley.storage._releases_sql import SqlReleases, Steps
from parley.storage._rows import Row
from parley.storage._tables import answers, conversations, history, invocations, users
from parley.storage.base import Store

_KEY = (conversations.c.bot == sa.bindparam("_bot")) & (conversations.c.id == sa.bindparam("_id"))
_SELECT_CONVERSATION = sa.select(conversations).where(_KEY)
_SELECT_USER = sa.select(users).where(users.c.id == sa.bindparam("_id"))
# `load` in one round trip: the conversation (if any) and its user (if any) side by side, the
# user named by `_user`, else by the conversation, else like the conversation.
_ONE_ROW = sa.select(sa.literal(1).label("one")).subquery()
_USER_ID = sa.func.coalesce(
    sa.bindparam("_user", type_=sa.String), conversations.c.user_id, sa.bindparam("_id")
)
_SELECT_LOADED = (
    sa.select(
        *[c.label(f"c_{c.name}") for c in conversations.c],
        *[c.label(f"u_{c.name}") for c in users.c],
    )
    .select_from(_ONE_ROW)
    .outerjoin(conversations, _KEY)
    .outerjoin(users, users.c.id == _USER_ID)
)
# Parameters named like columns become the SET clause.
_UPDATE_CONVERSATION = sa.update(conversations).where(
    _KEY & (conversations.c.version == sa.bindparam("_expected"))
)
_SELECT_ANSWER = sa.select(answers).where(
    (answers.c.bot == sa.bindparam("_bot"))
    & (answers.c.conversation_id == sa.bindparam("_id"))
    & (answers.c.message_id == sa.bindparam("_message_id"))
)


class SqlStore(SqlAccounts, SqlReleases, Store):
    """`Store` on a SQL database. `url`: `sqlite:///path/to.db` or `postgresql://...`.

    `open()` creates the database file's folder and migrates the schema to the newest revision
    (a no-op when it is there); `close()` closes the connection pool.
    """

    def __init__(self, url: str) -> None:
        self._engine = _engine.create_engine(_engine.normalise_url(url))
        dialect = self._engine.dialect.name
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        new = insert(conversations).on_conflict_do_nothing(index_elements=["bot", "id"])
        upsert = insert(users)
        upsert = upsert.on_conflict_do_update(
            index_elements=["id"],
            set_={c.name: upsert.excluded[c.name] for c in users.c if c.name != "id"},
        )
        self._insert_conversation, self._upsert_user = new, upsert
        self._insert_answer = insert(answers).on_conflict_do_nothing(
            index_elements=["bot", "conversation_id", "message_id"]
        )
        # SQLite numbers the rows of one INSERT in order but may return them in any order,
        # and cannot do the ordered form in one statement: take its ids sorted instead.
        self._ids_in_order = dialect == "sqlite"
        ordered = not self._ids_in_order
        self._insert_history = sa.insert(history).returning(
            history.c.id, sort_by_parameter_order=ordered
        )
        self._insert_invocations = sa.insert(invocations).returning(
            invocations.c.id, sort_by_parameter_order=ordered
        )
        # SQLite lets one connection write at a time and makes the others retry with sleeps
        # of up to 100 ms; queueing this process's writers here keeps throughput even.
        self._write_lock = asyncio.Lock() if dialect == "sqlite" else None

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine, for tools and tests that need SQL of their own."""
        return self._engine

    async def open(self) -> None:
        with _translate_errors():
            await _engine.upgrade(self._engine)

    async def close(self) -> None:
        await self._engine.dispose()

    async def get_conversation(self, bot: str, conversation_id: str) -> Conversation | None:
        rows = await self._select(_SELECT_CONVERSATION, {"_bot": bot, "_id": conversation_id})
        return _rows.conversation(rows[0]) if rows else None

    async def get_user(self, user_id: str) -> User | None:
        rows = await self._select(_SELECT_USER, {"_id": user_id})
        return _rows.user(rows[0]) if rows else None

    async def load(
        self, bot: str, conversation_id: str, user_id: str | None = None
    ) -> tuple[Conversation | None, User | None]:
        params = {"_bot": bot, "_id": conversation_id, "_user": user_id}
        [row] = await self._select(_SELECT_LOADED, params)
        conv = {k[2:]: v for k, v in row.items() if k.startswith("c_")}
        user = {k[2:]: v for k, v in row.items() if k.startswith("u_")}
        return (
            _rows.conversation(conv) if conv["id"] is not None else None,
            _rows.user(user) if user["id"] is not None else None,
        )

    async def save_turn(self, record: TurnRecord) -> None:
        # Encode before the transaction: a value that is not JSON fails before any write, and
        # the write lock is held for database work only.
        conv = _rows.conversation_row(record.conversation)
        user = _rows.user_row(record.user)
        history_rows = [_rows.history_row(entry) for entry in record.history]
        invocation_rows = [_rows.invocation_row(inv) for inv in record.invocations]
        expected = record.expected_version
        now = time.time()
        answer = None
        if record.answer is not None:
            answer = _rows.answer_row(record.answer, conv["bot"], conv["id"])
            answer["created_at"] = now
        conv.update(version=expected + 1, updated_at=now)

        async with self._writing() as connection:
            # The user first: the conversation row references it.
            if not record.user_unchanged:
                await connection.execute(self._upsert_user, {**user, "updated_at": now})
            if expected == 0:
                insert = self._insert_conversation
                result = await connection.execute(insert, {**conv, "created_at": now})
            else:
                where = {"_bot": conv.pop("bot"), "_id": conv.pop("id"), "_expected": expected}
                result = await connection.execute(_UPDATE_CONVERSATION, {**conv, **where})
            if result.rowcount != 1:
                conversation = record.conversation
                raise Conflict(
                    f"conversation {conversation.bot}/{conversation.id} changed since the turn"
                    f" began (expected version {expected})"
                )
            if answer is not None:
                inserted = await connection.execute(self._insert_answer, answer)
                if inserted.rowcount != 1:
                    raise Conflict(
                        f"conversation {answer['bot']}/{answer['conversation_id']} has message"
                        f" {answer['message_id']!r}"
                    )
            history_ids = await self._insert_many(connection, self._insert_history, history_rows)
            invocation_ids = await self._insert_many(
                connection, self._insert_invocations, invocation_rows
            )

        record.conversation.version, record.conversation.updated_at = expected + 1, now
        if record.answer is not None:
            record.answer.created_at = now
        for entry, history_id in zip(record.history, history_ids, strict=True):
            entry.id = history_id
        for inv, invocation_id in zip(record.invocations, invocation_ids, strict=True):
            inv.id = invocation_id

    async def get_answer(
        self, bot: str, conversation_id: str, message_id: str
    ) -> StoredAnswer | None:
        params = {"_bot": bot, "_id": conversation_id, "_message_id": message_id}
        rows = await self._select(_SELECT_ANSWER, params)
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
        query = sa.select(history).where(
            history.c.bot == bot, history.c.conversation_id == conversation_id
        )
        if conversation_no is not None:
            query = query.where(history.c.conversation_no == conversation_no)
        if limit is None:
            rows = await self._select(query.order_by(history.c.id))
        else:
            rows = await self._select(query.order_by(history.c.id.desc()).limit(limit))
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
        query = sa.select(invocations).where(invocations.c.id > after_id)
        if before_id is not None:
            query = query.where(invocations.c.id < before_id)
        if bot is not None:
            query = query.where(invocations.c.bot == bot)
        if conversation_id is not None:
            query = query.where(invocations.c.conversation_id == conversation_id)
        order = invocations.c.id.desc() if newest else invocations.c.id
        rows = await self._select(query.order_by(order).limit(limit))
        found = [_rows.invocation(row) for row in rows]
        return found[::-1] if newest else found

    async def _sql_read(self, sql: str, params: Params) -> Rows:
        with _translate_errors():
            async with self._engine.connect() as connection:
                return list((await connection.execute(sa.text(sql), params)).mappings())

    async def _sql_write(self, sql: str, params: Params) -> Rows:
        async with self._writing() as connection:
            result = await connection.execute(sa.text(sql), params)
            return list(result.mappings()) if result.returns_rows else []

    async def _sql_transaction(self, steps: Steps) -> list[Rows] | None:
        try:
            async with self._writing() as connection:
                done: list[Rows] = []
                for sql, params in steps:
                    rows = list((await connection.execute(sa.text(sql), params)).mappings())
                    if not rows:
                        raise _RolledBack
                    done.append(rows)
                return done
        except _RolledBack:
            return None

    async def _select(
        self, query: sa.Select[Any], params: dict[str, Any] | None = None
    ) -> list[sa.RowMapping]:
        with _translate_errors():
            async with self._engine.connect() as connection:
                result = await connection.execute(query, params)
                return list(result.mappings())

    async def _insert_many(
        self, connection: AsyncConnection, statement: sa.Insert, rows: Sequence[Row]
    ) -> list[int]:
        if not rows:
            return []
        ids = list((await connection.execute(statement, list(rows))).scalars())
        return sorted(ids) if self._ids_in_order else ids

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        async with self._write_lock or contextlib.nullcontext():
            with _translate_errors():
                async with self._engine.begin() as connection:
                    yield connection


class _RolledBack(Exception):
    """A step of `_sql_transaction` returned no row: `_writing` rolls the transaction back."""


@contextlib.contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        # The driver's error, not SQLAlchemy's text: that one lists the bound parameters.
        cause = getattr(exc, "orig", None) or exc
        raise StorageError(f"database error: {type(cause).__name__}: {cause}") from exc

"""Database URLs, engines and schema migrations for the SQL store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from parley.errors import BadRequest
from parley.storage._schema import SQLITE_PRAGMAS

MIGRATIONS = Path(__file__).parent / "migrations"

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
# Any constant: serialises concurrent `open()`s of one PostgreSQL database.
_MIGRATION_LOCK = 0x7061726C6579


def normalise_url(url: str) -> sa.URL:
    """`sqlite:///path` and `postgresql://...` (also `postgres://`, and `postgresql+sqlalchemy://`,
    which `create_store` gives to the SQLAlchemy store) with our async drivers."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        # Not echoed: a malformed URL may still hold a password.
        raise BadRequest(
            "not a database URL: use memory://, sqlite:///PATH or postgresql://..."
        ) from exc
    backend = parsed.get_backend_name()
    backend = "postgresql" if backend == "postgres" else backend
    if backend not in _DRIVERS:
        raise BadRequest(
            f"unsupported database {backend!r}: use memory://, sqlite:///PATH or postgresql://..."
        )
    return parsed.set(drivername=_DRIVERS[backend])


def create_engine(url: sa.URL) -> AsyncEngine:
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_size=10, max_overflow=10, pool_recycle=3600)
    engine = create_async_engine(url)
    sa.event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def alembic_config(url: str | None = None) -> Config:
    """Alembic settings built in code: no alembic.ini at run time.

    With a `url`, Alembic's own commands work too, e.g. a new revision:
    `command.revision(alembic_config("sqlite:///dev.db"), "add x", autogenerate=True)`.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        rendered = normalise_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Migrate the schema to the newest revision, in one transaction; a no-op when it is.

    A SQLite database file's folder is created first.
    """
    _create_folder(engine.url)
    for attempt in range(_SQLITE_OPEN_TRIES):
        try:
            async with engine.connect() as connection:
                # Take the writer's lock first, so two processes opening one database take turns.
                if engine.dialect.name == "sqlite":
                    await connection.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    lock = sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)
                    await connection.execute(sa.select(lock))
                await connection.run_sync(_upgrade)
                await connection.commit()
                return
        except sa.exc.OperationalError as exc:
            if not _sqlite_busy(engine.url, exc, attempt):
                raise
            await asyncio.sleep(_backoff(attempt))


async def upgrade_with(connect: Callable[[], Awaitable[Any]]) -> None:
    """`upgrade` for PostgreSQL on connections from `connect` (an asyncpg connection): the
    asyncpg store migrates with its own connection settings, through an engine of its own that
    is gone afterwards."""
    engine = create_async_engine(
        "postgresql+asyncpg://", async_creator=connect, poolclass=sa.NullPool
    )
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def upgrade_sqlite_file(url: sa.URL) -> None:
    """`upgrade` for a SQLite file on the standard library's driver, synchronously (the stdlib
    SQLite store runs it on its own database thread)."""
    _create_folder(url)
    engine = sa.create_engine(url.set(drivername="sqlite+pysqlite"), poolclass=sa.NullPool)
    try:
        for attempt in range(_SQLITE_OPEN_TRIES):
            try:
                with engine.connect() as connection:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")  # take turns with other openers
                    _upgrade(connection)
                    connection.commit()
                    return
            except sa.exc.OperationalError as exc:
                if not _sqlite_busy(url, exc, attempt):
                    raise
                time.sleep(_backoff(attempt))
    finally:
        engine.dispose()


# Opening a NEW SQLite file from several connections at once can meet SQLite's deadlock
# guard (SQLITE_BUSY at once, no busy wait) while one of them switches it to WAL: retry.
_SQLITE_OPEN_TRIES = 8


def _sqlite_busy(url: sa.URL, exc: sa.exc.OperationalError, attempt: int) -> bool:
    locked = "database is locked" in str(exc.orig)
    return url.get_backend_name() == "sqlite" and locked and attempt < _SQLITE_OPEN_TRIES - 1


def _backoff(attempt: int) -> float:
    return min(0.05 * (1 << attempt), 1.0)


def _create_folder(url: sa.URL) -> None:
    database = url.database
    if url.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return
    if not url.query.get("uri"):  # file: URIs name their own paths
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _upgrade(connection: sa.Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")

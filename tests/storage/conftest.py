"""One `store` fixture for every backend: memory, SQLite in tmp_path, PostgreSQL.

PostgreSQL tests each get a fresh database on the server at `PARLEY_TEST_POSTGRES_URL`
(default: trust auth on 127.0.0.1). Unreachable, they skip; with `CI=true` they fail.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

import parley.storage.sqlite
from parley.storage import MemoryStore, PgStore, SqliteStore, SqlStore, Store, create_store

POSTGRES_URL = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = sa.make_url(POSTGRES_URL)
    try:
        socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=2).close()
    except OSError as exc:
        message = f"PostgreSQL is unreachable at {url.host}:{url.port}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A database of its own, dropped afterwards: tests (and test runs) never share rows."""
    name = f"parley_test_{uuid.uuid4().hex[:12]}"
    admin_url = sa.make_url(postgres_server).set(drivername="postgresql")
    dsn = admin_url.render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield admin_url.set(database=name).render_as_string(hide_password=False)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/data/parley.db"


@pytest.fixture
def aiosqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/data/parley.db"


@pytest.fixture(params=["memory", "sqlite", "aiosqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    async with create_store(store_url) as opened:
        yield opened


@pytest.fixture
def fail_on_invocation_insert(
    monkeypatch: pytest.MonkeyPatch, store_url: str
) -> Callable[[Store], contextlib.AbstractContextManager[None]]:
    """Make the last write of a save (the invocation log) fail with "injected failure": a
    `RuntimeError` in the store's own code, or on PostgreSQL the database's own error (a
    trigger), which the asyncpg store reports as `StorageError`."""

    @contextlib.contextmanager
    def failing(store: Store) -> Iterator[None]:
        if isinstance(store, MemoryStore):
            with monkeypatch.context() as patch:
                patch.setattr(store, "_append_invocations", _raise_injected)
                yield
            return
        if isinstance(store, SqliteStore):
            with monkeypatch.context() as patch:
                patch.setattr(parley.storage.sqlite, "_last_id", _raise_injected)
                yield
            return
        if isinstance(store, PgStore):
            _run_sql(store_url, _FAIL_ON_INVOCATION_INSERT)
            try:
                yield
            finally:
                _run_sql(store_url, "DROP FUNCTION parley_injected_failure() CASCADE")
            return
        assert isinstance(store, SqlStore)

        def before_execute(*args: object) -> None:
            statement = str(args[2])
            if statement.startswith("INSERT INTO invocations"):
                raise RuntimeError(f"injected failure: {statement}")

        engine = store.engine.sync_engine
        sa.event.listen(engine, "before_cursor_execute", before_execute)
        try:
            yield
        finally:
            sa.event.remove(engine, "before_cursor_execute", before_execute)

    return failing


def _raise_injected(*args: object) -> None:
    raise RuntimeError("injected failure: invocations")


_FAIL_ON_INVOCATION_INSERT = """
CREATE FUNCTION parley_injected_failure() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'injected failure: invocations'; END $$;
CREATE TRIGGER parley_injected_failure BEFORE INSERT ON invocations
FOR EACH ROW EXECUTE FUNCTION parley_injected_failure();
"""


def _run_sql(url: str, sql: str) -> None:
    """`sql` on a connection of its own, from a synchronous fixture inside a running loop: on
    a thread with a loop of its own. The store's connections are idle meanwhile."""

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(lambda: asyncio.run(run())).result()

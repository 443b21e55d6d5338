"""What only the SQL store does: migrations, SQLite settings, driver errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from parley.errors import StorageError
from parley.model import Conversation, Invocation, TurnRecord, User
from parley.storage import SqlStore, Store
from parley.storage._engine import alembic_config
from parley.storage._tables import metadata


@pytest.fixture(params=["sqlite", "postgres"])
def sql_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def new_turn(user: User | None = None, invocation_bot: str = "bot") -> TurnRecord:
    conv = Conversation(id="c1", bot="bot", user_id="u1")
    inv = Invocation("t", invocation_bot, "c1", "n", "webhook", "https://example.com", 1.0)
    return TurnRecord("t", conv, user or User("u1"), [], [inv], 0)


async def scalar(store: SqlStore, sql: str) -> object:
    async with store.engine.connect() as connection:
        return (await connection.exec_driver_sql(sql)).scalar()


async def test_sqlite_runs_in_wal_mode_with_safe_settings(sqlite_url: str) -> None:
    async with SqlStore(sqlite_url) as store:
        assert await scalar(store, "PRAGMA journal_mode") == "wal"
        assert await scalar(store, "PRAGMA synchronous") == 1  # NORMAL
        assert await scalar(store, "PRAGMA foreign_keys") == 1
        assert await scalar(store, "PRAGMA busy_timeout") == 5000


async def test_open_creates_the_database_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "parley.db"

    async with SqlStore(f"sqlite:///{path}"):
        pass

    assert path.is_file()


async def test_reopening_a_sqlite_file_keeps_data_and_migrates_nothing(sqlite_url: str) -> None:
    async with SqlStore(sqlite_url) as store:
        await store.save_turn(new_turn(User("u1", data={"kept": True})))
    statements: list[str] = []
    store = SqlStore(sqlite_url)
    sa.event.listen(
        store.engine.sync_engine,
        "before_cursor_execute",
        lambda *args: statements.append(args[2]),
    )

    async with store:
        assert await store.get_user("u1") == User("u1", data={"kept": True})
        assert await scalar(store, "SELECT version_num FROM alembic_version") == "0004"

    assert statements, "open() should have read the schema version"
    assert not [s for s in statements if s.split()[0].upper() in {"CREATE", "ALTER", "DROP"}]


async def test_open_twice_is_a_no_op(sql_url: str) -> None:
    async with SqlStore(sql_url) as store:
        await store.save_turn(new_turn())
        await store.open()
        assert await store.get_conversation("bot", "c1") is not None


async def test_concurrent_opens_of_a_new_database_take_turns(sql_url: str) -> None:
    await assert_concurrent_opens_take_turns([SqlStore(sql_url) for _ in range(3)])


async def assert_concurrent_opens_take_turns(stores: list[Store]) -> None:
    """Stores opened at once on a new database migrate it once, and then share it."""
    try:
        await asyncio.gather(*(store.open() for store in stores))
        await stores[0].save_turn(new_turn())
        assert await stores[2].get_conversation("bot", "c1") is not None
    finally:
        for store in stores:
            await store.close()


async def test_migrations_build_exactly_the_table_definitions(sql_url: str) -> None:
    async with SqlStore(sql_url) as store, store.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )

    assert differences == []


async def test_migrations_downgrade_and_upgrade_again(sqlite_url: str) -> None:
    def migrate(connection: sa.Connection, revision: str) -> list[str]:
        config = alembic_config()
        config.attributes["connection"] = connection
        if revision == "base":
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)
        return sorted(sa.inspect(connection).get_table_names())

    async with SqlStore(sqlite_url) as store, store.engine.begin() as connection:
        assert await connection.run_sync(migrate, "base") == ["alembic_version"]
        tables = await connection.run_sync(migrate, "head")

    assert tables == [
        "agents",
        "alembic_version",
        "answers",
        "assignments",
        "businesses",
        "conversations",
        "credentials",
        "current_releases",
        "history",
        "invocations",
        "releases",
        "teams",
        "users",
    ]


async def test_database_errors_are_storage_errors_without_the_row_values(sql_url: str) -> None:
    user = User("u1", auth_code="s3cret-code")
    async with SqlStore(sql_url) as store:
        with pytest.raises(StorageError) as raised:
            await store.save_turn(new_turn(user, invocation_bot="other"))

    assert "s3cret-code" not in str(raised.value)


async def test_unreachable_database_is_a_storage_error() -> None:
    store = SqlStore("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(StorageError):
            await store.open()
    finally:
        await store.close()


async def test_ids_of_deleted_rows_are_never_reused(sql_url: str) -> None:
    """`logs --tail` pages by id: a new row must sort after every row ever handed out."""
    async with SqlStore(sql_url) as store:
        first = new_turn()
        await store.save_turn(first)
        async with store.engine.begin() as connection:
            await connection.exec_driver_sql("DELETE FROM invocations")
        second = new_turn()
        second.expected_version = second.conversation.version = 1
        await store.save_turn(second)

    assert (second.invocations[0].id or 0) > (first.invocations[0].id or 0)

"""What only the stdlib SQLite store does: its connection settings, its thread, its file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from parley.errors import BadRequest, StorageError
from parley.model import User
from parley.storage import SqliteStore, SqlStore

from .test_sql_store import new_turn


async def test_connection_runs_in_wal_mode_with_safe_settings(sqlite_url: str) -> None:
    async with SqliteStore(sqlite_url) as store:
        pragmas = {}
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout"):
            rows = await store._run(store._rows, f"PRAGMA {name}", ())
            pragmas[name] = rows[0][0]
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                       "busy_timeout": 5000}  # fmt: skip


async def test_open_creates_the_folder_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "parley.db"
    async with SqliteStore(f"sqlite:///{path}") as store:
        rows = await store._run(store._rows, "SELECT version_num FROM alembic_version", ())
    assert path.is_file() and rows[0][0] == "0004"


async def test_a_file_written_by_one_sqlite_store_is_read_by_the_other(sqlite_url: str) -> None:
    async with SqliteStore(sqlite_url) as store:
        await store.save_turn(new_turn(User("u1", data={"kept": "é"})))
    async with SqlStore(sqlite_url.replace("sqlite:", "sqlite+aiosqlite:")) as other:
        assert await other.get_user("u1") == User("u1", data={"kept": "é"})
        assert [i.url for i in await other.invocations()] == ["https://example.com"]


async def test_a_closed_store_refuses_work_with_a_storage_error(sqlite_url: str) -> None:
    store = SqliteStore(sqlite_url)
    with pytest.raises(StorageError, match="not open"):
        await store.get_user("u1")
    async with store:
        pass
    with pytest.raises(StorageError, match="not open"):
        await store.get_user("u1")


async def test_database_errors_are_storage_errors(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-file.db"
    folder.mkdir()
    with pytest.raises(StorageError):
        await SqliteStore(f"sqlite:///{folder}").open()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_it_needs_a_file(url: str) -> None:
    with pytest.raises(BadRequest):
        SqliteStore(url)


def test_the_stdlib_stores_schema_copy_matches_the_tables_and_migrations() -> None:
    """`_schema` stands in for `_tables` and Alembic so the default store starts without them."""
    from alembic.script import ScriptDirectory

    from parley.storage import _engine, _schema, _tables

    for table, columns in _schema.COLUMNS.items():
        assert columns == tuple(c.name for c in getattr(_tables, table).c), table
    head = ScriptDirectory.from_config(_engine.alembic_config()).get_current_head()
    assert head == _schema.HEAD_REVISION


async def test_a_file_at_the_newest_revision_opens_without_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    async with SqliteStore(url):
        pass  # creates and migrates the file
    probe = (
        "import asyncio, sys\n"
        "from parley.storage import create_store\n"
        "async def main():\n"
        f"    async with create_store({url!r}) as store:\n"
        "        assert await store.get_conversation('b', 'c') is None\n"
        "asyncio.run(main())\n"
        "assert 'sqlalchemy' not in sys.modules and 'alembic' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

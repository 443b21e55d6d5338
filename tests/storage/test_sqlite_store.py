"""What only the stdlib SQLite store does: its connection settings, its thread, its file."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from parley.errors import BadRequest, Conflict, StorageError
from parley.model import HistoryEntry, Message, TurnRecord, User
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


def test_the_head_schema_script_builds_what_the_migrations_build(tmp_path: Path) -> None:
    """A new file is created from `sqlite_head.sql`; it must equal Alembic's result. After a
    new migration: regenerate it with `_schema.dump_sqlite_schema` on a migrated file."""
    from parley.storage import _engine, _schema

    migrated = tmp_path / "migrated.db"
    _engine.upgrade_sqlite_file(_engine.normalise_url(f"sqlite:///{migrated}"))
    script = (Path(_schema.__file__).parent / _schema.HEAD_SQL).read_text()
    with contextlib.closing(sqlite3.connect(migrated)) as db:
        assert _schema.dump_sqlite_schema(db) == script


def assert_opens_without_sqlalchemy(url: str) -> None:
    """A fresh interpreter opens the store at `url` and reads it, importing neither SQLAlchemy
    nor Alembic."""
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


async def test_a_new_file_is_created_from_the_script_without_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    assert_opens_without_sqlalchemy(url)
    async with SqliteStore(url) as store:  # and the store works on it: a turn round trips
        turn = new_turn()
        await store.save_turn(turn)
        conv, _ = await store.load(turn.conversation.bot, turn.conversation.id, None)
        assert conv is not None and conv.version == 1


async def test_a_file_with_tables_is_never_rebuilt_from_the_script(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('0003')")
        db.commit()
    store = SqliteStore(f"sqlite:///{path}")
    assert store._create() is False  # left to Alembic, which knows what each revision holds


async def test_a_file_at_the_newest_revision_opens_without_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    async with SqliteStore(url):
        pass  # creates and migrates the file
    assert_opens_without_sqlalchemy(url)


async def test_the_loops_connection_never_waits_for_a_lock_or_checkpoints(sqlite_url: str) -> None:
    async with SqliteStore(sqlite_url) as store:
        pragmas = {
            name: (await store._run_here(store._rows, f"PRAGMA {name}", ()))[0][0]
            for name in ("busy_timeout", "wal_autocheckpoint", "journal_mode")
        }
    assert pragmas == {"busy_timeout": 0, "wal_autocheckpoint": 0, "journal_mode": "wal"}


async def test_a_turn_finding_the_file_locked_waits_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    """Another process (a CLI deploying) holds the write lock: the turn's save waits for it
    without blocking the loop, then commits."""
    path = tmp_path / "locked.db"
    async with SqliteStore(f"sqlite:///{path}") as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        saving = asyncio.ensure_future(store.save_turn(new_turn()))
        for _ in range(20):  # the loop keeps turning while the save waits for the lock
            await asyncio.sleep(0.01)
        assert not saving.done()
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(saving, 10)
        conv, _ = await store.load("bot", "c1", None)
        assert conv is not None and conv.version == 1


async def test_the_thread_checkpoints_the_log_the_loops_writes_grow(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.storage import sqlite as sqlite_module

    checkpoints: list[int] = []
    real = sqlite_module._checkpoint

    def counted(db: sqlite3.Connection, mode: str = "RESTART") -> None:
        checkpoints.append(threading.get_ident())
        real(db, mode)

    monkeypatch.setattr(sqlite_module, "_CHECKPOINT_EVERY", 3)
    monkeypatch.setattr(sqlite_module, "_checkpoint", counted)
    async with SqliteStore(sqlite_url) as store:
        for n in range(6):
            turn = new_turn()
            turn.conversation.id, turn.invocations = f"c{n}", []
            await store.save_turn(turn)
        await store._run(lambda _db: None)  # the thread has run what was queued
    assert len(checkpoints) == 2
    assert threading.get_ident() not in checkpoints


async def test_a_checkpoint_racing_a_write_still_lets_the_log_start_over(
    tmp_path: Path,
) -> None:
    """Under load the loop writes while the thread checkpoints. A checkpoint that copied the
    log but not the write that raced it would leave the log to grow without bound (it did:
    a GB a minute); the thread's checkpoint waits for that write, so the next one starts the
    log over."""
    from parley.storage import sqlite as sqlite_module

    path = tmp_path / "race.db"
    async with SqliteStore(f"sqlite:///{path}") as store:
        for n in range(30):
            turn = new_turn()
            turn.conversation.id, turn.invocations = f"c{n}", []
            await store.save_turn(turn)
        fast = store._fast
        assert fast is not None
        fast.execute("BEGIN IMMEDIATE")  # a turn's write, in progress on the loop
        fast.execute("UPDATE conversations SET node = 'racing' WHERE id = 'c0'")
        checkpoint = store._submit(sqlite_module._checkpoint)
        await asyncio.sleep(0.05)  # the thread is in the checkpoint now, or will be
        fast.execute("COMMIT")
        await checkpoint
        turn = new_turn()
        turn.conversation.id, turn.invocations = "next", []
        await store.save_turn(turn)  # the next write starts the log over
        with contextlib.closing(sqlite3.connect(path)) as db:  # (closing the last one empties it)
            _, frames, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert 0 < frames < 20  # one turn's pages, not the 30 turns' before it


async def test_a_lock_held_past_the_busy_timeout_is_a_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.storage import sqlite as sqlite_module

    monkeypatch.setattr(sqlite_module, "_BUSY_TIMEOUT", 0.05)
    path = tmp_path / "held.db"
    async with SqliteStore(f"sqlite:///{path}") as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError, match="locked"):
            await store.save_turn(new_turn())
        other.execute("ROLLBACK")
        other.close()
        assert await store.get_conversation("bot", "c1") is None


def _turn_of(conversation_id: str, expected_version: int = 0) -> TurnRecord:
    turn = new_turn()
    turn.conversation.id, turn.invocations = conversation_id, []
    turn.conversation.version = turn.expected_version = expected_version
    return turn


async def test_saves_that_arrive_together_commit_in_one_transaction(sqlite_url: str) -> None:
    async with SqliteStore(sqlite_url) as store:
        assert store._fast is not None
        statements: list[str] = []
        store._fast.set_trace_callback(statements.append)
        await asyncio.gather(*(store.save_turn(_turn_of(f"c{n}")) for n in range(8)))
        store._fast.set_trace_callback(None)
        await store.save_turn(_turn_of("alone"))
        for n in range(8):
            conv = await store.get_conversation("bot", f"c{n}")
            assert conv is not None and conv.version == 1
    assert statements.count("BEGIN IMMEDIATE") == statements.count("COMMIT") == 1
    assert statements.count("SAVEPOINT turn") == 8


async def test_a_failing_save_in_a_shared_commit_undoes_only_its_own_writes(
    sqlite_url: str,
) -> None:
    async with SqliteStore(sqlite_url) as store:
        await store.save_turn(_turn_of("stale"))
        stale = _turn_of("stale")  # version 0 again: another turn saved version 1 first
        stale.history = [HistoryEntry("stale", "bot", 1, "user", Message.text("lost?"), 1.0)]
        results = await asyncio.gather(
            store.save_turn(_turn_of("a")), store.save_turn(stale), store.save_turn(_turn_of("b")),
            return_exceptions=True,
        )  # fmt: skip
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], Conflict)
        assert [await store.get_conversation("bot", c) is not None for c in "ab"] == [True, True]
        assert await store.history("bot", "stale") == []


async def test_saves_queued_behind_a_locked_file_commit_once_it_is_free(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    async with SqliteStore(f"sqlite:///{path}") as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        first = asyncio.ensure_future(store.save_turn(_turn_of("first")))
        await asyncio.sleep(0.03)
        second = asyncio.ensure_future(store.save_turn(_turn_of("second")))
        await asyncio.sleep(0.03)
        assert not first.done() and not second.done()
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(asyncio.gather(first, second), 10)
        for conversation_id in ("first", "second"):
            conv = await store.get_conversation("bot", conversation_id)
            assert conv is not None and conv.version == 1

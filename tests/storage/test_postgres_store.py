"""What only the asyncpg store does: one statement per load and per save, `:name` parameters,
driver errors without row values, pool settings, migrations only when needed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql

from parley.errors import BadRequest, StorageError
from parley.model import HistoryEntry, Message, StoredAnswer, User
from parley.storage import PgStore
from parley.storage._tables import metadata
from parley.storage.postgres import ARRAY_TYPES, positional

from .test_sql_store import assert_concurrent_opens_take_turns, new_turn


def test_named_parameters_become_numbered_ones_one_per_name() -> None:
    sql = "SELECT * FROM t WHERE a = :a AND (b = :b_2 OR a2 = :a)"

    assert positional(sql) == ("SELECT * FROM t WHERE a = $1 AND (b = $2 OR a2 = $1)", ("a", "b_2"))


def test_casts_and_quoted_colons_are_not_parameters() -> None:
    sql = "SELECT :x::text, ':y', 'it''s :z' FROM t WHERE c = :c"

    assert positional(sql) == ("SELECT $1::text, ':y', 'it''s :z' FROM t WHERE c = $2", ("x", "c"))


def test_each_sql_text_is_translated_once() -> None:
    sql = "SELECT * FROM t WHERE a = :a"

    assert positional(sql) is positional(sql)


def test_array_types_are_the_tables_column_types() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for table, types in ARRAY_TYPES.items():
        columns = metadata.tables[table].columns
        expected = {c.name: c.type.compile(dialect=dialect).lower() for c in columns}
        del expected["id"]
        assert types == expected


async def test_load_and_save_are_one_statement_each(postgres_url: str) -> None:
    """Each a single round trip: no BEGIN/COMMIT around the save, no reset query when the
    pool takes its connection back. (A connection's first save also looks up the array types,
    once: asyncpg knows only text[] without asking.)"""
    async with PgStore(postgres_url + "?pool_size=1") as store:
        warm_up = new_turn()
        warm_up.conversation.id = warm_up.invocations[0].conversation_id = "warm-up"
        await store.save_turn(warm_up)
        statements: list[str] = []
        async with store.pool.acquire() as connection:
            connection.add_query_logger(lambda query: statements.append(query.query))
        first = new_turn()
        first.history = [HistoryEntry("c1", "bot", 1, "user", Message.text("hi"), 1.0, "t")]

        await store.save_turn(first)
        conversation, user = await store.load("bot", "c1")
        assert conversation is not None and user is not None
        second = replace(new_turn(), expected_version=1)
        second.answer = StoredAnswer("m1", "digest", "t", {"messages": []})
        await store.save_turn(second)
        await store.load("bot", "c1", "u1")
        await asyncio.sleep(0)  # loggers are called soon after each query

    assert len(statements) == 4, statements
    assert [s.split()[0] for s in statements] == ["WITH", "SELECT", "WITH", "SELECT"]


async def test_ids_are_set_in_the_order_of_the_record(postgres_url: str) -> None:
    async with PgStore(postgres_url) as store:
        turn = new_turn()
        turn.invocations = [replace(turn.invocations[0], node=f"n{i}") for i in range(5)]

        await store.save_turn(turn)

        stored = await store.invocations()
    assert [(i.id, i.node) for i in stored] == [(i.id, i.node) for i in turn.invocations]


async def test_a_failed_save_of_a_new_conversation_leaves_no_row(postgres_url: str) -> None:
    """The user's upsert fails (PostgreSQL refuses NUL in text) after nothing else did."""
    turn = new_turn(User("u1", name="nul\x00"))
    async with PgStore(postgres_url) as store:
        with pytest.raises(StorageError):
            await store.save_turn(turn)

        assert await store.get_conversation("bot", "c1") is None
        assert await store.get_user("u1") is None
        assert await store.invocations() == []
    assert turn.conversation.version == 0
    assert [i.id for i in turn.invocations] == [None]


def _with_foreign_key_detail(turn: Any) -> None:
    turn.invocations[0].conversation_id = "s3cret-conversation"  # "Key (...)=(...)" detail


def _with_wrong_type(turn: Any) -> None:
    turn.user.device_platform = "s3cret-platform"  # asyncpg: "argument $n: 's3cret-...'"


def _with_lone_surrogate(turn: Any) -> None:
    turn.conversation.node = "s3cret-\ud800"  # asyncpg cannot encode it


@pytest.mark.parametrize(
    "spoil", [_with_foreign_key_detail, _with_wrong_type, _with_lone_surrogate]
)
async def test_database_errors_never_echo_row_values(postgres_url: str, spoil: Any) -> None:
    turn = new_turn(User("u1", auth_code="s3cret-code"))
    spoil(turn)
    async with PgStore(postgres_url) as store:
        with pytest.raises(StorageError) as raised:
            await store.save_turn(turn)

    assert str(raised.value).startswith("database error: ")
    assert "s3cret" not in str(raised.value)


async def test_pool_size_is_read_from_the_url_and_the_rest_goes_to_asyncpg(
    postgres_url: str,
) -> None:
    async with PgStore(postgres_url + "?application_name=parley-test&pool_size=3") as store:
        assert store.pool.get_max_size() == 3
        name = await store.pool.fetchval("SELECT current_setting('application_name')")
    assert name == "parley-test"


@pytest.mark.parametrize("size", ["0", "many", ""])
def test_a_bad_pool_size_is_refused_without_echoing_the_url(size: str) -> None:
    with pytest.raises(BadRequest) as raised:
        PgStore(f"postgresql://u:pw-s3cret@db/parley?pool_size={size}")

    assert "s3cret" not in str(raised.value)


async def test_unreachable_database_is_a_storage_error() -> None:
    store = PgStore("postgresql://postgres@127.0.0.1:1/nothing")

    with pytest.raises(StorageError):
        await store.open()
    with pytest.raises(StorageError, match="not open"):
        await store.load("bot", "c1")
    await store.close()


async def test_concurrent_opens_of_a_new_database_take_turns(postgres_url: str) -> None:
    await assert_concurrent_opens_take_turns([PgStore(postgres_url) for _ in range(3)])


async def test_a_database_at_the_newest_revision_opens_without_sqlalchemy(
    postgres_url: str,
) -> None:
    async with PgStore(postgres_url):
        pass  # migrates the new database
    probe = (
        "import asyncio, sys\n"
        "from parley.storage import create_store\n"
        "async def main():\n"
        f"    async with create_store({postgres_url!r}) as store:\n"
        "        assert await store.get_conversation('b', 'c') is None\n"
        "asyncio.run(main())\n"
        "assert 'sqlalchemy' not in sys.modules and 'alembic' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


async def test_reopening_keeps_data(postgres_url: str) -> None:
    async with PgStore(postgres_url) as store:
        await store.save_turn(new_turn(User("u1", data={"kept": True})))
        await store.open()  # a no-op when open
    async with PgStore(postgres_url) as store:
        assert await store.get_user("u1") == User("u1", data={"kept": True})
        conversation = await store.get_conversation("bot", "c1")
    assert conversation is not None and conversation.version == 1

from __future__ import annotations

import pytest

import parley.storage
from parley.errors import BadRequest
from parley.storage import MemoryStore, PgStore, SqliteStore, SqlStore, create_store


def test_memory_url_gives_a_memory_store() -> None:
    assert isinstance(create_store("memory://"), MemoryStore)


def test_plain_sqlite_file_url_gives_the_stdlib_sqlite_store() -> None:
    assert isinstance(create_store("sqlite:///var/parley.db"), SqliteStore)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@db/parley",
        "postgres://u:p@db/parley",
        "postgresql+asyncpg://u:p@db/parley",
    ],
)
def test_postgresql_urls_give_the_asyncpg_store(url: str) -> None:
    assert isinstance(create_store(url), PgStore)


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite+aiosqlite:///var/parley.db", "sqlite+aiosqlite"),
        ("sqlite+pysqlite:///var/parley.db", "sqlite+aiosqlite"),
        ("postgresql+sqlalchemy://u:p@db/parley", "postgresql+asyncpg"),
    ],
)
async def test_sqlalchemy_urls_use_the_async_drivers(url: str, driver: str) -> None:
    store = create_store(url)

    assert isinstance(store, SqlStore)
    assert store.engine.url.drivername == driver
    await store.close()


@pytest.mark.parametrize("url", ["mysql://db/parley", "not a url", "redis://localhost"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(BadRequest):
        create_store(url)


def test_public_names_are_sorted_and_complete() -> None:
    assert parley.storage.__all__ == sorted(parley.storage.__all__)
    names = {"MemoryStore", "PgStore", "SqlStore", "SqliteStore", "Store", "create_store"}
    assert names <= set(parley.storage.__all__)

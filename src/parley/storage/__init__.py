"""Where conversations, users, history and the invocation log live.

`create_store(url)` picks the backend from a URL: `memory://`, `sqlite:///path/to.db` (the
stdlib-sqlite3 `SqliteStore`), `postgresql://user@host/db` (the asyncpg `PgStore`), or the
SQLAlchemy `SqlStore` for `sqlite+aiosqlite:///...` and `postgresql+sqlalchemy://...`. Every
backend is a `Store` and passes the same contract tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.errors import BadRequest
from parley.storage.base import Store
from parley.storage.memory import MemoryStore
from parley.storage.sqlite import SqliteStore

if TYPE_CHECKING:
    from parley.storage.postgres import PgStore
    from parley.storage.sql import SqlStore

__all__ = ["MemoryStore", "PgStore", "SqlStore", "SqliteStore", "Store", "create_store"]

_POSTGRES = ("postgresql", "postgres", "postgresql+asyncpg")


def create_store(url: str) -> Store:
    """The store for `url`, not yet opened: call `await store.open()` (or `async with`)."""
    scheme, _, rest = url.partition(":")
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite" and rest.startswith("///") and rest[3:] not in ("", ":memory:"):
        return SqliteStore(url)
    if scheme in _POSTGRES:
        try:
            from parley.storage.postgres import PgStore
        except ImportError as exc:
            raise BadRequest("PostgreSQL needs asyncpg: pip install 'parley[postgres]'") from exc
        return PgStore(url)
    from parley.storage.sql import SqlStore

    return SqlStore(url)


def __getattr__(name: str) -> Any:
    # The SQL stores are imported when asked for: the default store and a server on it start
    # without SQLAlchemy or asyncpg.
    if name == "SqlStore":
        from parley.storage.sql import SqlStore

        return SqlStore
    if name == "PgStore":
        from parley.storage.postgres import PgStore

        return PgStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

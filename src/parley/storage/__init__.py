"""Where conversations, users, history and the invocation log live.

`create_store(url)` picks the backend from a URL: `memory://`, `sqlite:///path/to.db` (the
stdlib-sqlite3 `SqliteStore`; `sqlite+aiosqlite:///...` takes the SQLAlchemy `SqlStore`) or
`postgresql://user@host/db`. Every backend is a `Store` and passes the same contract tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.storage.base import Store
from parley.storage.memory import MemoryStore
from parley.storage.sqlite import SqliteStore

if TYPE_CHECKING:
    from parley.storage.sql import SqlStore

__all__ = ["MemoryStore", "SqlStore", "SqliteStore", "Store", "create_store"]


def create_store(url: str) -> Store:
    """The store for `url`, not yet opened: call `await store.open()` (or `async with`)."""
    scheme, _, rest = url.partition(":")
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite" and rest.startswith("///") and rest[3:] not in ("", ":memory:"):
        return SqliteStore(url)
    from parley.storage.sql import SqlStore

    return SqlStore(url)


def __getattr__(name: str) -> Any:
    # SQLAlchemy is imported with the SQL store, when asked for: the default store and a
    # server on it start without it.
    if name == "SqlStore":
        from parley.storage.sql import SqlStore

        return SqlStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Where conversations, users, history and the invocation log live.

`create_store(url)` picks the backend from a URL: `memory://`, `sqlite:///path/to.db` (the
stdlib-sqlite3 `SqliteStore`; `sqlite+aiosqlite:///...` takes the SQLAlchemy `SqlStore`) or
`postgresql://user@host/db`. Every backend is a `Store` and passes the same contract tests.
"""

from __future__ import annotations

from parley.storage.base import Store
from parley.storage.memory import MemoryStore
from parley.storage.sql import SqlStore
from parley.storage.sqlite import SqliteStore

__all__ = ["MemoryStore", "SqlStore", "SqliteStore", "Store", "create_store"]


def create_store(url: str) -> Store:
    """The store for `url`, not yet opened: call `await store.open()` (or `async with`)."""
    scheme, _, rest = url.partition(":")
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite" and rest.startswith("///") and rest[3:] not in ("", ":memory:"):
        return SqliteStore(url)
    return SqlStore(url)

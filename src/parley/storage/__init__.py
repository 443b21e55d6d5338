"""Where conversations, users, history and the invocation log live.

`create_store(url)` picks the backend from a URL: `memory://`, `sqlite:///path/to.db` or
`postgresql://user@host/db`. Every backend is a `Store` and passes the same contract tests.
"""

from __future__ import annotations

from parley.storage.base import Store
from parley.storage.memory import MemoryStore
from parley.storage.sql import SqlStore

__all__ = ["MemoryStore", "SqlStore", "Store", "create_store"]


def create_store(url: str) -> Store:
    """The store for `url`, not yet opened: call `await store.open()` (or `async with`)."""
    if url.split(":", 1)[0] == "memory":
        return MemoryStore()
    return SqlStore(url)

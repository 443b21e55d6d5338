"""What the stdlib SQLite store needs of the schema, without importing SQLAlchemy or Alembic
(about half a second of a server's start-up): the columns of the tables a turn writes, the
connection's pragmas and the newest migration. `_tables.py` and the migrations are the truth;
tests hold these equal to them."""

from __future__ import annotations

HEAD_REVISION = "0004"
"""The newest revision in migrations/versions: a database stamped with it needs no upgrade."""

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # In WAL mode NORMAL loses no committed data on a crash, only the last commits on power loss.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "conversations": (
        "bot", "id", "user_id", "environment", "state", "conversation_no", "node", "asking",
        "language", "data", "entities", "team", "version", "created_at", "updated_at",
    ),
    "users": (
        "id", "name", "full_name", "device_platform", "language", "auth_id", "auth_code",
        "profile", "data", "updated_at",
    ),
    "history": (
        "id", "conversation_id", "bot", "conversation_no", "sender", "message", "turn_id",
        "created_at",
    ),
    "invocations": (
        "id", "turn_id", "bot", "conversation_id", "node", "kind", "dialect", "environment",
        "method", "url", "request_headers", "request_body", "status", "response_body",
        "latency_ms", "error", "created_at",
    ),
    "answers": (
        "bot", "conversation_id", "message_id", "digest", "turn_id", "answer", "created_at",
    ),
}  # fmt: skip

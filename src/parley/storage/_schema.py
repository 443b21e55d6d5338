"""What the stdlib SQLite store needs of the schema, without importing SQLAlchemy or Alembic
(about half a second of a server's start-up): the columns of the tables a turn writes, the
connection's pragmas and the newest migration. `_tables.py` and the migrations are the truth;
tests hold these equal to them."""

from __future__ import annotations

import sqlite3

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


HEAD_SQL = "sqlite_head.sql"
"""Beside this module: the schema Alembic's migrations build on SQLite, as one script. A new
database file is created from it (like Rails' `schema.rb`) instead of replaying every
migration; a test holds it equal to what the migrations build."""


def dump_sqlite_schema(db: sqlite3.Connection) -> str:
    """The script that rebuilds `db`'s tables and indexes and stamps its revision."""
    rows = db.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'sqlite_sequence'"
        " ORDER BY rowid"
    ).fetchall()
    (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    # Alembic's DDL ends lines with a space; the script has none (the test compares dumps)
    statements = ["\n".join(line.rstrip() for line in str(sql).splitlines()) for (sql,) in rows]
    statements.append(f"INSERT INTO alembic_version (version_num) VALUES ('{revision}')")
    return "".join(f"{statement};\n" for statement in statements)

"""The current schema as SQLAlchemy Core tables; `migrations/` builds it, these query it.

Portable types only, so SQLite and PostgreSQL share the tables and the migrations: strings,
integers, doubles (epoch seconds, as the model keeps them) and JSON stored as text. A test
checks that the migrations produce exactly these tables.
"""

from __future__ import annotations

import sqlalchemy as sa

# Named constraints, so later migrations can alter them (SQLite batch mode needs the names).
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid), not a BIGINT one. With
# sqlite_autoincrement it never reuses a deleted row's id, as PostgreSQL's sequences don't:
# `parley logs --tail` pages by id and must not miss a row.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# JSON as json.dumps text rather than sa.JSON: PostgreSQL's jsonb reorders keys and rejects
# "\u0000", and nothing queries inside these values, so text round-trips exactly everywhere.
_Json = sa.Text
_Time = sa.Double

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("full_name", sa.String, nullable=False),
    sa.Column("device_platform", sa.Integer, nullable=False),
    sa.Column("language", sa.String, nullable=False),
    sa.Column("auth_id", sa.String, nullable=False),
    sa.Column("auth_code", sa.String, nullable=False),
    sa.Column("profile", _Json, nullable=False),
    sa.Column("data", _Json, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("bot", sa.String, primary_key=True),
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("user_id", sa.String, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("environment", sa.String, nullable=False),
    sa.Column("state", sa.String, nullable=False),
    sa.Column("conversation_no", sa.Integer, nullable=False),
    sa.Column("node", sa.String),
    sa.Column("asking", sa.String),
    sa.Column("language", sa.String, nullable=False),
    sa.Column("data", _Json, nullable=False),
    sa.Column("entities", _Json, nullable=False),
    sa.Column("team", sa.String),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    sa.Index("ix_conversations_state", "bot", "state"),
)


def _conversation_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["bot", "conversation_id"],
        ["conversations.bot", "conversations.id"],
        ondelete="CASCADE",
    )


history = sa.Table(
    "history",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String, nullable=False),
    sa.Column("bot", sa.String, nullable=False),
    sa.Column("conversation_no", sa.Integer, nullable=False),
    sa.Column("sender", sa.String, nullable=False),
    sa.Column("message", _Json, nullable=False),
    sa.Column("turn_id", sa.String, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    _conversation_fk(),
    sa.Index("ix_history_conversation", "bot", "conversation_id", "conversation_no", "id"),
    sqlite_autoincrement=True,
)

invocations = sa.Table(
    "invocations",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("turn_id", sa.String, nullable=False),
    sa.Column("bot", sa.String, nullable=False),
    sa.Column("conversation_id", sa.String, nullable=False),
    sa.Column("node", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("dialect", sa.String, nullable=False),
    sa.Column("environment", sa.String, nullable=False),
    sa.Column("method", sa.String, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("request_headers", _Json, nullable=False),
    sa.Column("request_body", sa.Text, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("response_body", sa.Text),
    sa.Column("latency_ms", sa.Double, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("created_at", _Time, nullable=False),
    _conversation_fk(),
    sa.Index("ix_invocations_bot", "bot", "id"),
    sa.Index("ix_invocations_conversation", "conversation_id", "id"),
    sqlite_autoincrement=True,
)

# Accounts and the hand-off queue (migration 0002). Flags are integers 0/1: portable.
businesses = sa.Table(
    "businesses",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("bot", sa.String, nullable=False),
    sa.Column("active", sa.Integer, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sqlite_autoincrement=True,
)

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("business_id", sa.BigInteger, sa.ForeignKey("businesses.id"), primary_key=True),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("active", sa.Integer, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
)

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("business_id", sa.BigInteger, nullable=False),
    sa.Column("team", sa.String, nullable=False),
    sa.Column("token_hash", sa.String, nullable=False, unique=True),
    sa.Column("active", sa.Integer, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.ForeignKeyConstraint(["business_id", "team"], ["teams.business_id", "teams.name"]),
    sqlite_autoincrement=True,
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("client_id", sa.String, primary_key=True),
    sa.Column("token_hash", sa.String, nullable=False),
    sa.Column("businesses", _Json, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("bot", sa.String, primary_key=True),
    sa.Column("conversation_id", sa.String, primary_key=True),
    sa.Column("agent_id", sa.BigInteger, nullable=False),
    sa.Column("agent_name", sa.String, nullable=False),
    sa.Column("claimed_at", _Time, nullable=False),
    _conversation_fk(),
)

# Idempotent turns (migration 0003): a dialog answer under the client's message id, written
# in the turn's transaction; the primary key makes a message id unique per conversation.
answers = sa.Table(
    "answers",
    metadata,
    sa.Column("bot", sa.String, primary_key=True),
    sa.Column("conversation_id", sa.String, primary_key=True),
    sa.Column("message_id", sa.String, primary_key=True),
    sa.Column("digest", sa.String, nullable=False),
    sa.Column("turn_id", sa.String, nullable=False),
    sa.Column("answer", _Json, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    _conversation_fk(),
)

# Releases (migration 0004): `parley deploy` snapshots of a bot folder, numbered 1, 2, 3… per
# bot and never changed; `current_releases` says which one production runs.
releases = sa.Table(
    "releases",
    metadata,
    sa.Column("bot", sa.String, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("digest", sa.String, nullable=False),
    sa.Column("files", _Json, nullable=False),
    sa.Column("author", sa.String, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
)

current_releases = sa.Table(
    "current_releases",
    metadata,
    sa.Column("bot", sa.String, primary_key=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    sa.ForeignKeyConstraint(["bot", "number"], ["releases.bot", "releases.number"]),
)

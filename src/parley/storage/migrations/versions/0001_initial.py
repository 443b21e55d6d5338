"""Conversations, users, history and the invocation log.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _conversation_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["bot", "conversation_id"],
        ["conversations.bot", "conversations.id"],
        name=f"fk_{table}_bot_conversation_id_conversations",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("full_name", sa.String, nullable=False),
        sa.Column("device_platform", sa.Integer, nullable=False),
        sa.Column("language", sa.String, nullable=False),
        sa.Column("auth_id", sa.String, nullable=False),
        sa.Column("auth_code", sa.String, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_table(
        "conversations",
        sa.Column("bot", sa.String, nullable=False),
        sa.Column("id", sa.String, nullable=False),
        sa.Column("user_id", sa.String, nullable=False),
        sa.Column("environment", sa.String, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("conversation_no", sa.Integer, nullable=False),
        sa.Column("node", sa.String),
        sa.Column("asking", sa.String),
        sa.Column("language", sa.String, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("entities", sa.Text, nullable=False),
        sa.Column("team", sa.String),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("bot", "id", name="pk_conversations"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_conversations_user_id_users"),
    )
    op.create_index("ix_conversations_user_id", "conversations", ["user_id"])
    op.create_table(
        "history",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String, nullable=False),
        sa.Column("bot", sa.String, nullable=False),
        sa.Column("conversation_no", sa.Integer, nullable=False),
        sa.Column("sender", sa.String, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("turn_id", sa.String, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_history"),
        _conversation_fk("history"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_history_conversation", "history", ["bot", "conversation_id", "conversation_no", "id"]
    )
    op.create_table(
        "invocations",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("turn_id", sa.String, nullable=False),
        sa.Column("bot", sa.String, nullable=False),
        sa.Column("conversation_id", sa.String, nullable=False),
        sa.Column("node", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("dialect", sa.String, nullable=False),
        sa.Column("environment", sa.String, nullable=False),
        sa.Column("method", sa.String, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("request_headers", sa.Text, nullable=False),
        sa.Column("request_body", sa.Text, nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("response_body", sa.Text),
        sa.Column("latency_ms", sa.Double, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invocations"),
        _conversation_fk("invocations"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_invocations_bot", "invocations", ["bot", "id"])
    op.create_index("ix_invocations_conversation", "invocations", ["conversation_id", "id"])


def downgrade() -> None:
    op.drop_table("invocations")
    op.drop_table("history")
    op.drop_table("conversations")
    op.drop_table("users")

"""Idempotent turns: dialog answers kept under the client's message id.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("bot", sa.String, nullable=False),
        sa.Column("conversation_id", sa.String, nullable=False),
        sa.Column("message_id", sa.String, nullable=False),
        sa.Column("digest", sa.String, nullable=False),
        sa.Column("turn_id", sa.String, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("bot", "conversation_id", "message_id", name="pk_answers"),
        sa.ForeignKeyConstraint(
            ["bot", "conversation_id"],
            ["conversations.bot", "conversations.id"],
            name="fk_answers_bot_conversation_id_conversations",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("answers")

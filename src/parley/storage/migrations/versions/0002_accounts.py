"""Accounts (businesses, teams, agents, partner credentials) and the hand-off queue.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index("ix_conversations_state", "conversations", ["bot", "state"])
    op.create_table(
        "businesses",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("bot", sa.String, nullable=False),
        sa.Column("active", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_businesses"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "teams",
        sa.Column("business_id", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("active", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("business_id", "name", name="pk_teams"),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"], name="fk_teams_business_id_businesses"
        ),
    )
    op.create_table(
        "agents",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("business_id", sa.BigInteger, nullable=False),
        sa.Column("team", sa.String, nullable=False),
        sa.Column("token_hash", sa.String, nullable=False),
        sa.Column("active", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("token_hash", name="uq_agents_token_hash"),
        sa.ForeignKeyConstraint(
            ["business_id", "team"],
            ["teams.business_id", "teams.name"],
            name="fk_agents_business_id_team_teams",
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "credentials",
        sa.Column("client_id", sa.String, nullable=False),
        sa.Column("token_hash", sa.String, nullable=False),
        sa.Column("businesses", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_credentials"),
    )
    op.create_table(
        "assignments",
        sa.Column("bot", sa.String, nullable=False),
        sa.Column("conversation_id", sa.String, nullable=False),
        sa.Column("agent_id", sa.BigInteger, nullable=False),
        sa.Column("agent_name", sa.String, nullable=False),
        sa.Column("claimed_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("bot", "conversation_id", name="pk_assignments"),
        sa.ForeignKeyConstraint(
            ["bot", "conversation_id"],
            ["conversations.bot", "conversations.id"],
            name="fk_assignments_bot_conversation_id_conversations",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("assignments")
    op.drop_table("credentials")
    op.drop_table("agents")
    op.drop_table("teams")
    op.drop_table("businesses")
    op.drop_index("ix_conversations_state", table_name="conversations")

"""Releases: numbered snapshots of a bot folder, and the one production runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("bot", sa.String, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("digest", sa.String, nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("author", sa.String, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("bot", "number", name="pk_releases"),
    )
    op.create_table(
        "current_releases",
        sa.Column("bot", sa.String, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("bot", name="pk_current_releases"),
        sa.ForeignKeyConstraint(
            ["bot", "number"],
            ["releases.bot", "releases.number"],
            name="fk_current_releases_bot_number_releases",
        ),
    )


def downgrade() -> None:
    op.drop_table("current_releases")
    op.drop_table("releases")

"""Opt-outs: numbers (as keyed hashes) that asked for no more messages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the opt-out table."""
    op.create_table(
        "opt_out",
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("keyword", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_opt_out")),
    )


def downgrade() -> None:
    """Drop the opt-out table."""
    op.drop_table("opt_out")

"""Consent records: each number's latest STOP or START with its version, and whether Redis' copy has it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
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
    """Create the consent table; opt-outs already kept count as version 0 (older than any new change)."""
    op.create_table(
        "consent",
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("mirrored", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_consent")),
    )
    op.create_index(op.f("ix_consent_mirrored"), "consent", ["mirrored"])
    op.execute("INSERT INTO consent (person, opted_out, version, mirrored) SELECT person, true, 0, true FROM opt_out")


def downgrade() -> None:
    """Drop the consent table."""
    op.drop_index(op.f("ix_consent_mirrored"), table_name="consent")
    op.drop_table("consent")

"""Initial schema: the HSDS-shaped resource directory and the dataset version row.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the directory tables."""
    op.create_table(
        "dataset_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_dataset_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_version")),
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("assured_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
    )
    op.create_table(
        "taxonomy_term",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_taxonomy_term")),
    )
    op.create_table(
        "location",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("organization_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("address_1", sa.String(length=255), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state_province", sa.String(length=2), nullable=True),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_location_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
    )
    op.create_index(op.f("ix_location_organization_id"), "location", ["organization_id"])
    op.create_table(
        "service",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("organization_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text_instructions", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("assured_date", sa.Date(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_service_status")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_service_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
    )
    op.create_index(op.f("ix_service_organization_id"), "service", ["organization_id"])
    op.create_index("ix_service_status_name", "service", ["status", "name"])
    op.create_table(
        "phone",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("display", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.CheckConstraint("type IN ('voice', 'text')", name=op.f("ck_phone_type")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_phone_service_id_service"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone")),
    )
    op.create_index(op.f("ix_phone_service_id"), "phone", ["service_id"])
    op.create_table(
        "service_area",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.String(length=100), nullable=False),
        sa.Column("extent", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("county_name", sa.String(length=100), nullable=True),
        sa.Column("county_fips", sa.String(length=5), nullable=True),
        sa.CheckConstraint("extent IN ('county', 'state', 'national')", name=op.f("ck_service_area_extent")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_service_area_service_id_service"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_area")),
    )
    op.create_index(op.f("ix_service_area_service_id"), "service_area", ["service_id"])
    op.create_index(op.f("ix_service_area_county_fips"), "service_area", ["county_fips"])
    op.create_index("ix_service_area_state_county_name", "service_area", ["state", "county_name"])
    op.create_index("ix_service_area_extent_state", "service_area", ["extent", "state"])
    op.create_table(
        "service_attribute",
        sa.Column("service_id", sa.String(length=100), nullable=False),
        sa.Column("taxonomy_term_code", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_service_attribute_service_id_service"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["taxonomy_term_code"],
            ["taxonomy_term.code"],
            name=op.f("fk_service_attribute_taxonomy_term_code_taxonomy_term"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "taxonomy_term_code", name=op.f("pk_service_attribute")),
    )
    op.create_index(op.f("ix_service_attribute_taxonomy_term_code"), "service_attribute", ["taxonomy_term_code"])


def downgrade() -> None:
    """Drop the directory tables."""
    op.drop_table("service_attribute")
    op.drop_table("service_area")
    op.drop_table("phone")
    op.drop_table("service")
    op.drop_table("location")
    op.drop_table("taxonomy_term")
    op.drop_table("organization")
    op.drop_table("dataset_version")

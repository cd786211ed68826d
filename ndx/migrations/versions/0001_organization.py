"""organizations

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organization",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name_vi", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('owner', 'consumer', 'platform')", name=op.f("ck_organization_kind")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_organization")),
    )


def downgrade() -> None:
    op.drop_table("organization")

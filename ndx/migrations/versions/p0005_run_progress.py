"""policies: a subject-index run being built records when its merge last made progress, so a long merge
is told from a dead one by its progress, not by its age (runs above level 2 are now merged too)

Revision ID: p0005
Revises: p0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p0005"
down_revision = "p0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_subject_run", sa.Column("progress_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE (SQLite 3.35+), as p0004
    op.execute("ALTER TABLE audit_subject_run DROP COLUMN progress_at")

"""quality: findings carry their message in Vietnamese too (message_vi), for the pages and the report

Findings recorded before keep an empty one until the next run finds them again.

Revision ID: q0002
Revises: q0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "q0002"
down_revision = "q0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("quality_finding", sa.Column("message_vi", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    # plain ALTER TABLE (SQLite 3.35+): a batch copy would have to carry the table's keys and indexes
    op.execute("ALTER TABLE quality_finding DROP COLUMN message_vi")

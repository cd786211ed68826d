"""policies: audit records say how their hash covers the payload (2: its sha256, so evidence bundles can
show the records around a request by digest only; 1: its text, every record written before this)

Revision ID: p0004
Revises: p0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p0004"
down_revision = "p0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_record", sa.Column("hash_v", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    # records hashed over their payload's digest cannot be verified by the previous code: refuse to lose that
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM audit_record WHERE hash_v <> 1")).scalar_one():
        raise RuntimeError("audit records written with hash version 2 exist: the previous code cannot verify them")
    # plain ALTER TABLE (SQLite 3.35+): a batch copy of audit_record would trip the subject tables' keys
    op.execute("ALTER TABLE audit_record DROP COLUMN hash_v")

"""quality: runs and findings

Revision ID: q0001
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "q0001"
down_revision = "0001"
branch_labels = ("quality",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("row_counts", sa.JSON(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("total_findings", sa.Integer(), nullable=False),
        sa.Column("open_findings", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.CheckConstraint("status IN ('running', 'completed', 'failed')", name=op.f("ck_quality_run_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_run")),
    )
    op.create_table(
        "quality_finding",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("check", sa.String(40), nullable=False),
        sa.Column("dataset", sa.String(80), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("field", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_by", sa.String(254), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'confirmed', 'dismissed', 'fixed')", name=op.f("ck_quality_finding_status")
        ),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["quality_run.id"], name=op.f("fk_quality_finding_first_run_id_quality_run")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["quality_run.id"], name=op.f("fk_quality_finding_last_run_id_quality_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_finding")),
    )
    op.create_index(op.f("ix_quality_finding_check"), "quality_finding", ["check"])
    op.create_index(op.f("ix_quality_finding_dataset"), "quality_finding", ["dataset"])
    op.create_index(op.f("ix_quality_finding_status"), "quality_finding", ["status"])
    op.create_index(op.f("ix_quality_finding_last_run_id"), "quality_finding", ["last_run_id"])


def downgrade() -> None:
    op.drop_table("quality_finding")
    op.drop_table("quality_run")

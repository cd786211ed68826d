"""policies: the "who read my data" index as an append-only log plus sorted runs, so appending an audit
record no longer writes one random page per subject

Revision ID: p0003
Revises: p0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p0003"
down_revision = "p0002"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _log_table() -> None:
    op.create_table(
        "audit_subject_log",
        sa.Column("seq", SEQ, nullable=False),
        sa.Column("citizen_id", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["audit_record.seq"], name=op.f("fk_audit_subject_log_seq_audit_record")),
        sa.PrimaryKeyConstraint("seq", "citizen_id", name=op.f("pk_audit_subject_log")),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    op.create_table(
        "audit_subject_run",
        sa.Column("run", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("into_run", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('live', 'building', 'retired')", name=op.f("ck_audit_subject_run_state")),
        sa.PrimaryKeyConstraint("run", name=op.f("pk_audit_subject_run")),
    )
    _log_table()
    op.execute("INSERT INTO audit_subject_log (seq, citizen_id) SELECT seq, citizen_id FROM audit_subject")
    op.drop_table("audit_subject")
    op.create_table(
        "audit_subject",
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(length=20), nullable=False),
        sa.Column("seq", SEQ, nullable=False),
        sa.ForeignKeyConstraint(
            ["run"], ["audit_subject_run.run"], name=op.f("fk_audit_subject_run_audit_subject_run")
        ),
        sa.ForeignKeyConstraint(["seq"], ["audit_record.seq"], name=op.f("fk_audit_subject_seq_audit_record")),
        sa.PrimaryKeyConstraint("run", "citizen_id", "seq", name=op.f("pk_audit_subject")),
        sqlite_with_rowid=False,
    )
    # what the old index held becomes run 1, of level 2 (then the top level; since p0005 it is merged with
    # the next level-2 runs), written here once in key order (an upgrade may take a while)
    conn = op.get_bind()
    count = conn.execute(sa.text("SELECT count(*) FROM audit_subject_log")).scalar_one()
    if count:
        conn.execute(
            sa.text(
                "INSERT INTO audit_subject_run (run, level, subjects, state, created_at) "
                "VALUES (1, 2, :n, 'live', CURRENT_TIMESTAMP)"
            ),
            {"n": count},
        )
        op.execute(
            "INSERT INTO audit_subject (run, citizen_id, seq) "
            "SELECT 1, citizen_id, seq FROM audit_subject_log ORDER BY citizen_id, seq"
        )
        op.execute("DELETE FROM audit_subject_log")


def downgrade() -> None:
    op.execute("INSERT INTO audit_subject_log (seq, citizen_id) SELECT seq, citizen_id FROM audit_subject")
    op.drop_table("audit_subject")
    op.drop_table("audit_subject_run")
    op.create_table(
        "audit_subject",
        sa.Column("citizen_id", sa.String(length=20), nullable=False),
        sa.Column("seq", SEQ, nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["audit_record.seq"], name=op.f("fk_audit_subject_seq_audit_record")),
        sa.PrimaryKeyConstraint("citizen_id", "seq", name=op.f("pk_audit_subject")),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO audit_subject (citizen_id, seq) SELECT citizen_id, seq FROM audit_subject_log")
    op.drop_table("audit_subject_log")

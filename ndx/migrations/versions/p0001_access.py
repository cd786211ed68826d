"""policies: users, tokens, access requests, grants and their events, the audit hash chain

Revision ID: p0001
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p0001"
down_revision = "0001"
branch_labels = ("policies",)
depends_on = None

# audit sequence numbers: BIGINT, but INTEGER on SQLite so that the record's seq is its rowid
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    head = sa.table(
        "audit_head", sa.column("id", sa.Integer()), sa.column("seq", sa.BigInteger()), sa.column("hash", sa.String())
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    op.create_table(
        "audit_record",
        sa.Column("seq", SEQ, autoincrement=False, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("org_code", sa.String(length=40), nullable=True),
        sa.Column("dataset", sa.String(length=80), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_record")),
    )
    op.create_index(op.f("ix_audit_record_dataset"), "audit_record", ["dataset"], unique=False)
    op.create_index(op.f("ix_audit_record_grant_id"), "audit_record", ["grant_id"], unique=False)
    op.create_index(op.f("ix_audit_record_org_code"), "audit_record", ["org_code"], unique=False)
    op.create_index(op.f("ix_audit_record_request_id"), "audit_record", ["request_id"], unique=False)
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('developer', 'steward', 'admin')", name=op.f("ck_app_user_role")),
        sa.ForeignKeyConstraint(["org_code"], ["organization.code"], name=op.f("fk_app_user_org_code_organization")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("email", name=op.f("uq_app_user_email")),
    )
    op.create_index(op.f("ix_app_user_org_code"), "app_user", ["org_code"], unique=False)
    op.create_table(
        "audit_subject",
        sa.Column("citizen_id", sa.String(length=20), nullable=False),
        sa.Column("seq", SEQ, nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["audit_record.seq"], name=op.f("fk_audit_subject_seq_audit_record")),
        sa.PrimaryKeyConstraint("citizen_id", "seq", name=op.f("pk_audit_subject")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "access_request",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset", sa.String(length=80), nullable=False),
        sa.Column("owner_code", sa.String(length=40), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("case_ref", sa.String(length=100), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("row_filter", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f("ck_access_request_status")),
        sa.ForeignKeyConstraint(["decided_by"], ["app_user.id"], name=op.f("fk_access_request_decided_by_app_user")),
        sa.ForeignKeyConstraint(
            ["org_code"], ["organization.code"], name=op.f("fk_access_request_org_code_organization")
        ),
        sa.ForeignKeyConstraint(
            ["owner_code"], ["organization.code"], name=op.f("fk_access_request_owner_code_organization")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["app_user.id"], name=op.f("fk_access_request_requested_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_request")),
    )
    op.create_index(op.f("ix_access_request_dataset"), "access_request", ["dataset"], unique=False)
    op.create_index(op.f("ix_access_request_org_code"), "access_request", ["org_code"], unique=False)
    op.create_index(op.f("ix_access_request_owner_code"), "access_request", ["owner_code"], unique=False)
    op.create_index(op.f("ix_access_request_status"), "access_request", ["status"], unique=False)
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_api_token_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"], unique=False)
    op.create_table(
        "access_grant",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=80), nullable=False),
        sa.Column("owner_code", sa.String(length=40), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("row_filter", sa.JSON(), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'revoked', 'expired')", name=op.f("ck_access_grant_status")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_access_grant_created_by_app_user")),
        sa.ForeignKeyConstraint(
            ["org_code"], ["organization.code"], name=op.f("fk_access_grant_org_code_organization")
        ),
        sa.ForeignKeyConstraint(
            ["owner_code"], ["organization.code"], name=op.f("fk_access_grant_owner_code_organization")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["access_request.id"], name=op.f("fk_access_grant_request_id_access_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grant")),
    )
    op.create_index(op.f("ix_access_grant_dataset"), "access_grant", ["dataset"], unique=False)
    op.create_index("ix_access_grant_org_dataset", "access_grant", ["org_code", "dataset"], unique=False)
    op.create_table(
        "grant_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=10), nullable=True),
        sa.Column("to_status", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"], name=op.f("fk_grant_event_actor_id_app_user")),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"], name=op.f("fk_grant_event_grant_id_access_grant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_event")),
    )
    op.create_index(op.f("ix_grant_event_grant_id"), "grant_event", ["grant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_grant_event_grant_id"), table_name="grant_event")
    op.drop_table("grant_event")
    op.drop_index("ix_access_grant_org_dataset", table_name="access_grant")
    op.drop_index(op.f("ix_access_grant_dataset"), table_name="access_grant")
    op.drop_table("access_grant")
    op.drop_index(op.f("ix_api_token_user_id"), table_name="api_token")
    op.drop_table("api_token")
    op.drop_index(op.f("ix_access_request_status"), table_name="access_request")
    op.drop_index(op.f("ix_access_request_owner_code"), table_name="access_request")
    op.drop_index(op.f("ix_access_request_org_code"), table_name="access_request")
    op.drop_index(op.f("ix_access_request_dataset"), table_name="access_request")
    op.drop_table("access_request")
    op.drop_table("audit_subject")
    op.drop_index(op.f("ix_app_user_org_code"), table_name="app_user")
    op.drop_table("app_user")
    op.drop_index(op.f("ix_audit_record_request_id"), table_name="audit_record")
    op.drop_index(op.f("ix_audit_record_org_code"), table_name="audit_record")
    op.drop_index(op.f("ix_audit_record_grant_id"), table_name="audit_record")
    op.drop_index(op.f("ix_audit_record_dataset"), table_name="audit_record")
    op.drop_table("audit_record")
    op.drop_table("audit_head")

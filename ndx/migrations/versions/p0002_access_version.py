"""policies: a counter that any change to tokens, users or grants moves (by trigger), so the query route can
keep what it read of a token until something changes

Revision ID: p0002
Revises: p0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p0002"
down_revision = "p0001"
branch_labels = None
depends_on = None

WATCHED = ("api_token", "app_user", "access_grant")
EVENTS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE access_version SET n = n + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "access_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_version")),
    )
    version = sa.table("access_version", sa.column("id", sa.Integer()), sa.column("n", sa.BigInteger()))
    op.bulk_insert(version, [{"id": 1, "n": 0}])
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ndx_bump_access_version() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_bumps_access_version AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ndx_bump_access_version()"
            )
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_bumps_access_version AFTER {event} ON {table} "
                    f"BEGIN {BUMP}; END"
                )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_bumps_access_version ON {table}")
        op.execute("DROP FUNCTION ndx_bump_access_version()")
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER {table}_{event.lower()}_bumps_access_version")
    op.drop_table("access_version")

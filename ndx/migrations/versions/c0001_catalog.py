"""catalog: datasets, fields, tags, resources, search documents, sync runs and their changes

The full-text index over ``catalog_search_text`` is derived data created by ``catalog.search`` (an FTS5 table
on SQLite, a tsvector table on PostgreSQL); the downgrade drops it when present. Triggers keep each facet value's
count of visible documents (``catalog_search_value.visible_count``) in step with ``catalog_search_term``.

Revision ID: c0001
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0001"
down_revision = "0001"
branch_labels = ("catalog",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_search_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("visible_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_search_value")),
        sa.UniqueConstraint("facet", "value", name=op.f("uq_catalog_search_value_facet")),
    )
    op.create_table(
        "catalog_sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_sync_run")),
    )
    op.create_table(
        "catalog_dataset",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("owner_org", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.Column("source_table", sa.String(length=63), nullable=True),
        sa.Column("title_vi", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("notes_vi", sa.Text(), nullable=False),
        sa.Column("notes_en", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(length=12), nullable=False),
        sa.Column("license_id", sa.String(length=100), nullable=False),
        sa.Column("update_frequency", sa.String(length=20), nullable=True),
        sa.Column("spatial", sa.String(length=100), nullable=True),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=True),
        sa.Column("data_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("quality_score", sa.Float(), nullable=True),
        sa.Column("metadata_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metadata_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "classification IN ('open', 'internal', 'restricted')", name=op.f("ck_catalog_dataset_classification")
        ),
        sa.CheckConstraint("state IN ('active', 'deleted')", name=op.f("ck_catalog_dataset_state")),
        sa.CheckConstraint(
            "quality_score IS NULL OR (quality_score >= 0 AND quality_score <= 100)",
            name=op.f("ck_catalog_dataset_quality"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_org"], ["organization.code"], name=op.f("fk_catalog_dataset_owner_org_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_dataset")),
        sa.UniqueConstraint("name", name=op.f("uq_catalog_dataset_name")),
    )
    op.create_index(op.f("ix_catalog_dataset_owner_org"), "catalog_dataset", ["owner_org"], unique=False)
    op.create_index(op.f("ix_catalog_dataset_source"), "catalog_dataset", ["source"], unique=False)
    op.create_table(
        "catalog_sync_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("dataset_name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=63), nullable=True),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('dataset_added', 'dataset_removed', 'dataset_updated', 'field_added', 'field_removed', "
            "'field_changed', 'row_count')",
            name=op.f("ck_catalog_sync_change_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["catalog_sync_run.id"],
            name=op.f("fk_catalog_sync_change_run_id_catalog_sync_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_sync_change")),
    )
    op.create_index(op.f("ix_catalog_sync_change_dataset_name"), "catalog_sync_change", ["dataset_name"], unique=False)
    op.create_index(op.f("ix_catalog_sync_change_run_id"), "catalog_sync_change", ["run_id"], unique=False)
    op.create_table(
        "catalog_dataset_tag",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_dataset.id"],
            name=op.f("fk_catalog_dataset_tag_dataset_id_catalog_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "name", name=op.f("pk_catalog_dataset_tag")),
    )
    op.create_index(op.f("ix_catalog_dataset_tag_name"), "catalog_dataset_tag", ["name"], unique=False)
    op.create_table(
        "catalog_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("nullable", sa.Boolean(), nullable=False),
        sa.Column("description_vi", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("sensitivity", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "sensitivity IN ('public', 'personal', 'sensitive-personal')", name=op.f("ck_catalog_field_sensitivity")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_dataset.id"],
            name=op.f("fk_catalog_field_dataset_id_catalog_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_field")),
        sa.UniqueConstraint("dataset_id", "name", name=op.f("uq_catalog_field_dataset_id")),
    )
    op.create_table(
        "catalog_resource",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=50), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("hash", sa.String(length=200), nullable=True),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_dataset.id"],
            name=op.f("fk_catalog_resource_dataset_id_catalog_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_resource")),
    )
    op.create_index(op.f("ix_catalog_resource_dataset_id"), "catalog_resource", ["dataset_id"], unique=False)
    op.create_table(
        "catalog_search_doc",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title_sort", sa.String(length=300), nullable=False),
        sa.Column("metadata_modified", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_dataset.id"],
            name=op.f("fk_catalog_search_doc_dataset_id_catalog_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_search_doc")),
        sa.UniqueConstraint("dataset_id", name=op.f("uq_catalog_search_doc_dataset_id")),
    )
    op.create_index(
        "ix_catalog_search_doc_visible_modified",
        "catalog_search_doc",
        ["visible", "metadata_modified", "name"],
        unique=False,
    )
    op.create_index("ix_catalog_search_doc_visible_name", "catalog_search_doc", ["visible", "name"], unique=False)
    op.create_index(
        "ix_catalog_search_doc_visible_title", "catalog_search_doc", ["visible", "title_sort", "name"], unique=False
    )
    op.create_table(
        "catalog_search_term",
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["doc_id"],
            ["catalog_search_doc.id"],
            name=op.f("fk_catalog_search_term_doc_id_catalog_search_doc"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["catalog_search_value.id"], name=op.f("fk_catalog_search_term_term_id_catalog_search_value")
        ),
        sa.PrimaryKeyConstraint("doc_id", "term_id", name=op.f("pk_catalog_search_term")),
    )
    op.create_index(
        "ix_catalog_search_term_term", "catalog_search_term", ["term_id", "visible", "doc_id"], unique=False
    )
    op.create_table(
        "catalog_search_text",
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("name_words", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["doc_id"],
            ["catalog_search_doc.id"],
            name=op.f("fk_catalog_search_text_doc_id_catalog_search_doc"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_catalog_search_text")),
    )
    _create_count_triggers()


_SQLITE_COUNT_TRIGGERS = [
    "CREATE TRIGGER catalog_term_count_ai AFTER INSERT ON catalog_search_term WHEN new.visible BEGIN "
    "UPDATE catalog_search_value SET visible_count = visible_count + 1 WHERE id = new.term_id; END",
    "CREATE TRIGGER catalog_term_count_ad AFTER DELETE ON catalog_search_term WHEN old.visible BEGIN "
    "UPDATE catalog_search_value SET visible_count = visible_count - 1 WHERE id = old.term_id; END",
    "CREATE TRIGGER catalog_term_count_au AFTER UPDATE OF visible, term_id ON catalog_search_term BEGIN "
    "UPDATE catalog_search_value SET visible_count = visible_count - old.visible WHERE id = old.term_id; "
    "UPDATE catalog_search_value SET visible_count = visible_count + new.visible WHERE id = new.term_id; END",
]
_POSTGRES_COUNT_TRIGGER = [
    "CREATE FUNCTION catalog_term_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.visible THEN "
    "UPDATE catalog_search_value SET visible_count = visible_count - 1 WHERE id = OLD.term_id; END IF; "
    "IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.visible THEN "
    "UPDATE catalog_search_value SET visible_count = visible_count + 1 WHERE id = NEW.term_id; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER catalog_term_count AFTER INSERT OR DELETE OR UPDATE OF visible, term_id "
    "ON catalog_search_term FOR EACH ROW EXECUTE FUNCTION catalog_term_count()",
]


def _create_count_triggers() -> None:
    """Each facet value's count of visible documents follows its terms, whoever writes or cascades them."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_COUNT_TRIGGERS if sqlite else _POSTGRES_COUNT_TRIGGER:
        op.execute(statement)


def _drop_search_index() -> None:
    """Drop the derived full-text index of ``catalog.search`` if it was ever built, and the count triggers."""
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("catalog_fts_ai", "catalog_fts_ad", "catalog_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for trigger in ("catalog_term_count_ai", "catalog_term_count_ad", "catalog_term_count_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS catalog_fts")
    else:
        op.execute("DROP TABLE IF EXISTS catalog_fts")
        op.execute("DROP FUNCTION IF EXISTS catalog_fts_refresh() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS catalog_term_count() CASCADE")


def downgrade() -> None:
    _drop_search_index()
    op.drop_table("catalog_search_text")
    op.drop_index("ix_catalog_search_term_term", table_name="catalog_search_term")
    op.drop_table("catalog_search_term")
    op.drop_index("ix_catalog_search_doc_visible_title", table_name="catalog_search_doc")
    op.drop_index("ix_catalog_search_doc_visible_name", table_name="catalog_search_doc")
    op.drop_index("ix_catalog_search_doc_visible_modified", table_name="catalog_search_doc")
    op.drop_table("catalog_search_doc")
    op.drop_index(op.f("ix_catalog_resource_dataset_id"), table_name="catalog_resource")
    op.drop_table("catalog_resource")
    op.drop_table("catalog_field")
    op.drop_index(op.f("ix_catalog_dataset_tag_name"), table_name="catalog_dataset_tag")
    op.drop_table("catalog_dataset_tag")
    op.drop_index(op.f("ix_catalog_sync_change_run_id"), table_name="catalog_sync_change")
    op.drop_index(op.f("ix_catalog_sync_change_dataset_name"), table_name="catalog_sync_change")
    op.drop_table("catalog_sync_change")
    op.drop_index(op.f("ix_catalog_dataset_source"), table_name="catalog_dataset")
    op.drop_index(op.f("ix_catalog_dataset_owner_org"), table_name="catalog_dataset")
    op.drop_table("catalog_dataset")
    op.drop_table("catalog_sync_run")
    op.drop_table("catalog_search_value")

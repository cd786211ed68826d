"""catalog: data themes become a search facet (CKAN's groups): the theme terms of the datasets already indexed

New and changed datasets get their theme terms when they are written (``catalog.indexing``); this adds them
for the datasets indexed before, and the triggers of c0001 count them. The downgrade removes them.

Revision ID: c0002
Revises: c0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None

_DOCS = sa.text(
    "SELECT d.id, d.visible, ds.themes FROM catalog_search_doc d JOIN catalog_dataset ds ON ds.id = d.dataset_id"
)
_VALUE = sa.text("SELECT id FROM catalog_search_value WHERE facet = 'theme' AND value = :v")
_NEW_VALUE = sa.text("INSERT INTO catalog_search_value (facet, value, visible_count) VALUES ('theme', :v, 0)")
_HAS_TERM = sa.text("SELECT 1 FROM catalog_search_term WHERE doc_id = :d AND term_id = :t")
_NEW_TERM = sa.text("INSERT INTO catalog_search_term (doc_id, term_id, visible) VALUES (:d, :t, :visible)")


def upgrade() -> None:
    conn = op.get_bind()
    ids: dict[str, int] = {}
    for doc_id, visible, raw in conn.execute(_DOCS).all():
        themes = json.loads(raw) if isinstance(raw, str) else (raw or [])
        for theme in sorted({str(t)[:100] for t in themes}):
            if theme not in ids:
                found = conn.execute(_VALUE, {"v": theme}).scalar()
                if found is None:
                    conn.execute(_NEW_VALUE, {"v": theme})
                    found = conn.execute(_VALUE, {"v": theme}).scalar_one()
                ids[theme] = int(found)
            if conn.execute(_HAS_TERM, {"d": doc_id, "t": ids[theme]}).first() is None:
                conn.execute(_NEW_TERM, {"d": doc_id, "t": ids[theme], "visible": bool(visible)})


def downgrade() -> None:
    themes = "SELECT id FROM catalog_search_value WHERE facet = 'theme'"
    op.execute(f"DELETE FROM catalog_search_term WHERE term_id IN ({themes})")  # noqa: S608  (a constant)
    op.execute("DELETE FROM catalog_search_value WHERE facet = 'theme'")

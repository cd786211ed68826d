"""Platform tables of the catalog: datasets, their fields, tags and resources, the search documents, sync log.

Shaped after CKAN's package/resource model so the CKAN Action API, harvesting and groups can extend it:
a dataset has a uuid ``id`` and a unique ``name``, a ``state`` (deleted datasets stay, as in CKAN), a
``private`` flag, ``metadata_created``/``metadata_modified`` and free ``extras``. A dataset need not come from
a source database (``source``/``source_table`` are then null).

The full-text index itself (an FTS5 table on SQLite, a tsvector table on PostgreSQL) is derived data owned by
``catalog.search``: it is built from ``catalog_search_doc`` and can be dropped and rebuilt at any time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ndx.db import Base
from policies.models import Organization

CLASSIFICATIONS = ("open", "internal", "restricted")
SENSITIVITIES = ("public", "personal", "sensitive-personal")
STATES = ("active", "deleted")


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Dataset(Base):
    """One dataset: a source table published in the catalog, or a dataset registered by other means."""

    __tablename__ = "catalog_dataset"
    __table_args__ = (
        CheckConstraint("state IN ('active', 'deleted')", name="state"),
        CheckConstraint("classification IN ('open', 'internal', 'restricted')", name="classification"),
        CheckConstraint("quality_score IS NULL OR (quality_score >= 0 AND quality_score <= 100)", name="quality"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="active")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_org: Mapped[str] = mapped_column(ForeignKey("organization.code"), index=True)
    source: Mapped[str | None] = mapped_column(String(40), index=True)
    source_table: Mapped[str | None] = mapped_column(String(63))
    title_vi: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    notes_vi: Mapped[str] = mapped_column(Text, default="")
    notes_en: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str] = mapped_column(String(12))
    license_id: Mapped[str] = mapped_column(String(100), default="other-closed")
    update_frequency: Mapped[str | None] = mapped_column(String(20))
    spatial: Mapped[str | None] = mapped_column(String(100))
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    data_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    quality_score: Mapped[float | None] = mapped_column(Float)
    metadata_created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    metadata_modified: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    extras: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)
    fields: Mapped[list[DatasetField]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="DatasetField.position"
    )
    tags: Mapped[list[DatasetTag]] = relationship(cascade="all, delete-orphan", order_by="DatasetTag.name")
    resources: Mapped[list[Resource]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="Resource.position"
    )

    @property
    def tag_names(self) -> list[str]:
        return [t.name for t in self.tags]


class DatasetField(Base):
    """One column of a dataset, with its type, description and sensitivity."""

    __tablename__ = "catalog_field"
    __table_args__ = (
        UniqueConstraint("dataset_id", "name"),
        CheckConstraint("sensitivity IN ('public', 'personal', 'sensitive-personal')", name="sensitivity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("catalog_dataset.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(63))
    type: Mapped[str] = mapped_column(String(60))
    nullable: Mapped[bool] = mapped_column(Boolean, default=True)
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    sensitivity: Mapped[str] = mapped_column(String(20))

    dataset: Mapped[Dataset] = relationship(back_populates="fields")


class DatasetTag(Base):
    """A free tag of a dataset (CKAN's free tags, no vocabulary)."""

    __tablename__ = "catalog_dataset_tag"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("catalog_dataset.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Resource(Base):
    """A distribution of a dataset: a file or an API, with format, size and checksum (CKAN's resource)."""

    __tablename__ = "catalog_resource"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("catalog_dataset.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(50), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    hash: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    extras: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    dataset: Mapped[Dataset] = relationship(back_populates="resources")


class SearchDoc(Base):
    """One dataset as search sees it: a small integer key and copies of the keys it is filtered and sorted by.

    ``id`` is a stable integer (the FTS5 rowid on SQLite) so the full-text index, the facet terms and the keyset
    sorts join on integers, never on uuids; the row stays narrow so scans and joins over it are cheap. The copies
    are written with the dataset, in one transaction (``catalog.indexing``).
    """

    __tablename__ = "catalog_search_doc"
    __table_args__ = (
        Index("ix_catalog_search_doc_visible_name", "visible", "name"),
        Index("ix_catalog_search_doc_visible_title", "visible", "title_sort", "name"),
        Index("ix_catalog_search_doc_visible_modified", "visible", "metadata_modified", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("catalog_dataset.id", ondelete="CASCADE"), unique=True)
    visible: Mapped[bool] = mapped_column(Boolean, default=True)  # active and not private
    name: Mapped[str] = mapped_column(String(100))
    title_sort: Mapped[str] = mapped_column(String(300))
    metadata_modified: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SearchText(Base):
    """The folded text of a search document, per weighted part: what the full-text index is built from."""

    __tablename__ = "catalog_search_text"

    doc_id: Mapped[int] = mapped_column(ForeignKey("catalog_search_doc.id", ondelete="CASCADE"), primary_key=True)
    name_words: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[str] = mapped_column(Text, default="")


class SearchValue(Base):
    """A facet value (organization, source, classification, license, tag, format) numbered once, so facet counts
    group small integers instead of text. ``visible_count`` (documents visible with the value) is kept by
    triggers on ``catalog_search_term`` (migration c0001): the facets of the whole catalog are read, not counted.
    """

    __tablename__ = "catalog_search_value"
    __table_args__ = (UniqueConstraint("facet", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facet: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(100))
    visible_count: Mapped[int] = mapped_column(Integer, default=0)


class SearchTerm(Base):
    """A search document has a facet value. ``visible`` repeats the document's, so counting every visible
    document's values is one scan of the (term, visible) index, in term order, with no sort."""

    __tablename__ = "catalog_search_term"
    __table_args__ = (Index("ix_catalog_search_term_term", "term_id", "visible", "doc_id"),)

    doc_id: Mapped[int] = mapped_column(ForeignKey("catalog_search_doc.id", ondelete="CASCADE"), primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("catalog_search_value.id"), primary_key=True)
    visible: Mapped[bool] = mapped_column(Boolean, default=True)


class SyncRun(Base):
    """One run of ``ndx catalog sync``: when, and which sources failed and why."""

    __tablename__ = "catalog_sync_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    failures: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class SyncChange(Base):
    """What a sync changed in one dataset: added/removed dataset, added/removed/changed field, row count."""

    __tablename__ = "catalog_sync_change"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('dataset_added', 'dataset_removed', 'dataset_updated', 'field_added', 'field_removed', "
            "'field_changed', 'row_count')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("catalog_sync_run.id", ondelete="CASCADE"), index=True)
    dataset_name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    field: Mapped[str | None] = mapped_column(String(63))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""Pydantic shapes of the catalog: what services take to register a dataset, what the REST API answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from policies.rules_model import Classification, PurposeKind, Sensitivity

DATASET_NAME = r"^[a-z0-9][a-z0-9_-]{0,99}$"


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def as_utc(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


# -- in --------------------------------------------------------------------------------------------------------


class FieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=63)
    type: str = Field(default="", max_length=60)
    nullable: bool = True
    description_vi: str = ""
    description_en: str = ""
    sensitivity: Sensitivity = "public"


class ResourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)
    url: str = ""
    format: str = Field(default="", max_length=50)
    description: str = ""
    size: int | None = Field(default=None, ge=0)
    hash: str | None = Field(default=None, max_length=200)
    last_modified: datetime | None = None


class DatasetIn(BaseModel):
    """Everything needed to register or replace a dataset (the service's input, CKAN's package dict typed)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=DATASET_NAME)
    owner_org: str = Field(min_length=1, max_length=40)
    title_vi: str = Field(min_length=1, max_length=300)
    title_en: str = Field(min_length=1, max_length=300)
    notes_vi: str = ""
    notes_en: str = ""
    classification: Classification = "open"
    license_id: str = Field(default="other-closed", max_length=100)
    update_frequency: str | None = Field(default=None, max_length=20)
    spatial: str | None = Field(default=None, max_length=100)
    themes: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    fields: list[FieldIn] = Field(default_factory=list)
    resources: list[ResourceIn] | None = Field(
        default=None, description="The dataset's resources; None leaves an existing dataset's resources as they are."
    )
    source: str | None = Field(default=None, max_length=40)
    source_table: str | None = Field(default=None, max_length=63)
    private: bool = False
    row_count: int | None = Field(default=None, ge=0)
    data_updated_at: datetime | None = None
    extras: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _distinct_tags(cls, tags: list[str]) -> list[str]:
        cleaned = [t.strip() for t in tags if t.strip()]
        if any(len(t) > 100 for t in cleaned):
            raise ValueError("a tag is at most 100 characters")
        return list(dict.fromkeys(cleaned))

    @field_validator("fields")
    @classmethod
    def _distinct_fields(cls, fields: list[FieldIn]) -> list[FieldIn]:
        names = [f.name for f in fields]
        if len(names) != len(set(names)):
            raise ValueError("field names must be unique")
        return fields


# -- out -------------------------------------------------------------------------------------------------------


class OrganizationRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_vi: str
    name_en: str


class OrganizationOut(OrganizationRef):
    kind: str
    dataset_count: int = Field(description="Active public datasets the organization owns.")


class OrganizationList(BaseModel):
    items: list[OrganizationOut]
    next_cursor: str | None = None


class FieldOut(BaseModel):
    name: str
    type: str
    nullable: bool
    description: str = Field(description="Vietnamese description.")
    description_en: str
    sensitivity: Sensitivity


class ResourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    url: str
    format: str
    description: str
    size: int | None
    hash: str | None
    last_modified: datetime | None
    created: datetime


class PurposeOut(BaseModel):
    code: str
    kind: PurposeKind
    description: str = Field(description="Vietnamese description.")
    description_en: str


class DatasetSummary(BaseModel):
    """A dataset as a search result lists it."""

    id: str
    name: str
    title: str = Field(description="Vietnamese title.")
    title_en: str
    notes: str = Field(description="Vietnamese description.")
    notes_en: str
    owner_org: str
    organization: OrganizationRef
    classification: Classification
    license_id: str
    source: str | None
    tags: list[str]
    formats: list[str]
    row_count: int | None
    quality_score: float | None
    metadata_modified: datetime


class DatasetOut(DatasetSummary):
    """Everything the catalog knows of a dataset: metadata, fields with sensitivity, resources, purposes."""

    state: Literal["active", "deleted"]
    private: bool
    table: str | None
    update_frequency: str | None
    spatial: str | None
    themes: list[str]
    fields: list[FieldOut]
    resources: list[ResourceOut]
    data_updated_at: datetime | None = Field(description="When the data last changed, as far as NDX knows.")
    metadata_created: datetime
    purposes: list[PurposeOut] = Field(description="Purposes for which access may be requested.")
    extras: dict[str, Any]


class FacetValue(BaseModel):
    value: str
    label: str
    count: int


class DatasetList(BaseModel):
    items: list[DatasetSummary]
    next_cursor: str | None = Field(description="Opaque: pass as `cursor` for the next page; null on the last.")
    count: int = Field(description="How many datasets match in all.")
    facets: dict[str, list[FacetValue]]

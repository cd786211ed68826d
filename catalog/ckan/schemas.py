"""Typed inputs of the CKAN actions. CKAN's loose dicts live on the wire only: each action validates its input
with one of these first. Query-string values arrive as strings (``rows=10``, ``facet.field=["tags"]``), so the
models parse them leniently; unknown search parameters are refused, as CKAN does."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _json_list(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("must be a JSON list of strings") from None
    return value


class Loose(BaseModel):
    """Inputs that ignore keys they do not know (CKAN ignores them too)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class NoInput(Loose):
    pass


class IdIn(Loose):
    id: str = Field(min_length=1, max_length=200)


class HelpIn(Loose):
    name: str = Field(min_length=1, max_length=100)


class PageIn(Loose):
    limit: int | None = Field(default=None, ge=0, le=1000)
    offset: int = Field(default=0, ge=0)


class OrganizationListIn(PageIn):
    all_fields: bool = False
    sort: str = "name asc"
    organizations: list[str] | None = None
    include_dataset_count: bool = True

    _orgs = field_validator("organizations", mode="before")(_json_list)


class OrganizationShowIn(IdIn):
    include_datasets: bool = False


class TagListIn(Loose):
    query: str | None = Field(default=None, max_length=100)
    all_fields: bool = False


class PackageSearchIn(BaseModel):
    """package_search's parameters (a subset of Solr's that CKAN passes on); anything else is a query error."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    q: str = Field(default="", max_length=500)
    fq: str = Field(default="", max_length=2000)
    fq_list: list[str] = Field(default_factory=list)
    rows: int = Field(default=10, ge=0)
    start: int = Field(default=0, ge=0, le=1_000_000)
    sort: str | None = Field(default=None, max_length=200)
    facet: bool = True
    facet_field: list[str] = Field(default_factory=list, alias="facet.field")
    facet_limit: int = Field(default=50, alias="facet.limit", ge=-1, le=1000)
    facet_mincount: int = Field(default=1, alias="facet.mincount", ge=0)
    include_private: bool = False
    include_drafts: bool = False
    use_default_schema: bool = False

    _lists = field_validator("facet_field", "fq_list", mode="before")(_json_list)


class NamedRef(Loose):
    name: str = Field(min_length=1, max_length=100)


class ExtraIn(Loose):
    key: str = Field(min_length=1, max_length=100)
    value: Any = ""


class ResourceDictIn(Loose):
    id: str | None = Field(default=None, max_length=200)
    name: str = ""
    url: str = ""
    format: str = Field(default="", max_length=50)
    description: str = ""
    size: int | None = Field(default=None, ge=0)
    hash: str | None = Field(default=None, max_length=200)
    last_modified: str | None = None


class ResourceCreateIn(ResourceDictIn):
    package_id: str = Field(min_length=1, max_length=200)


class PackageIn(Loose):
    """A CKAN package dict as package_create/update send it (a dict from package_show is accepted as is)."""

    id: str | None = Field(default=None, max_length=200)
    name: str = Field(default="", max_length=100)
    title: str = ""
    notes: str | None = ""
    owner_org: str = Field(default="", max_length=100)
    private: bool = False
    license_id: str | None = Field(default=None, max_length=100)
    tags: list[NamedRef] = Field(default_factory=list)
    extras: list[ExtraIn] = Field(default_factory=list)
    resources: list[ResourceDictIn] | None = None
    groups: list[NamedRef] = Field(default_factory=list)
    # NDX's own fields, when the sender knows them
    title_en: str | None = None
    notes_en: str | None = None
    classification: str | None = None
    update_frequency: str | None = None
    spatial: str | None = None


class OrganizationIn(Loose):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    title: str = Field(default="", max_length=200)
    title_en: str | None = Field(default=None, max_length=200)

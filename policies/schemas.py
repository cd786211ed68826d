"""Pydantic shapes of the policies domain."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ORG_CODE = r"^[a-z0-9][a-z0-9-]{0,39}$"


class OrganizationRule(BaseModel):
    """One agency in ``rules/organizations.yaml``."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=ORG_CODE)
    kind: Literal["owner", "consumer", "platform"]
    name_vi: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    source: Literal["population", "insurance", "land", "enterprise"] | None = None


class OrganizationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organizations: list[OrganizationRule]


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_vi: str
    name_en: str
    kind: str


class OrganizationList(BaseModel):
    items: list[OrganizationOut]
    next_cursor: str | None = None

"""Pydantic shapes of access requests, grants, users, tokens and the audit log (strict on the way in)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=500)]
Name = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=80, pattern=r"^[a-z0-9_-]+$")]
FilterValue = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=100)]
RowFilterIn = dict[Name, Annotated[list[FilterValue], Field(min_length=1, max_length=100)]]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AccessRequestIn(_In):
    """Ask for fields of a dataset for one purpose, on a legal basis, for a number of days."""

    dataset: Name
    fields: Annotated[list[Name], Field(min_length=1, max_length=100)]
    purpose: Name
    legal_basis: Text
    case_ref: Annotated[str, StringConstraints(strict=True, max_length=100)] | None = None
    days: Annotated[int, Field(strict=True, ge=1, le=365)]
    row_filter: Annotated[RowFilterIn, Field(max_length=20)] | None = None


class ApproveIn(_In):
    """Approve, possibly narrowing: fewer fields, a tighter row filter, fewer days. Never wider."""

    fields: Annotated[list[Name], Field(min_length=1, max_length=100)] | None = None
    row_filter: Annotated[RowFilterIn, Field(max_length=20)] | None = None
    days: Annotated[int, Field(strict=True, ge=1, le=365)] | None = None
    note: Annotated[str, StringConstraints(strict=True, max_length=1000)] | None = None


class ReasonIn(_In):
    reason: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=1000)]


class TokenIn(_In):
    label: Annotated[str, StringConstraints(strict=True, max_length=100)] = ""
    days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = None


class GrantEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    actor: str | None
    reason: str
    at: datetime


class GrantOut(BaseModel):
    id: int
    request_id: int
    dataset: str
    org: str
    owner: str
    fields: list[str]
    purposes: list[str]
    row_filter: dict[str, list[str]]
    legal_basis: str
    status: Literal["active", "suspended", "revoked", "expired"]
    starts_at: datetime
    expires_at: datetime
    created_at: datetime
    events: list[GrantEventOut] = Field(default_factory=list)
    usage: dict[str, int] | None = None


class AccessRequestOut(BaseModel):
    id: int
    dataset: str
    org: str
    owner: str
    requested_by: str
    fields: list[str]
    purpose: str
    legal_basis: str
    case_ref: str | None
    days: int
    row_filter: dict[str, list[str]]
    status: Literal["pending", "approved", "rejected"]
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    grant: GrantOut | None = None


class AccessRequestList(BaseModel):
    items: list[AccessRequestOut]
    next_cursor: str | None = None


class GrantList(BaseModel):
    items: list[GrantOut]
    next_cursor: str | None = None


class MeOut(BaseModel):
    id: int
    email: str
    org: str
    role: str


class TokenOut(BaseModel):
    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class NewTokenOut(TokenOut):
    token: str = Field(description="The token itself: shown this once, never stored.")


class TokenList(BaseModel):
    items: list[TokenOut]
    next_cursor: str | None = None


class AuditRecordOut(BaseModel):
    seq: int
    hash: str
    prev_hash: str
    at: datetime
    kind: str
    request_id: str | None
    org: str | None
    dataset: str | None
    grant_id: int | None
    status: int
    record: dict[str, Any] = Field(description="The hashed record: who, purpose, case, fields, filter, rows, hashes.")


class AuditList(BaseModel):
    items: list[AuditRecordOut]
    next_cursor: str | None = None


class AnchorOut(BaseModel):
    seq: int
    hash: str
    at: datetime


class AnchorList(BaseModel):
    items: list[AnchorOut]
    next_cursor: str | None = None


class SubjectReadOut(BaseModel):
    seq: int
    at: datetime
    kind: str
    org: str | None
    user: str | None
    dataset: str | None
    purpose: str | None
    case: str | None
    fields: list[str]
    status: int


class SubjectReadList(BaseModel):
    items: list[SubjectReadOut]
    next_cursor: str | None = None


class ReloadOut(BaseModel):
    datasets: list[str]

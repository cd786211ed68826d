"""Pydantic shapes of the quality API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["open", "confirmed", "dismissed", "fixed"]


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    checks: list[str]
    counts: dict[str, dict[str, int]]
    row_counts: dict[str, int]
    total_findings: int
    open_findings: int
    scores: dict[str, float]


class RunList(BaseModel):
    items: list[RunOut]
    next_cursor: str | None


class RecordOut(BaseModel):
    table: str
    key: str


class FindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    check: str
    dataset: str
    records: list[RecordOut]
    field: str | None
    confidence: float
    message: str
    message_vi: str = Field(
        description="The message in Vietnamese (empty for a finding not found again since it was added)."
    )
    status: Status
    first_run_id: int
    last_run_id: int
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None


class FindingList(BaseModel):
    items: list[FindingOut]
    next_cursor: str | None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    status: Status
    note: str | None = Field(default=None, max_length=2000)


def run_out(run: Any) -> RunOut:
    return RunOut.model_validate(run)


def finding_out(finding: Any) -> FindingOut:
    return FindingOut.model_validate(finding)

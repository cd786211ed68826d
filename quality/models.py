"""Platform tables of the quality domain: runs and the findings stewards review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ndx.db import Base
from policies.models import UTCDateTime, utcnow

STATUSES = ("open", "confirmed", "dismissed", "fixed")
# A record still has a problem while a finding on it is open or confirmed.
UNRESOLVED = ("open", "confirmed")


class QualityRun(Base):
    """One ``ndx quality run``: what it checked, how many findings of each check, how long it took."""

    __tablename__ = "quality_run"
    __table_args__ = (CheckConstraint("status IN ('running', 'completed', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="running")
    checks: Mapped[list[str]] = mapped_column(JSON, default=list)
    sources: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # {check: {dataset: count}} of the findings this run found, and rows per table it read.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    row_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    total_findings: Mapped[int] = mapped_column(Integer, default=0)
    open_findings: Mapped[int] = mapped_column(Integer, default=0)
    scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)


class QualityFinding(Base):
    """A finding, identified by a hash of check, sorted record keys and field, so re-runs find it again."""

    __tablename__ = "quality_finding"
    __table_args__ = (CheckConstraint("status IN ('open', 'confirmed', 'dismissed', 'fixed')", name="status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    check: Mapped[str] = mapped_column(String(40), index=True)
    dataset: Mapped[str] = mapped_column(String(80), index=True)
    records: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    field: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    message: Mapped[str] = mapped_column(Text, default="")
    message_vi: Mapped[str] = mapped_column(Text, default="", server_default="")  # for the pages and report
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    first_run_id: Mapped[int] = mapped_column(Integer, ForeignKey("quality_run.id"))
    last_run_id: Mapped[int] = mapped_column(Integer, ForeignKey("quality_run.id"), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)

"""Platform tables of the policies domain: organizations (agencies)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from ndx.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class Organization(Base):
    """A government agency: owns source datasets, or consumes them, or both."""

    __tablename__ = "organization"
    __table_args__ = (CheckConstraint("kind IN ('owner', 'consumer', 'platform')", name="kind"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

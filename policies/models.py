"""Platform tables of the policies domain: organizations, users and tokens, requests, grants, the audit chain."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
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


# --- subjects, access requests, grants and the audit chain (issue #7) -------------------------------------

ROLES = ("developer", "steward", "admin")
REQUEST_STATUSES = ("pending", "approved", "rejected")
GRANT_STATUSES = ("active", "suspended", "revoked", "expired")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both back ends (SQLite hands back naive values: this re-attaches UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


class User(Base):
    """A person of one organization with one role; signs in with a password (pages) or tokens (API)."""

    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint("role IN ('developer', 'steward', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    org_code: Mapped[str] = mapped_column(String(40), ForeignKey("organization.code"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Base):
    """An API token: only its sha256 is kept; it expires and can be revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AccessRequest(Base):
    """An organization asks for fields of a dataset, for a purpose, on a legal basis, for a number of days."""

    __tablename__ = "access_request"
    __table_args__ = (CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(80), index=True)
    owner_code: Mapped[str] = mapped_column(String(40), ForeignKey("organization.code"), index=True)
    org_code: Mapped[str] = mapped_column(String(40), ForeignKey("organization.code"), index=True)
    requested_by: Mapped[int] = mapped_column(Integer, ForeignKey("app_user.id"))
    fields: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(80))
    legal_basis: Mapped[str] = mapped_column(String(500))
    case_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    days: Mapped[int] = mapped_column(Integer)
    row_filter: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(Integer, ForeignKey("app_user.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    grant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Grant(Base):
    """Permission of one organization to read fields of a dataset for purposes, within a row filter, until a date.

    Only an approval creates one. Its status moves active -> suspended / revoked / expired (suspended may
    return to active); every move is a GrantEvent.
    """

    __tablename__ = "access_grant"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'revoked', 'expired')", name="status"),
        Index("ix_access_grant_org_dataset", "org_code", "dataset"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(Integer, ForeignKey("access_request.id"))
    dataset: Mapped[str] = mapped_column(String(80), index=True)
    owner_code: Mapped[str] = mapped_column(String(40), ForeignKey("organization.code"))
    org_code: Mapped[str] = mapped_column(String(40), ForeignKey("organization.code"))
    fields: Mapped[list[str]] = mapped_column(JSON)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    row_filter: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    legal_basis: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="active")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(Integer, ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GrantEvent(Base):
    """One transition of a grant: who, when, why."""

    __tablename__ = "grant_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grant_id: Mapped[int] = mapped_column(Integer, ForeignKey("access_grant.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(10), nullable=True)
    to_status: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("app_user.id"), nullable=True)
    reason: Mapped[str] = mapped_column(String(1000), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AccessVersion(Base):
    """A counter (one row) that triggers move on any change to tokens, users or grants (migration p0002):
    the query route keeps what it read of a token while this has not moved."""

    __tablename__ = "access_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class AuditHead(Base):
    """The chain's head (one row): appenders lock it, so the chain has one order across processes."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


# SQLite: INTEGER PRIMARY KEY makes seq the rowid, one b-tree fewer per record (BIGINT would not).
SEQ = BigInteger().with_variant(Integer(), "sqlite")


class AuditRecord(Base):
    """One append-only audit record. ``payload`` is the canonical JSON that is hashed; the other columns
    repeat some of its values for searching, and ``ndx audit verify`` checks that they agree.

    Indexed for the audit views' filters (request, organization, dataset, grant) only: every index is paid
    by each appended record, on the hot path.
    """

    __tablename__ = "audit_record"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # how ``hash`` covers the payload: 2, its sha256 (new records); 1, its text (records written before p0004)
    hash_v: Mapped[int] = mapped_column(Integer, server_default="1")
    payload: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    dataset: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    grant_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    status: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer, default=0)


class AuditSubjectLog(Base):
    """The subjects (citizen ids) of the latest audit records, appended with each record in its transaction.

    Keyed (seq, citizen_id), the order records are appended in, so a batch of records touches one or two
    pages here instead of one random page per subject in a by-citizen index. ``policies.audit_subjects``
    moves these rows into a sorted run of ``audit_subject`` every few thousand subjects; "who read my data"
    reads the runs and this log (a few thousand rows at most).
    """

    __tablename__ = "audit_subject_log"
    __table_args__ = ({"sqlite_with_rowid": False},)

    seq: Mapped[int] = mapped_column(SEQ, ForeignKey("audit_record.seq"), primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(20), primary_key=True)


class AuditSubject(Base):
    """The "who read my data" index: subjects in sorted runs, keyed (run, citizen_id, seq).

    A run is written once, in key order, so its pages are appended rather than rewritten at random; runs are
    merged into larger ones (``policies.audit_subjects``), and a lookup by citizen probes each run once.
    """

    __tablename__ = "audit_subject"
    __table_args__ = ({"sqlite_with_rowid": False},)

    run: Mapped[int] = mapped_column(Integer, ForeignKey("audit_subject_run.run"), primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    seq: Mapped[int] = mapped_column(SEQ, ForeignKey("audit_record.seq"), primary_key=True)


class AuditSubjectRun(Base):
    """One run of the subject index: its level (0 for a run made from the log, n+1 for a merge of level-n
    runs), its size, and its state: ``live`` (read by lookups), ``building`` (a merge is writing it, in
    slices) or ``retired`` (merged into ``into_run``, its rows being deleted); a live run being merged
    names the run it goes ``into_run``."""

    __tablename__ = "audit_subject_run"
    __table_args__ = (CheckConstraint("state IN ('live', 'building', 'retired')", name="state"),)

    run: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(Integer)
    subjects: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="live")
    into_run: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # a building run: when its merge last wrote a slice (runs made before migration p0005: None)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

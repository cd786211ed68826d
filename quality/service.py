"""Quality runs and findings in the platform database: storing a run, listing, reviewing, dataset scores.

Plain functions with keyword-only arguments and no web framework. A finding's id is stable across runs
(quality.findings.finding_id), so storing a run updates the findings seen before and keeps the steward's
decision on them: ``confirmed`` and ``dismissed`` stay; a ``fixed`` finding that comes back is reopened.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from ndx.errors import Forbidden, Invalid, NDXError, NotFound
from policies.models import utcnow
from quality.findings import CHECKS, DATASETS, Finding
from quality.models import STATUSES, UNRESOLVED, QualityFinding, QualityRun

log = logging.getLogger("ndx.quality")
CHUNK = 5_000
REVIEWER_ROLES = frozenset({"steward"})


class Reviewer(Protocol):
    """Who reviews a finding: the authenticated caller (policies.auth.Caller satisfies this)."""

    @property
    def email(self) -> str: ...

    @property
    def org(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class StoredRun:
    run: QualityRun
    new: int
    recurring: int


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _translate_older(session: Session, by_id: Mapping[str, Finding], seen: Sequence[str]) -> None:
    """Give the findings recorded before messages had a Vietnamese version (migration q0002) the one this run
    wrote for them; a finding keeps its messages otherwise, as it keeps the steward's decision."""
    for chunk in _chunks(seen):
        empty = session.scalars(
            select(QualityFinding.id).where(QualityFinding.id.in_(chunk), QualityFinding.message_vi == "")
        ).all()
        rows = [{"fid": fid, "vi": by_id[fid].message_vi} for fid in empty if by_id[fid].message_vi]
        if rows:
            table = cast(Table, QualityFinding.__table__)
            session.execute(
                update(table).where(table.c.id == bindparam("fid")).values(message_vi=bindparam("vi")), rows
            )


def start_run(*, session: Session, checks: list[str], sources: dict[str, str]) -> QualityRun:
    run = QualityRun(checks=checks, sources=sources, counts={}, row_counts={}, timings={}, scores={}, status="running")
    session.add(run)
    session.commit()
    return run


def fail_run(*, session: Session, run: QualityRun) -> None:
    run.status = "failed"
    run.finished_at = utcnow()
    session.commit()


def store_run(
    *,
    session: Session,
    run: QualityRun,
    findings: Sequence[Finding],
    row_counts: dict[str, int],
    timings: dict[str, float] | None = None,
) -> StoredRun:
    """Record a completed run's findings (insert new ones, touch recurring ones) and its counts and scores."""
    by_id = {f.id: f for f in findings}
    ids = list(by_id)
    existing: dict[str, str] = {}
    for chunk in _chunks(ids):
        existing.update(
            (row[0], row[1])
            for row in session.execute(
                select(QualityFinding.id, QualityFinding.status).where(QualityFinding.id.in_(chunk))
            )
        )
    new_rows = [
        {
            "id": fid,
            "check": f.check,
            "dataset": f.dataset,
            "records": [r.as_dict() for r in f.records],
            "field": f.field,
            "confidence": f.confidence,
            "message": f.message,
            "message_vi": f.message_vi,
            "status": "open",
            "first_run_id": run.id,
            "last_run_id": run.id,
        }
        for fid, f in by_id.items()
        if fid not in existing
    ]
    if new_rows:
        session.execute(insert(QualityFinding), new_rows)
    seen = [fid for fid in ids if fid in existing]
    for chunk in _chunks(seen):
        session.execute(update(QualityFinding).where(QualityFinding.id.in_(chunk)).values(last_run_id=run.id))
    _translate_older(session, by_id, seen)
    reopened = [fid for fid in seen if existing[fid] == "fixed"]
    for chunk in _chunks(reopened):
        session.execute(update(QualityFinding).where(QualityFinding.id.in_(chunk)).values(status="open"))
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        per = counts.setdefault(f.check, {})
        per[f.dataset] = per.get(f.dataset, 0) + 1
    run.counts = counts
    run.row_counts = dict(row_counts)
    run.timings = dict(timings or {})
    run.total_findings = len(by_id)
    run.status = "completed"
    run.finished_at = utcnow()
    session.flush()
    run.open_findings = int(
        session.scalar(
            select(func.count())
            .select_from(QualityFinding)
            .where(QualityFinding.last_run_id == run.id, QualityFinding.status.in_(UNRESOLVED))
        )
        or 0
    )
    run.scores = dataset_scores(session=session, run=run)
    session.commit()
    _push_scores(session=session, scores=run.scores)
    return StoredRun(run, len(new_rows), len(seen))


# Tables of each catalog dataset (one table each).
DATASET_TABLES: dict[str, str] = {dataset: table for table, dataset in DATASETS.items()}


def dataset_scores(*, session: Session, run: QualityRun) -> dict[str, float]:
    """Per dataset, the share (0-100) of its records with no unresolved finding of this run."""
    flagged: dict[str, set[str]] = {table: set() for table in DATASETS}
    rows = session.execute(
        select(QualityFinding.records).where(
            QualityFinding.last_run_id == run.id, QualityFinding.status.in_(UNRESOLVED)
        )
    ).scalars()
    for records in rows:
        for rec in records:
            if rec["table"] in flagged:
                flagged[rec["table"]].add(rec["key"])
    scores: dict[str, float] = {}
    for table, dataset in DATASETS.items():
        total = run.row_counts.get(table)
        if total:
            scores[dataset] = round(100.0 * (1 - len(flagged[table]) / total), 2)
    return scores


def _push_scores(*, session: Session, scores: dict[str, float]) -> None:
    """Hand each score to the catalog when it has the dataset; a missing dataset is only logged."""
    try:
        from catalog import service as catalog_service
    except ImportError:  # pragma: no cover - the catalog is part of the distribution
        return
    setter = getattr(catalog_service, "set_quality_score", None)
    if setter is None:
        return
    for name, score in scores.items():
        try:
            setter(session=session, name=name, score=score)
        except NDXError as exc:
            session.rollback()
            log.info("quality score of %s not set in the catalog: %s", name, exc.message)


# -- reading ----------------------------------------------------------------------------------------------


def latest_run(*, session: Session) -> QualityRun | None:
    return session.scalar(
        select(QualityRun).where(QualityRun.status == "completed").order_by(QualityRun.id.desc()).limit(1)
    )


def list_runs(*, session: Session, limit: int = 100, before: int | None = None) -> list[QualityRun]:
    query = select(QualityRun).order_by(QualityRun.id.desc()).limit(limit)
    if before is not None:
        query = query.where(QualityRun.id < before)
    return list(session.scalars(query))


def get_run(*, session: Session, run_id: int) -> QualityRun:
    run = session.get(QualityRun, run_id)
    if run is None:
        raise NotFound(f"no quality run {run_id}")
    return run


def list_findings(
    *,
    session: Session,
    check: str | None = None,
    dataset: str | None = None,
    status: str | None = None,
    limit: int = 100,
    after: str | None = None,
    run_id: int | None = None,
) -> list[QualityFinding]:
    """Findings of one run (default: the latest completed run), ordered by id, after a keyset cursor."""
    if check is not None and check not in CHECKS:
        raise Invalid(f"check: one of {', '.join(CHECKS)}")
    if status is not None and status not in STATUSES:
        raise Invalid(f"status: one of {', '.join(STATUSES)}")
    if run_id is None:
        latest = latest_run(session=session)
        if latest is None:
            return []
        run_id = latest.id
    query = select(QualityFinding).where(QualityFinding.last_run_id == run_id)
    if check:
        query = query.where(QualityFinding.check == check)
    if dataset:
        query = query.where(QualityFinding.dataset == dataset)
    if status:
        query = query.where(QualityFinding.status == status)
    if after is not None:
        query = query.where(QualityFinding.id > after)
    return list(session.scalars(query.order_by(QualityFinding.id).limit(limit)))


def get_finding(*, session: Session, finding_id: str) -> QualityFinding:
    finding = session.get(QualityFinding, finding_id)
    if finding is None:
        raise NotFound(f"no quality finding {finding_id}")
    return finding


def owner_of_dataset(dataset: str) -> str | None:
    """The organization code that owns a dataset, from the policy rules (None when no rule names it)."""
    from policies.rules_model import dataset_rules

    rule = dataset_rules().get(dataset)
    return rule.owner if rule is not None else None


def can_review(reviewer: Reviewer, finding: QualityFinding) -> bool:
    """Only a steward of the agency that owns the finding's dataset may review it."""
    return reviewer.role in REVIEWER_ROLES and reviewer.org == owner_of_dataset(finding.dataset)


def review_finding(
    *, session: Session, finding_id: str, reviewer: Reviewer, status: str, note: str | None = None
) -> QualityFinding:
    """Set a finding's status with who, when and why; Forbidden unless the reviewer may review it."""
    if status not in STATUSES:
        raise Invalid(f"status: one of {', '.join(STATUSES)}")
    finding = get_finding(session=session, finding_id=finding_id)
    if not can_review(reviewer, finding):
        raise Forbidden(
            f"only stewards of {owner_of_dataset(finding.dataset) or 'the owning agency'} "
            f"may review findings on {finding.dataset}"
        )
    finding.status = status
    finding.reviewed_by = reviewer.email
    finding.reviewed_at = utcnow()
    finding.review_note = note
    session.commit()
    return finding


def open_counts_over_runs(*, session: Session, limit: int = 30) -> list[tuple[int, datetime, int]]:
    """(run id, started, open findings) of the last completed runs, oldest first: the chart's data."""
    runs = session.execute(
        select(QualityRun.id, QualityRun.started_at, QualityRun.open_findings)
        .where(QualityRun.status == "completed")
        .order_by(QualityRun.id.desc())
        .limit(limit)
    ).all()
    return list(reversed([(r[0], r[1], r[2]) for r in runs]))

"""``ndx catalog sync``: one dataset per source table, described from the source and the policy rules.

Each dataset's fields are the columns the source table really has (types as the source reports them), with
descriptions and sensitivities from ``policies/rules/datasets/*.yaml``; a column the rules do not declare is
listed as sensitive personal data until someone declares it. The sync is idempotent: a dataset is written only
when something differs, and each difference is logged in ``catalog_sync_change``. A source that is down or
breaks the contract is reported by name and its datasets keep their last description; the others sync.
A missing column the contract allows to be NULL is not a breach: the dataset loses that field, logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, column, func, inspect, select, table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog import service
from catalog.models import Dataset, SyncChange, SyncRun, utcnow
from catalog.schemas import DatasetIn, FieldIn, ResourceIn, as_utc
from connectors.registry import Sources
from connectors.schema import SOURCES
from policies import service as policy_service
from policies.rules_model import DatasetRule, dataset_rules

UNDECLARED_VI = "Cột chưa được khai báo trong quy tắc chính sách: coi là dữ liệu cá nhân nhạy cảm."
UNDECLARED_EN = "Column not declared in the policy rules: treated as sensitive personal data."
_DIALECT = DefaultDialect()


@dataclass(frozen=True)
class Change:
    dataset: str
    kind: str
    field: str | None = None
    old: str | None = None
    new: str | None = None


@dataclass
class SyncReport:
    """What one sync did: datasets described, what changed, and each failing source with why."""

    run_id: int
    datasets: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    nullable: bool


@dataclass(frozen=True)
class TableInfo:
    columns: list[ColumnInfo]
    row_count: int
    updated_at: datetime | None


def _type_name(type_: Any) -> str:
    try:
        return str(type_.compile(dialect=_DIALECT))[:60]
    except Exception:  # a type the generic dialect cannot render: name its class
        return type(type_).__name__.upper()[:60]


def describe_table(conn: Connection, name: str) -> TableInfo:
    """Columns (in table order), row count and, when the table has ``updated_at``, its latest value."""
    cols = [
        ColumnInfo(name=c["name"], type=_type_name(c["type"]), nullable=bool(c.get("nullable", True)))
        for c in inspect(conn).get_columns(name)
    ]
    rows = conn.execute(select(func.count()).select_from(table(name))).scalar_one()
    updated: datetime | None = None
    if any(c.name == "updated_at" for c in cols):
        try:
            updated = conn.execute(select(func.max(column("updated_at", DateTime))).select_from(table(name))).scalar()
        except (ValueError, TypeError):  # a value the driver cannot read as a timestamp
            updated = None
    return TableInfo(columns=cols, row_count=int(rows), updated_at=as_utc(updated))


def _desired(rule: DatasetRule, info: TableInfo, existing: Dataset | None, now: datetime) -> DatasetIn:
    fields = []
    for col in info.columns:
        declared = rule.fields.get(col.name)
        fields.append(
            FieldIn(
                name=col.name,
                type=col.type,
                nullable=col.nullable,
                description_vi=declared.description.vi if declared else UNDECLARED_VI,
                description_en=declared.description.en if declared else UNDECLARED_EN,
                sensitivity=declared.sensitivity if declared else "sensitive-personal",
            )
        )
    return DatasetIn(
        name=rule.name,
        owner_org=rule.owner,
        title_vi=rule.title.vi,
        title_en=rule.title.en,
        notes_vi=rule.description.vi,
        notes_en=rule.description.en,
        classification=rule.classification,
        license_id=rule.license,
        update_frequency=rule.update_frequency,
        spatial=rule.spatial,
        themes=list(rule.themes),
        tags=list(rule.tags),
        fields=fields,
        source=rule.source,
        source_table=rule.table,
        row_count=info.row_count,
        data_updated_at=info.updated_at or (existing.data_updated_at if existing else None) or now,
        extras=dict(existing.extras) if existing else {},
    )


_COMPARED = (
    "owner_org",
    "title_vi",
    "title_en",
    "notes_vi",
    "notes_en",
    "classification",
    "license_id",
    "update_frequency",
    "spatial",
    "themes",
    "source_table",
    "private",
)


def _field_sig(name: str, type_: str, nullable: bool, sensitivity: str, vi: str, en: str) -> str:
    null = "NULL" if nullable else "NOT NULL"
    return f"{type_} {null}, {sensitivity}: {vi} / {en}"


def diff(existing: Dataset | None, want: DatasetIn) -> list[Change]:
    """What would change in ``existing`` to make it ``want`` (every difference, one Change each)."""
    name = want.name
    if existing is None or existing.state == "deleted":
        return [Change(name, "dataset_added", new=f"{len(want.fields)} fields, {want.row_count} rows")]
    changes = []
    for attr in _COMPARED:
        old, new = getattr(existing, attr), getattr(want, attr)
        if old != new:
            changes.append(Change(name, "dataset_updated", attr, str(old), str(new)))
    if set(existing.tag_names) != set(want.tags):
        old_tags, new_tags = ", ".join(sorted(existing.tag_names)), ", ".join(sorted(want.tags))
        changes.append(Change(name, "dataset_updated", "tags", old_tags, new_tags))
    have = {
        f.name: _field_sig(f.name, f.type, f.nullable, f.sensitivity, f.description_vi, f.description_en)
        for f in existing.fields
    }
    wanted = {
        f.name: _field_sig(f.name, f.type, f.nullable, f.sensitivity, f.description_vi, f.description_en)
        for f in want.fields
    }
    changes += [Change(name, "field_removed", f, old=sig) for f, sig in have.items() if f not in wanted]
    for f, sig in wanted.items():
        if f not in have:
            changes.append(Change(name, "field_added", f, new=sig))
        elif have[f] != sig:
            changes.append(Change(name, "field_changed", f, have[f], sig))
    if [f.name for f in existing.fields] != [f.name for f in want.fields] and not any(
        c.kind in {"field_added", "field_removed"} for c in changes
    ):
        changes.append(Change(name, "dataset_updated", "field_order"))
    if existing.row_count != want.row_count:
        changes.append(Change(name, "row_count", old=str(existing.row_count), new=str(want.row_count)))
    if as_utc(existing.data_updated_at) != as_utc(want.data_updated_at):
        changes.append(
            Change(name, "dataset_updated", "data_updated_at", str(existing.data_updated_at), str(want.data_updated_at))
        )
    return changes


def api_resources(rule: DatasetRule) -> list[ResourceIn]:
    """The NDX APIs through which a granted agency reaches a source dataset's records."""
    out = [
        ResourceIn(
            name="API truy vấn bản ghi (Records query API)",
            url=f"/api/v1/datasets/{rule.name}/records",
            format="API",
            description="Truy vấn có kiểm soát theo quyền được cấp và mục đích (X-NDX-Purpose). "
            "Controlled query under a granted purpose.",
        )
    ]
    if any(p.kind == "verify" for p in rule.purposes):
        out.append(
            ResourceIn(
                name="API xác thực thông tin (Verification API)",
                url=f"/api/v1/datasets/{rule.name}/verify",
                format="API",
                description="Trả lời có/không cho từng trường, không trả dữ liệu. Answers yes or no per field.",
            )
        )
    return out


def _add_api_resources(session: Session, ds: Dataset | None, rule: DatasetRule) -> list[Change]:
    if ds is None:
        return []
    have = {r.url for r in ds.resources}
    added = []
    for resource in api_resources(rule):
        if resource.url not in have:
            service.add_resource(session=session, dataset=ds, data=resource)
            added.append(Change(rule.name, "dataset_updated", "resources", None, resource.url))
    return added


def _contract_problems(source: str, report: Any, rule: DatasetRule) -> list[str]:
    """The contract breaches that stop this dataset syncing (a missing NULL-able column is not one)."""
    if rule.table in report.missing_tables:
        return [f"missing table {source}.{rule.table}"]
    contract = SOURCES[source].tables.get(rule.table)
    missing = report.missing_columns.get(rule.table, [])
    required = [c for c in missing if contract is None or not contract.c[c].nullable]
    return [f"missing column {source}.{rule.table}.{c}" for c in required]


def _sync_source(
    session: Session, source: str, engine: Engine, report: Any, rules: list[DatasetRule], out: SyncReport
) -> None:
    problems: list[str] = []
    owners = {o.code: o for o in policy_service.organization_rules()}
    for rule in rules:
        breach = _contract_problems(source, report, rule)
        if breach:
            problems.extend(breach)
            continue
        owner = owners.get(rule.owner)
        if owner is None:
            problems.append(f"{rule.name}: owner {rule.owner!r} is not in organizations.yaml")
            continue
        try:
            with engine.connect() as conn:
                info = describe_table(conn, rule.table)
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None) or exc
            problems.append(f"{source}.{rule.table}: {(str(orig).splitlines() or ['unreadable'])[0]}")
            continue
        policy_service.upsert_organization(session=session, rule=owner)
        existing = session.scalar(select(Dataset).where(Dataset.name == rule.name))
        now = utcnow()
        want = _desired(rule, info, existing, now)
        changes = diff(existing, want)
        if changes:
            existing = service.upsert_dataset(session=session, data=want, commit=False, now=now)
            out.changes.extend(changes)
        added_now = any(c.kind == "dataset_added" for c in changes)
        resource_changes = _add_api_resources(session, existing, rule)
        out.changes.extend([] if added_now else resource_changes)
        out.datasets.append(rule.name)
    if problems:
        out.failures[source] = "; ".join(problems)


def sync_catalog(*, session: Session, sources: Sources, rules: Mapping[str, DatasetRule] | None = None) -> SyncReport:
    """Describe every dataset of the rules from its source; log and return what changed and what failed."""
    rules = dict(dataset_rules() if rules is None else rules)
    run = SyncRun(started_at=utcnow(), datasets=[], failures={})
    session.add(run)
    session.flush()
    out = SyncReport(run_id=run.id)
    by_source: dict[str, list[DatasetRule]] = {}
    for rule in rules.values():
        by_source.setdefault(rule.source, []).append(rule)
    for source, source_rules in sorted(by_source.items()):
        if source not in sources.urls:
            out.failures[source] = "not configured"
            continue
        report = sources.check(source)
        if not report.reachable:
            out.failures[source] = f"unreachable: {report.error}"
            continue
        _sync_source(session, source, sources.engine(source), report, source_rules, out)
    gone = select(Dataset).where(Dataset.source.is_not(None), Dataset.state == "active", Dataset.name.not_in(rules))
    for ds in list(session.scalars(gone)):
        service.mark_deleted(session=session, dataset=ds)
        out.changes.append(Change(ds.name, "dataset_removed", old=ds.source))
    for change in out.changes:
        row = SyncChange(run_id=run.id, dataset_name=change.dataset, kind=change.kind, field=change.field)
        row.old, row.new = change.old, change.new
        session.add(row)
    run.datasets, run.failures, run.finished_at = sorted(out.datasets), dict(out.failures), utcnow()
    session.commit()
    return out


def recent_changes(*, session: Session, dataset: str | None = None, limit: int = 50) -> list[SyncChange]:
    """The latest logged sync changes, newest first, of one dataset or all."""
    stmt = select(SyncChange).order_by(SyncChange.id.desc()).limit(limit)
    if dataset:
        stmt = stmt.where(SyncChange.dataset_name == dataset)
    return list(session.scalars(stmt))

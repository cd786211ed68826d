"""Catalog services: register, replace, find and show datasets; organizations with their dataset counts.

Plain functions over a session with keyword-only arguments; they raise ``ndx.errors`` exceptions, so the REST
API, the pages, the CLI and the tests share them. Writes commit unless told not to (the sync commits once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from catalog import indexing, labels, search
from catalog.models import Dataset, DatasetField, DatasetTag, Resource, utcnow
from catalog.schemas import (
    DatasetIn,
    DatasetList,
    DatasetOut,
    DatasetSummary,
    FacetValue,
    FieldOut,
    OrganizationList,
    OrganizationOut,
    OrganizationRef,
    PurposeOut,
    ResourceIn,
    ResourceOut,
    as_utc,
    utc,
)
from catalog.search.base import (
    DS,
    RES,
    TAG,
    SearchParams,
)
from catalog.search.cursors import decode_org_cursor, encode_org_cursor
from ndx.errors import Conflict, Invalid, NotFound
from policies.models import Organization
from policies.rules_model import dataset_rules

# -- writing ---------------------------------------------------------------------------------------------------


def _sync_fields(ds: Dataset, data: DatasetIn) -> None:
    """Bring ``ds.fields`` to ``data.fields`` in place (replacing rows would collide on (dataset, name))."""
    by_name = {f.name: f for f in ds.fields}
    wanted = {f.name for f in data.fields}
    for old in [f for f in ds.fields if f.name not in wanted]:
        ds.fields.remove(old)
    for position, spec in enumerate(data.fields):
        row = by_name.get(spec.name)
        if row is None:
            row = DatasetField(name=spec.name)
            ds.fields.append(row)
        row.position, row.type, row.nullable = position, spec.type, spec.nullable
        row.description_vi, row.description_en, row.sensitivity = (
            spec.description_vi,
            spec.description_en,
            spec.sensitivity,
        )
    ds.fields.sort(key=lambda f: f.position)


def _sync_tags(ds: Dataset, tags: Sequence[str]) -> None:
    have = {t.name for t in ds.tags}
    for old in [t for t in ds.tags if t.name not in tags]:
        ds.tags.remove(old)
    ds.tags.extend(DatasetTag(name=name) for name in tags if name not in have)


def upsert_dataset(*, session: Session, data: DatasetIn, commit: bool = True, now: datetime | None = None) -> Dataset:
    """Create the dataset named ``data.name`` or replace everything it says (CKAN's package_update)."""
    if session.get(Organization, data.owner_org) is None:
        raise Invalid(f"owner_org: no organization {data.owner_org!r}", details=[{"loc": ["owner_org"]}])
    search.ensure_index(session)
    now = now or utcnow()
    ds = session.scalar(select(Dataset).where(Dataset.name == data.name))
    if ds is None:
        ds = Dataset(name=data.name, metadata_created=now, fields=[], tags=[], resources=[])
        session.add(ds)
    ds.state = "active"
    ds.private, ds.owner_org = data.private, data.owner_org
    ds.source, ds.source_table = data.source, data.source_table
    ds.title_vi, ds.title_en, ds.notes_vi, ds.notes_en = data.title_vi, data.title_en, data.notes_vi, data.notes_en
    ds.classification, ds.license_id = data.classification, data.license_id
    ds.update_frequency, ds.spatial, ds.themes = data.update_frequency, data.spatial, list(data.themes)
    ds.row_count, ds.data_updated_at, ds.extras = data.row_count, data.data_updated_at, dict(data.extras)
    ds.metadata_modified = now
    _sync_fields(ds, data)
    _sync_tags(ds, data.tags)
    if data.resources is not None:
        ds.resources = [Resource(position=i, **r.model_dump()) for i, r in enumerate(data.resources)]
    session.flush()
    indexing.index_dataset(session, ds, data)
    if commit:
        session.commit()
    return ds


def add_resource(*, session: Session, dataset: Dataset, data: ResourceIn) -> Resource:
    """Append a resource to a dataset (its format becomes a facet value); the caller commits."""
    resource = Resource(position=len(dataset.resources), **data.model_dump())
    dataset.resources.append(resource)
    dataset.metadata_modified = utcnow()
    indexing.add_format(session, dataset, data.format)
    return resource


def register_dataset(*, session: Session, data: DatasetIn, commit: bool = True) -> Dataset:
    """Register a new dataset; Conflict (409) if the name is taken, even by a deleted dataset (as CKAN)."""
    if session.scalar(select(Dataset.id).where(Dataset.name == data.name)) is not None:
        raise Conflict(f"dataset {data.name!r} already exists", details=[{"loc": ["name"]}])
    return upsert_dataset(session=session, data=data, commit=commit)


def mark_deleted(*, session: Session, dataset: Dataset) -> None:
    """Set a dataset's state to deleted and take it out of search; the caller commits."""
    dataset.state = "deleted"
    dataset.metadata_modified = utcnow()
    indexing.set_visibility(session, dataset)


def delete_dataset(*, session: Session, name: str) -> None:
    """Mark a dataset deleted: it leaves search and pages, its name stays taken (CKAN's package_delete)."""
    mark_deleted(session=session, dataset=get_dataset(session=session, name=name, include_hidden=True))
    session.commit()


def set_quality_score(*, session: Session, name: str, score: float | None) -> Dataset:
    """Set (or clear with None) the dataset's quality score, 0 to 100; the quality run calls this."""
    if score is not None and not 0 <= score <= 100:
        raise Invalid(f"score: must be between 0 and 100, got {score}")
    ds = get_dataset(session=session, name=name, include_hidden=True)
    ds.quality_score = None if score is None else round(float(score), 2)
    session.commit()
    return ds


# -- reading ---------------------------------------------------------------------------------------------------


def get_dataset(*, session: Session, name: str, include_hidden: bool = False) -> Dataset:
    """An active public dataset by name; deleted and private ones only with ``include_hidden`` (they are not
    shown to the public, as in CKAN)."""
    ds = session.scalar(select(Dataset).where(Dataset.name == name))
    if ds is None or (not include_hidden and (ds.state == "deleted" or ds.private)):
        raise NotFound(f"dataset {name!r} does not exist")
    return ds


def dataset_detail(ds: Dataset) -> DatasetOut:
    """The full public description of a dataset, with the purposes its policy rules allow to request."""
    rule = dataset_rules().get(ds.name) if ds.source else None
    purposes = [
        PurposeOut(code=p.code, kind=p.kind, description=p.description.vi, description_en=p.description.en)
        for p in (rule.purposes if rule else [])
    ]
    fields = [
        FieldOut(
            name=f.name,
            type=f.type,
            nullable=f.nullable,
            description=f.description_vi,
            description_en=f.description_en,
            sensitivity=f.sensitivity,
        )
        for f in ds.fields
    ]
    resources = [ResourceOut.model_validate(r) for r in ds.resources]
    for r in resources:
        r.created, r.last_modified = utc(r.created), as_utc(r.last_modified)
    return DatasetOut(
        id=ds.id,
        name=ds.name,
        title=ds.title_vi,
        title_en=ds.title_en,
        notes=ds.notes_vi,
        notes_en=ds.notes_en,
        owner_org=ds.owner_org,
        organization=OrganizationRef.model_validate(ds.organization),
        classification=ds.classification,
        license_id=ds.license_id,
        source=ds.source,
        tags=ds.tag_names,
        formats=sorted({r.format.upper() for r in ds.resources if r.format}),
        row_count=ds.row_count,
        quality_score=ds.quality_score,
        metadata_modified=utc(ds.metadata_modified),
        state=ds.state,
        private=ds.private,
        table=ds.source_table,
        update_frequency=ds.update_frequency,
        spatial=ds.spatial,
        themes=list(ds.themes),
        fields=fields,
        resources=resources,
        data_updated_at=as_utc(ds.data_updated_at),
        metadata_created=utc(ds.metadata_created),
        purposes=purposes,
        extras=dict(ds.extras),
    )


def summaries(*, session: Session, rows: Sequence[Any]) -> list[DatasetSummary]:
    """Search-result views of a search's page rows (which carry ``SUMMARY_COLUMNS``), in order; one more query
    for their tags and formats, and no re-validation of what the database already holds."""
    ids = [r.dataset_id for r in rows]
    if not ids:
        return []
    tags: dict[str, list[str]] = defaultdict(list)
    formats: dict[str, set[str]] = defaultdict(set)
    both = union_all(
        select(TAG.dataset_id, literal("t"), TAG.name).where(TAG.dataset_id.in_(ids)),
        select(RES.dataset_id, literal("f"), RES.format).where(RES.dataset_id.in_(ids), RES.format != ""),
    )
    for dataset_id, kind, value in session.execute(both):
        if kind == "t":
            tags[dataset_id].append(value)
        else:
            formats[dataset_id].add(value.upper())
    return [
        DatasetSummary.model_construct(
            id=r.dataset_id,
            name=r.name,
            title=r.title_vi,
            title_en=r.title_en,
            notes=r.notes_vi,
            notes_en=r.notes_en,
            owner_org=r.owner_org,
            organization=OrganizationRef.model_construct(
                code=r.owner_org, name_vi=r.org_name_vi, name_en=r.org_name_en
            ),
            classification=r.classification,
            license_id=r.license_id,
            source=r.source,
            tags=sorted(tags[r.dataset_id]),
            formats=sorted(formats[r.dataset_id]),
            row_count=r.row_count,
            quality_score=r.quality_score,
            metadata_modified=utc(r.metadata_modified),
        )
        for r in rows
    ]


def search_datasets(*, session: Session, params: SearchParams, lang: str = "vi") -> DatasetList:
    """One page of matching datasets with the total, the next cursor and labelled facet counts."""
    if not 1 <= params.limit <= 1000:
        raise Invalid("limit: must be between 1 and 1000", details=[{"loc": ["query", "limit"]}])
    result = search.search(session, params)
    facets = {
        facet: [FacetValue(value=fc.value, label=labels.facet_label(facet, fc, lang), count=fc.n) for fc in values]
        for facet, values in result.facets.items()
    }
    items = summaries(session=session, rows=result.rows)
    return DatasetList(items=items, next_cursor=result.next_cursor, count=result.count, facets=facets)


# -- organizations ---------------------------------------------------------------------------------------------


def _dataset_counts(session: Session, codes: Sequence[str] | None = None) -> dict[str, int]:
    stmt = select(DS.owner_org, func.count()).where(DS.state == "active", DS.private.is_(False))
    if codes is not None:
        stmt = stmt.where(DS.owner_org.in_(codes))
    return {code: int(n) for code, n in session.execute(stmt.group_by(DS.owner_org))}


def _org_out(org: Organization, count: int) -> OrganizationOut:
    return OrganizationOut(code=org.code, name_vi=org.name_vi, name_en=org.name_en, kind=org.kind, dataset_count=count)


def list_organizations(*, session: Session, limit: int = 100, cursor: str | None = None) -> OrganizationList:
    """Organizations by code, with how many datasets each owns; ``cursor`` is the last code of the last page."""
    if not 1 <= limit <= 1000:
        raise Invalid("limit: must be between 1 and 1000", details=[{"loc": ["query", "limit"]}])
    stmt = select(Organization).order_by(Organization.code).limit(limit + 1)
    if cursor:
        stmt = stmt.where(Organization.code > _org_cursor(cursor))
    orgs = list(session.scalars(stmt))
    more = len(orgs) > limit
    orgs = orgs[:limit]
    counts = _dataset_counts(session, [o.code for o in orgs])
    items = [_org_out(o, counts.get(o.code, 0)) for o in orgs]
    return OrganizationList(items=items, next_cursor=encode_org_cursor(orgs[-1].code) if more else None)


def _org_cursor(cursor: str) -> str:
    return decode_org_cursor(cursor)


def get_organization(*, session: Session, code: str) -> OrganizationOut:
    org = session.get(Organization, code)
    if org is None:
        raise NotFound(f"organization {code!r} does not exist")
    return _org_out(org, _dataset_counts(session, [code]).get(code, 0))


def catalog_counts(*, session: Session) -> dict[str, int]:
    """Headline figures for the home page: datasets, organizations that own one, fields described."""
    visible = (DS.state == "active") & DS.private.is_(False)
    datasets = session.scalar(select(func.count()).select_from(Dataset.__table__).where(visible)) or 0
    owners = session.scalar(select(func.count(func.distinct(DS.owner_org))).where(visible)) or 0
    fields = session.scalar(
        select(func.count()).select_from(DatasetField.__table__).join(Dataset.__table__).where(visible)
    )
    return {"datasets": int(datasets), "organizations": int(owners), "fields": int(fields or 0)}

"""CKAN's write actions, for administrators: create, update, patch and delete datasets, add resources.

A CKAN package dict becomes NDX's typed ``DatasetIn`` (title -> Vietnamese title, groups -> data themes,
extras -> extras) and goes through the catalog service, so search and facets follow. Resources keep their ids
across updates when the dict names them (by ``id``, else by URL), as CKAN does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from catalog import labels, service
from catalog.ckan import dicts
from catalog.ckan.access import Context, check_access
from catalog.ckan.actions_read import find_dataset
from catalog.ckan.envelope import ValidationFailed, pydantic_fields
from catalog.ckan.schemas import IdIn, OrganizationIn, PackageIn, ResourceCreateIn, ResourceDictIn
from catalog.models import Dataset, Resource
from catalog.schemas import DatasetIn, ResourceIn
from policies import users
from policies.models import Organization


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("Validation error", {"last_modified": ["not an ISO 8601 date"]}) from None


def _resource_in(r: ResourceDictIn) -> ResourceIn:
    name = r.name or r.url.rsplit("/", 1)[-1] or "resource"
    return ResourceIn(
        name=name[:300],
        url=r.url,
        format=r.format,
        description=r.description,
        size=r.size,
        hash=r.hash,
        last_modified=_when(r.last_modified),
    )


def to_dataset_in(ctx: Context, data: PackageIn, *, with_resources: bool) -> DatasetIn:
    """The typed dataset a package dict describes; Validation Error (keyed by field) when it is not one."""
    errors: dict[str, list[str]] = {}
    if not data.name:
        errors["name"] = ["Missing value"]
    if not data.owner_org:
        errors["owner_org"] = ["Missing value"]
    elif ctx.session.get(Organization, data.owner_org) is None:
        errors["owner_org"] = [f"Organization does not exist: {data.owner_org}"]
    themes = [dicts.theme_of(g.name) for g in data.groups]
    unknown = [g.name for g in data.groups if dicts.theme_of(g.name) not in labels.THEME]
    if unknown:
        errors["groups"] = [f"Group does not exist: {', '.join(unknown)}"]
    if errors:
        raise ValidationFailed("Validation error", errors)
    title = data.title or data.name
    values: dict[str, Any] = {
        "name": data.name,
        "owner_org": data.owner_org,
        "title_vi": title,
        "title_en": data.title_en or title,
        "notes_vi": data.notes or "",
        "notes_en": data.notes_en or data.notes or "",
        "classification": data.classification or "open",
        "license_id": data.license_id or "other-closed",
        "update_frequency": data.update_frequency,
        "spatial": data.spatial,
        "themes": themes,
        "tags": [t.name for t in data.tags],
        "private": data.private,
        "extras": {e.key: e.value for e in data.extras},
        "resources": [_resource_in(r) for r in data.resources] if with_resources and data.resources else None,
    }
    try:
        return DatasetIn.model_validate(values)
    except ValidationError as exc:
        fields = pydantic_fields(exc)
        renamed = {"title_vi": "title", "notes_vi": "notes", "themes": "groups"}
        raise ValidationFailed("Validation error", {renamed.get(k, k): v for k, v in fields.items()}) from None


def _sync_resources(ctx: Context, ds: Dataset, given: list[ResourceDictIn]) -> None:
    """Make the dataset's resources the given ones, keeping the rows (and ids) of those it already has."""
    by_id = {r.id: r for r in ds.resources}
    by_url = {r.url: r for r in ds.resources if r.url}
    kept: list[Resource] = []
    for position, item in enumerate(given):
        spec = _resource_in(item)
        row = by_id.get(item.id or "") or by_url.get(item.url)
        if row is None or row in kept:
            row = Resource()
        for key, value in spec.model_dump().items():
            setattr(row, key, value)
        row.position = position
        kept.append(row)
    ds.resources = kept


def package_create(ctx: Context, data: PackageIn) -> dict[str, Any]:
    """Register a dataset from a CKAN package dict; its name must be free (even of a deleted dataset)."""
    check_access("package_create", ctx)
    if ctx.session.scalar(select(Dataset.id).where(Dataset.name == data.name)) is not None:
        raise ValidationFailed("Validation error", {"name": ["That URL is already in use."]})
    ds = service.upsert_dataset(session=ctx.session, data=to_dataset_in(ctx, data, with_resources=True))
    return dicts.package_dict(ds, ctx.base_url)


def _update(ctx: Context, ds: Dataset, data: PackageIn) -> dict[str, Any]:
    want = to_dataset_in(ctx, data, with_resources=False)
    if data.name != ds.name:
        if ctx.session.scalar(select(Dataset.id).where(Dataset.name == data.name)) is not None:
            raise ValidationFailed("Validation error", {"name": ["That URL is already in use."]})
        ds.name = data.name
    if data.resources is not None:
        _sync_resources(ctx, ds, data.resources)
    ds = service.upsert_dataset(session=ctx.session, data=want)
    return dicts.package_dict(ds, ctx.base_url)


def package_update(ctx: Context, data: PackageIn) -> dict[str, Any]:
    """Replace a dataset (found by ``id``, else by ``name``) with the dict given."""
    check_access("package_update", ctx)
    return _update(ctx, find_dataset(ctx, data.id or data.name), data)


def package_patch(ctx: Context, data: PackageIn) -> dict[str, Any]:
    """Change only the keys given; the rest of the dataset stays as it is."""
    check_access("package_patch", ctx)
    ds = find_dataset(ctx, data.id or data.name)
    current = PackageIn.model_validate(dicts.package_dict(ds, ctx.base_url))
    merged = current.model_copy(update={k: getattr(data, k) for k in data.model_fields_set if k != "id"})
    return _update(ctx, ds, merged)


def package_delete(ctx: Context, data: IdIn) -> None:
    """Mark a dataset deleted: it leaves search and listings, its name stays taken."""
    check_access("package_delete", ctx)
    ds = find_dataset(ctx, data.id)
    service.mark_deleted(session=ctx.session, dataset=ds)
    ctx.session.commit()


def resource_create(ctx: Context, data: ResourceCreateIn) -> dict[str, Any]:
    """Add a resource to a dataset (``package_id``: its id or name)."""
    check_access("resource_create", ctx)
    ds = find_dataset(ctx, data.package_id)
    res = service.add_resource(session=ctx.session, dataset=ds, data=_resource_in(data))
    ctx.session.commit()
    return dicts.resource_dict(res, ctx.base_url, open_data=ds.classification == "open")


def organization_create(ctx: Context, data: OrganizationIn) -> dict[str, Any]:
    """Create an organization (an agency that owns datasets); ``name`` is its lower-case code."""
    check_access("organization_create", ctx)
    if ctx.session.get(Organization, data.name) is not None:
        raise ValidationFailed("Validation error", {"name": ["Group name already exists in database"]})
    org = users.add_organization(
        session=ctx.session,
        by=ctx.caller,
        code=data.name,
        name=data.title or data.name,
        name_en=data.title_en,
        kind="owner",
    )
    ctx.session.commit()
    return dicts.organization_dict(org, 0)

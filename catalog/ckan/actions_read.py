"""CKAN's read actions over NDX's catalog. One function per action: each checks access first, then answers
from its validated input. Dataset metadata is public; private and deleted datasets are for administrators."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from catalog import labels
from catalog.ckan import dicts
from catalog.ckan import search as ckan_search
from catalog.ckan.access import Context, check_access
from catalog.ckan.envelope import ObjectNotFound
from catalog.ckan.schemas import (
    HelpIn,
    IdIn,
    NoInput,
    OrganizationListIn,
    OrganizationShowIn,
    PackageSearchIn,
    PageIn,
    TagListIn,
)
from catalog.models import Dataset, DatasetTag, Resource
from ndx import __version__
from policies.models import Organization

VISIBLE = (Dataset.state == "active") & Dataset.private.is_(False)


def find_dataset(ctx: Context, ref: str) -> Dataset:
    """A dataset by name or id; hidden ones (private, deleted) only for an administrator."""
    ds = ctx.session.scalar(select(Dataset).where(or_(Dataset.name == ref, Dataset.id == ref)))
    if ds is None or ((ds.state != "active" or ds.private) and not ctx.is_admin):
        raise ObjectNotFound(f"Not found: dataset {ref!r}")
    return ds


def status_show(ctx: Context, data: NoInput) -> dict[str, Any]:
    """Facts about this site: name, URL, the CKAN API version it speaks."""
    check_access("status_show", ctx)
    return {
        "site_title": "NDX — National Data Exchange",
        "site_description": "Vietnam's national data exchange: catalog, open data and controlled access.",
        "site_url": ctx.base_url,
        "ckan_version": "2.10.0",
        "ndx_version": __version__,
        "error_emails_to": None,
        "locale_default": "vi",
        "extensions": ["ndx", "dcat"],
    }


def package_list(ctx: Context, data: PageIn) -> list[str]:
    """Names of the active public datasets, by name (``limit``/``offset`` page them)."""
    check_access("package_list", ctx)
    stmt = select(Dataset.name).where(VISIBLE).order_by(Dataset.name).offset(data.offset)
    if data.limit is not None:
        stmt = stmt.limit(data.limit)
    return list(ctx.session.scalars(stmt))


def package_show(ctx: Context, data: IdIn) -> dict[str, Any]:
    """One dataset by name or id, with its resources, tags, groups and NDX's fields."""
    check_access("package_show", ctx)
    return dicts.package_dict(find_dataset(ctx, data.id), ctx.base_url)


def package_search(ctx: Context, data: PackageSearchIn) -> dict[str, Any]:
    """Search with CKAN's parameters (q, fq, facet.field, rows, start, sort); see ``catalog.ckan.search``."""
    check_access("package_search", ctx)
    found, sort = ckan_search.run(ctx.session, data)
    facets, search_facets = ckan_search.facets_out(found)
    return {
        "count": found.count,
        "results": [dicts.package_dict(d, ctx.base_url) for d in found.datasets],
        "facets": facets,
        "search_facets": search_facets,
        "sort": sort,
    }


def current_package_list_with_resources(ctx: Context, data: PageIn) -> list[dict[str, Any]]:
    """Active public datasets, most recently modified first, with their resources."""
    check_access("current_package_list_with_resources", ctx)
    stmt = (
        select(Dataset)
        .where(VISIBLE)
        .order_by(Dataset.metadata_modified.desc(), Dataset.name)
        .offset(data.offset)
        .limit(data.limit if data.limit is not None else 1000)
        .options(selectinload(Dataset.tags), selectinload(Dataset.resources), selectinload(Dataset.fields))
    )
    return [dicts.package_dict(d, ctx.base_url) for d in ctx.session.scalars(stmt)]


def _counts(ctx: Context) -> dict[str, int]:
    stmt = select(Dataset.owner_org, func.count()).where(VISIBLE).group_by(Dataset.owner_org)
    return {code: int(n) for code, n in ctx.session.execute(stmt)}


def organization_list(ctx: Context, data: OrganizationListIn) -> list[Any]:
    """Organizations by name (their code); with ``all_fields`` their dicts and dataset counts."""
    check_access("organization_list", ctx)
    stmt = select(Organization).order_by(Organization.code).offset(data.offset)
    if data.limit is not None:
        stmt = stmt.limit(data.limit)
    if data.organizations:
        stmt = stmt.where(Organization.code.in_(data.organizations))
    orgs = list(ctx.session.scalars(stmt))
    if not data.all_fields:
        return [o.code for o in orgs]
    counts = _counts(ctx) if data.include_dataset_count else {}
    return [dicts.organization_dict(o, counts.get(o.code, 0) if data.include_dataset_count else None) for o in orgs]


def organization_show(ctx: Context, data: OrganizationShowIn) -> dict[str, Any]:
    """One organization by code, with its dataset count (and its datasets with ``include_datasets``)."""
    check_access("organization_show", ctx)
    org = ctx.session.get(Organization, data.id)
    if org is None:
        raise ObjectNotFound(f"Not found: organization {data.id!r}")
    out = dicts.organization_dict(org, _counts(ctx).get(org.code, 0))
    if data.include_datasets:
        stmt = select(Dataset).where(VISIBLE, Dataset.owner_org == org.code).order_by(Dataset.name).limit(1000)
        out["packages"] = [dicts.package_dict(d, ctx.base_url) for d in ctx.session.scalars(stmt)]
    return out


def _theme_counts(ctx: Context) -> Counter[str]:
    counted: Counter[str] = Counter()
    for themes in ctx.session.scalars(select(Dataset.themes).where(VISIBLE)):
        counted.update(set(themes or []))
    return counted


def group_list(ctx: Context, data: OrganizationListIn) -> list[Any]:
    """Groups are the data themes that have datasets (``econ``, ``soci``, ...), by name."""
    check_access("group_list", ctx)
    counts = _theme_counts(ctx)
    themes = sorted(counts, key=dicts.group_name)[data.offset :]
    if data.limit is not None:
        themes = themes[: data.limit]
    if not data.all_fields:
        return [dicts.group_name(t) for t in themes]
    return [dicts.group_dict(t, counts[t]) for t in themes]


def group_show(ctx: Context, data: IdIn) -> dict[str, Any]:
    """One data theme by name, with its dataset count."""
    check_access("group_show", ctx)
    theme = dicts.theme_of(data.id)
    if theme not in labels.THEME:
        raise ObjectNotFound(f"Not found: group {data.id!r}")
    return dicts.group_dict(theme, _theme_counts(ctx).get(theme, 0))


def tag_list(ctx: Context, data: TagListIn) -> list[Any]:
    """Tags of the active public datasets (``query`` keeps those containing it)."""
    check_access("tag_list", ctx)
    stmt = select(DatasetTag.name).join(Dataset, Dataset.id == DatasetTag.dataset_id).where(VISIBLE).distinct()
    if data.query:
        stmt = stmt.where(func.lower(DatasetTag.name).contains(data.query.lower(), autoescape=True))
    names = sorted(ctx.session.scalars(stmt))
    if data.all_fields:
        return [{"id": n, "name": n, "display_name": n, "vocabulary_id": None} for n in names]
    return names


def resource_show(ctx: Context, data: IdIn) -> dict[str, Any]:
    """One resource by id (of a dataset the caller may see)."""
    check_access("resource_show", ctx)
    res = ctx.session.get(Resource, data.id)
    if res is None:
        raise ObjectNotFound(f"Not found: resource {data.id!r}")
    ds = find_dataset(ctx, res.dataset_id)
    return dicts.resource_dict(res, ctx.base_url, open_data=ds.classification == "open")


def license_list(ctx: Context, data: NoInput) -> list[dict[str, Any]]:
    """The licences datasets may carry."""
    check_access("license_list", ctx)
    return dicts.license_dicts()


def help_show(ctx: Context, data: HelpIn) -> str:
    """The documentation of an action."""
    check_access("help_show", ctx)
    from catalog.ckan.registry import ACTIONS  # the registry imports this module

    action = ACTIONS.get(data.name)
    if action is None:
        raise ObjectNotFound(f"Action function not found: {data.name}")
    return (action.fn.__doc__ or "").strip()

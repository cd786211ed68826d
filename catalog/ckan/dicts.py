"""NDX's catalog objects as CKAN's dicts (package, resource, organization, group, tag, licence).

Datasets carry CKAN's keys plus NDX's own (classification, English title and notes, fields with their
sensitivity, row count, quality score). Groups are the EU data themes of DCAT-AP, named in lower case
(``econ``). Resource URLs are made absolute against the site's base URL; a dataset that is not open has no
downloadable file, only the controlled-query API resources that need a grant.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from catalog import labels
from catalog.models import Dataset, Resource
from catalog.schemas import as_utc, utc
from policies.models import Organization

LICENSES: dict[str, tuple[str, str]] = {
    "cc-by-4.0": ("Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "cc-zero": ("Creative Commons CCZero", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "odc-by": ("Open Data Commons Attribution License", "https://opendatacommons.org/licenses/by/1-0/"),
    "other-closed": ("Other (Not Open)", ""),
}
OPEN_LICENSES = {"cc-by-4.0", "cc-zero", "odc-by"}


def ckan_time(value: datetime | None) -> str | None:
    """CKAN's timestamps: UTC, ISO 8601 without an offset."""
    aware = as_utc(value)
    return None if aware is None else aware.replace(tzinfo=None).isoformat()


def absolute(base_url: str, url: str) -> str:
    return base_url.rstrip("/") + url if url.startswith("/") else url


def group_name(theme: str) -> str:
    return theme.lower()


def theme_of(group: str) -> str:
    return group.upper()


def group_dict(theme: str, count: int | None = None) -> dict[str, Any]:
    title = labels.label(labels.THEME, theme, "vi")
    out: dict[str, Any] = {
        "id": group_name(theme),
        "name": group_name(theme),
        "title": title,
        "display_name": title,
        "title_en": labels.label(labels.THEME, theme, "en"),
        "description": "",
        "type": "group",
        "is_organization": False,
        "state": "active",
        "image_url": "",
        "image_display_url": "",
        "approval_status": "approved",
    }
    if count is not None:
        out["package_count"] = count
    return out


def organization_dict(org: Organization, count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": org.code,
        "name": org.code,
        "title": org.name_vi,
        "display_name": org.name_vi,
        "title_en": org.name_en,
        "description": "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "image_url": "",
        "image_display_url": "",
        "approval_status": "approved",
        "created": ckan_time(org.created_at),
        "ndx_kind": org.kind,
    }
    if count is not None:
        out["package_count"] = count
    return out


def resource_dict(res: Resource, base_url: str, *, open_data: bool) -> dict[str, Any]:
    url = res.url
    is_file = url.startswith("/datasets/")
    return {
        "id": res.id,
        "package_id": res.dataset_id,
        "name": res.name,
        "description": res.description,
        "format": res.format.upper(),
        "url": absolute(base_url, url) if (open_data or not is_file) else "",
        "url_type": None,
        "size": res.size,
        "hash": res.hash or "",
        "mimetype": (res.extras or {}).get("mimetype"),
        "last_modified": ckan_time(res.last_modified),
        "created": ckan_time(res.created),
        "metadata_modified": ckan_time(res.last_modified or res.created),
        "position": res.position,
        "state": "active",
    }


def extra_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def package_dict(ds: Dataset, base_url: str) -> dict[str, Any]:
    open_data = ds.classification == "open"
    license_title, license_url = LICENSES.get(ds.license_id, (ds.license_id, ""))
    tags = [{"name": t, "display_name": t, "state": "active", "vocabulary_id": None} for t in ds.tag_names]
    resources = [resource_dict(r, base_url, open_data=open_data) for r in ds.resources]
    return {
        "id": ds.id,
        "name": ds.name,
        "title": ds.title_vi,
        "notes": ds.notes_vi,
        "type": "dataset",
        "owner_org": ds.owner_org,
        "organization": organization_dict(ds.organization),
        "private": ds.private,
        "state": ds.state,
        "license_id": ds.license_id,
        "license_title": license_title,
        "license_url": license_url,
        "isopen": ds.license_id in OPEN_LICENSES,
        "url": absolute(base_url, f"/datasets/{ds.name}"),
        "version": None,
        "author": ds.organization.name_vi,
        "author_email": None,
        "maintainer": ds.organization.name_vi,
        "maintainer_email": None,
        "tags": tags,
        "num_tags": len(tags),
        "extras": [{"key": k, "value": extra_value(v)} for k, v in sorted(ds.extras.items())],
        "resources": resources,
        "num_resources": len(resources),
        "groups": [group_dict(t) for t in ds.themes],
        "metadata_created": ckan_time(ds.metadata_created),
        "metadata_modified": ckan_time(ds.metadata_modified),
        # NDX's own keys
        "classification": ds.classification,
        "title_en": ds.title_en,
        "notes_en": ds.notes_en,
        "source": ds.source,
        "source_table": ds.source_table,
        "update_frequency": ds.update_frequency,
        "spatial": ds.spatial,
        "themes": list(ds.themes),
        "row_count": ds.row_count,
        "quality_score": ds.quality_score,
        "data_updated_at": ckan_time(ds.data_updated_at),
        "fields": [
            {
                "name": f.name,
                "type": f.type,
                "nullable": f.nullable,
                "description": f.description_vi,
                "description_en": f.description_en,
                "sensitivity": f.sensitivity,
            }
            for f in ds.fields
        ],
    }


def license_dicts() -> list[dict[str, Any]]:
    return [
        {
            "id": lid,
            "title": title,
            "url": url,
            "od_conformance": "approved" if lid in OPEN_LICENSES else "not reviewed",
            "osd_conformance": "not reviewed",
            "status": "active",
            "family": "",
            "is_generic": False,
        }
        for lid, (title, url) in LICENSES.items()
    ]


def as_ckan_time(value: Any) -> str | None:
    return ckan_time(utc(value)) if isinstance(value, datetime) else None

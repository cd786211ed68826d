"""Publish NDX's open datasets to a CKAN portal, and harvest a CKAN portal's datasets into NDX, with ckanapi.

Publishing is idempotent: each dataset is looked up by name (package_show) and updated, or created when the
portal does not have it; its organization is created first when the portal lacks it and allows it. Harvesting
reads the portal's datasets page by page (package_search) and registers each here, marked with the extras
``harvest_source`` and ``harvest_object_id``; a second harvest updates them. A local dataset of the same name
that was not harvested from that portal is left alone. Every call has a time-out, and an unreachable portal
or a refused key ends the run with one line saying so (``HarvestError``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import service
from catalog.ckan import dicts
from catalog.models import Dataset
from catalog.schemas import DatasetIn, FieldIn, ResourceIn
from policies.models import Organization

Progress = Callable[[int, int], None]
PAGE = 100
USER_AGENT = "ndx-harvester/1.0 (+https://ndx.gov.vn)"


class HarvestError(Exception):
    """A run that cannot go on: the message is one line for the operator."""


@dataclass
class Outcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Portal:
    """A CKAN portal as ckanapi reaches it, with the time-out every call passes on (ckanapi has none)."""

    api: Any
    timeout_s: float

    @property
    def address(self) -> str:
        return str(self.api.address)


def portal(url: str, token: str | None, timeout_s: float) -> Portal:
    import ckanapi  # only the publish and harvest commands need it

    return Portal(ckanapi.RemoteCKAN(url.rstrip("/"), apikey=token, user_agent=USER_AGENT), timeout_s)


def _call(api: Portal, action: str, **kwargs: Any) -> Any:
    """One action; an unreachable portal or a refused key becomes a one-line HarvestError."""
    import ckanapi
    import requests

    try:
        return api.api.call_action(action, kwargs, requests_kwargs={"timeout": api.timeout_s})
    except ckanapi.NotAuthorized as exc:
        raise HarvestError(f"{api.address} refused the key for {action}: {_first(exc)}") from None
    except requests.exceptions.Timeout:
        raise HarvestError(f"{api.address} did not answer {action} in time") from None
    except requests.exceptions.RequestException as exc:
        raise HarvestError(f"cannot reach {api.address}: {type(exc).__name__}") from None
    except ckanapi.CKANAPIError as exc:
        if isinstance(exc, ckanapi.NotFound | ckanapi.ValidationError):
            raise
        raise HarvestError(f"{api.address} answered {action} with an error: {_first(exc)}") from None


def _first(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return (text.splitlines() or [""])[0][:200]


# -- publish ---------------------------------------------------------------------------------------------------


def open_datasets(session: Session) -> list[Dataset]:
    stmt = select(Dataset).where(
        Dataset.state == "active", Dataset.private.is_(False), Dataset.classification == "open"
    )
    return list(session.scalars(stmt.order_by(Dataset.name)))


def package_for(ds: Dataset, site_url: str, groups: set[str]) -> dict[str, Any]:
    """The CKAN dict a portal receives: this site's description with absolute download URLs."""
    full = dicts.package_dict(ds, site_url)
    keep = ("name", "title", "notes", "owner_org", "license_id", "private", "title_en", "notes_en", "classification")
    out = {k: full[k] for k in keep}
    out["tags"] = [{"name": t["name"]} for t in full["tags"]]
    out["extras"] = [e for e in full["extras"] if e["key"] not in {"harvest_source", "harvest_object_id"}]
    out["extras"].append({"key": "ndx_url", "value": full["url"]})
    out["groups"] = [{"name": g["name"]} for g in full["groups"] if g["name"] in groups]
    res_keys = ("name", "url", "format", "description", "size", "hash", "last_modified")
    out["resources"] = [{k: r[k] for k in res_keys} for r in full["resources"] if r["url"]]
    return out


def _ensure_org(api: Portal, org: Organization, known: set[str], create: bool) -> None:
    import ckanapi

    if org.code in known:
        return
    try:
        _call(api, "organization_show", id=org.code)
    except ckanapi.NotFound:
        if not create:
            raise HarvestError(f"{api.address} has no organization {org.code!r} (run with --create-orgs)") from None
        _call(api, "organization_create", name=org.code, title=org.name_vi, title_en=org.name_en)
    known.add(org.code)


def publish(
    *,
    session: Session,
    to_url: str,
    token: str,
    site_url: str,
    timeout_s: float = 30.0,
    create_orgs: bool = True,
    progress: Progress | None = None,
) -> Outcome:
    """Push every open dataset to the portal at ``to_url``: update it when there, create it when not."""
    import ckanapi

    api = portal(to_url, token, timeout_s)
    out = Outcome()
    datasets = open_datasets(session)
    groups = set(_call(api, "group_list"))
    orgs: set[str] = set()
    for done, ds in enumerate(datasets, 1):
        _ensure_org(api, ds.organization, orgs, create_orgs)
        package = package_for(ds, site_url, groups)
        try:
            remote = _call(api, "package_show", id=ds.name)
        except ckanapi.NotFound:
            remote = None
        try:
            if remote is None:
                _call(api, "package_create", **package)
                out.created.append(ds.name)
            else:
                _call(api, "package_update", id=remote["id"], **package)
                out.updated.append(ds.name)
        except ckanapi.ValidationError as exc:
            out.skipped[ds.name] = f"refused: {exc.error_dict}"
        if progress:
            progress(done, len(datasets))
    return out


# -- harvest ---------------------------------------------------------------------------------------------------


def remote_packages(api: Portal, progress: Progress | None) -> Iterator[dict[str, Any]]:
    """Every dataset the portal lists, page by page (sorted by name, so pages do not shift)."""
    start, total = 0, None
    while total is None or start < total:
        page = _call(api, "package_search", rows=PAGE, start=start, sort="name asc")
        total = int(page["count"])
        if not page["results"]:
            break
        for item in page["results"]:
            start += 1
            if progress:
                progress(start, total)
            yield item


def _org_for(session: Session, remote: dict[str, Any]) -> str:
    org = remote.get("organization") or {}
    code = str(org.get("name") or remote.get("owner_org") or "harvested").lower()[:40]
    if session.get(Organization, code) is None:
        title = str(org.get("title") or code)
        session.add(Organization(code=code, name_vi=title, name_en=str(org.get("title_en") or title), kind="owner"))
        session.flush()
    return code


def dataset_from(session: Session, remote: dict[str, Any], source_url: str) -> DatasetIn:
    extras = {e["key"]: e["value"] for e in remote.get("extras") or [] if "key" in e}
    extras |= {"harvest_source": source_url, "harvest_object_id": str(remote["id"])}
    title = str(remote.get("title") or remote["name"])
    notes = str(remote.get("notes") or "")
    classification = remote.get("classification")
    fields = [
        FieldIn(
            name=f["name"],
            type=f.get("type", ""),
            nullable=bool(f.get("nullable", True)),
            description_vi=f.get("description", ""),
            description_en=f.get("description_en", ""),
            sensitivity=f.get("sensitivity", "public"),
        )
        for f in remote.get("fields") or []
    ]
    resources = [
        ResourceIn(
            name=str(r.get("name") or r.get("url") or "resource")[:300],
            url=str(r.get("url") or ""),
            format=str(r.get("format") or "")[:50],
            description=str(r.get("description") or ""),
            size=r.get("size") if isinstance(r.get("size"), int) and r["size"] >= 0 else None,
            hash=str(r.get("hash") or "")[:200] or None,
        )
        for r in remote.get("resources") or []
    ]
    return DatasetIn(
        name=remote["name"],
        owner_org=_org_for(session, remote),
        title_vi=title[:300],
        title_en=str(remote.get("title_en") or title)[:300],
        notes_vi=notes,
        notes_en=str(remote.get("notes_en") or notes),
        classification=classification if classification in ("open", "internal", "restricted") else "open",
        license_id=str(remote.get("license_id") or "notspecified")[:100],
        themes=[g["name"].upper() for g in remote.get("groups") or [] if "name" in g],
        tags=[t["name"] for t in remote.get("tags") or [] if "name" in t],
        fields=fields,
        resources=resources,
        extras=extras,
    )


def harvest(*, session: Session, from_url: str, timeout_s: float = 30.0, progress: Progress | None = None) -> Outcome:
    """Register (or refresh) every dataset of the portal at ``from_url`` here, marked as harvested from it."""
    source = from_url.rstrip("/")
    api = portal(source, None, timeout_s)
    out = Outcome()
    for remote in remote_packages(api, progress):
        name = str(remote.get("name", ""))
        local = session.scalar(select(Dataset).where(Dataset.name == name))
        if local is not None and local.extras.get("harvest_source") != source:
            out.skipped[name] = "a local dataset has this name"
            continue
        try:
            data = dataset_from(session, remote, source)
        except (ValueError, KeyError) as exc:
            out.skipped[name] = f"unreadable: {_first(exc)}"
            continue
        service.upsert_dataset(session=session, data=data, commit=False)
        (out.created if local is None else out.updated).append(name)
    session.commit()
    return out

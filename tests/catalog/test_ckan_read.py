"""CKAN's read actions, called with the real ckanapi client against a served NDX (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from ckanapi import CKANAPIError, NotAuthorized, NotFound, RemoteCKAN, SearchQueryError
from sqlalchemy.orm import Session

from catalog import service
from catalog.schemas import DatasetIn
from ndx.db import make_engine
from tests.catalog.open_world import OpenWorld, generated_fixture, open_world_fixture  # noqa: F401  (fixtures)

OPEN = "open-enterprise-register"
AGGREGATES = {
    "open-population-by-province-sex-age",
    "open-enterprises-by-province-industry",
    "open-land-by-province-use",
}
CKAN_KEYS = {
    "id", "name", "title", "notes", "owner_org", "organization", "private", "state", "license_id", "tags",
    "extras", "resources", "groups", "metadata_created", "metadata_modified", "num_resources", "num_tags",
}  # fmt: skip


def ckan(w: OpenWorld, who: str | None = None, **kw: Any) -> RemoteCKAN:
    return RemoteCKAN(w.url, apikey=w.tokens[who] if who else None, **kw)


def test_status_list_and_show(open_world: OpenWorld) -> None:
    api = ckan(open_world)
    status = api.action.status_show()
    assert status["site_url"] == open_world.url and status["ckan_version"].startswith("2.")
    names = api.action.package_list()
    assert {OPEN, *AGGREGATES, "population-citizen", "enterprise-enterprise"} <= set(names)
    assert names == sorted(names)
    assert api.action.package_list(limit=2, offset=1) == names[1:3]

    ds = api.action.package_show(id=OPEN)
    assert set(ds) >= CKAN_KEYS
    assert ds["classification"] == "open" and ds["organization"]["name"] == "dkkd" and ds["license_id"] == "cc-by-4.0"
    assert ds["num_resources"] == 2 == len(ds["resources"]) and ds["num_tags"] == len(ds["tags"])
    assert {t["name"] for t in ds["tags"]} >= {"dữ liệu mở", "open data"}
    assert {g["name"] for g in ds["groups"]} == {"econ"}
    assert {"key": "open_data_kind", "value": "register"} in ds["extras"]
    assert "legal_rep_id" not in {f["name"] for f in ds["fields"]}
    by_id = api.action.package_show(id=ds["id"])
    assert by_id["name"] == OPEN

    csv_res = next(r for r in ds["resources"] if r["format"] == "CSV")
    assert csv_res["url"] == f"{open_world.url}/datasets/{OPEN}/download/{OPEN}.csv"
    body = httpx.get(csv_res["url"]).content
    assert len(body) == csv_res["size"] and hashlib.sha256(body).hexdigest() == csv_res["hash"]
    assert api.action.resource_show(id=csv_res["id"])["url"] == csv_res["url"]


def test_non_open_datasets_show_metadata_but_no_data(open_world: OpenWorld) -> None:
    ds = ckan(open_world).action.package_show(id="population-citizen")
    assert ds["classification"] == "restricted"
    assert {f["name"] for f in ds["fields"]} >= {"citizen_id", "full_name"}
    assert ds["resources"] and all(r["format"] == "API" for r in ds["resources"])
    assert all("/download/" not in r["url"] and r["url"].endswith(("/records", "/verify")) for r in ds["resources"])


def test_errors_have_ckan_types_and_statuses(open_world: OpenWorld) -> None:
    api = ckan(open_world)
    with pytest.raises(NotFound):
        api.action.package_show(id="no-such-dataset")
    with pytest.raises(NotFound):
        api.action.organization_show(id="nope")
    with pytest.raises(NotFound):
        api.action.resource_show(id="nope")
    with pytest.raises(NotFound):
        api.action.group_show(id="nope")
    with pytest.raises(SearchQueryError):
        api.action.package_search(fq="flavour:vanilla")
    with pytest.raises(SearchQueryError):
        api.action.package_search(rows="many")
    with pytest.raises(SearchQueryError):
        api.action.package_search(sort="colour desc")
    with pytest.raises(SearchQueryError):
        api.action.package_search(bogus_parameter=1)
    with pytest.raises(SearchQueryError):
        api.action.package_search(**{"facet.field": '["flavour"]'})
    with pytest.raises(NotAuthorized):
        RemoteCKAN(open_world.url, apikey="ndx_not-a-real-token").action.package_show(id=OPEN)
    with pytest.raises(CKANAPIError):
        api.call_action("no_such_action", {})

    for path, body, status, kind in [
        ("package_show", {"id": "nope"}, 404, "Not Found Error"),
        ("package_search", {"fq": "flavour:x"}, 400, "Search Query Error"),
        ("package_create", {"name": "x"}, 403, "Authorization Error"),
    ]:
        for prefix in ("/api/action/", "/api/3/action/"):
            res = httpx.post(open_world.url + prefix + path, json=body)
            assert res.status_code == status, res.text
            data = res.json()
            assert data["success"] is False and data["error"]["__type"] == kind
            assert data["help"].endswith(f"/api/3/action/help_show?name={path}")


def test_get_and_v3_paths_and_bearer(open_world: OpenWorld) -> None:
    got = ckan(open_world, get_only=True).action.package_search(q="doanh nghiệp", rows=3)
    assert got["count"] >= 1
    res = httpx.get(open_world.url + "/api/3/action/package_show", params={"id": OPEN})
    assert res.status_code == 200 and set(res.json()) == {"help", "success", "result"}
    bearer = {"Authorization": f"Bearer {open_world.tokens['admin']}"}
    assert httpx.post(open_world.url + "/api/3/action/package_list", json={}, headers=bearer).json()["success"]
    form = httpx.post(open_world.url + "/api/action/package_show", data={"id": OPEN})
    assert form.json()["result"]["name"] == OPEN


def test_package_search_filters_facets_sort(open_world: OpenWorld) -> None:
    api = ckan(open_world)
    everything = api.action.package_search(rows=0)
    assert everything["count"] >= 10 and everything["results"] == []
    assert set(everything["facets"]) == {"organization", "tags", "res_format", "license_id"}
    assert everything["sort"] == "score desc, metadata_modified desc"

    found = api.action.package_search(
        fq="res_format:CSV license_id:cc-by-4.0",
        **{"facet.field": '["organization","tags","res_format"]', "facet.limit": 5, "facet.mincount": 1},
        rows=100,
        sort="name asc",
    )
    names = [d["name"] for d in found["results"]]
    assert set(names) == {OPEN, *AGGREGATES} and names == sorted(names)
    assert found["count"] == 4 and found["sort"] == "name asc"
    orgs = {i["name"]: i for i in found["search_facets"]["organization"]["items"]}
    assert orgs["dkkd"]["count"] == 2 and orgs["dkkd"]["display_name"].startswith("Cục Quản lý")
    assert found["facets"]["res_format"] == {"CSV": 4, "JSON": 4}
    assert len(found["search_facets"]["tags"]["items"]) <= 5

    by_org = api.action.package_search(fq="organization:dkkd", rows=50)
    assert {d["owner_org"] for d in by_org["results"]} == {"dkkd"} and by_org["count"] == 3
    either = api.action.package_search(fq="organization:(bca OR bnnmt) res_format:CSV")
    assert {d["name"] for d in either["results"]} == {
        "open-population-by-province-sex-age",
        "open-land-by-province-use",
    }
    tagged = api.action.package_search(q='tags:"thống kê"')
    assert {d["name"] for d in tagged["results"]} == AGGREGATES
    named = api.action.package_search(fq=f"name:{OPEN}")
    assert [d["name"] for d in named["results"]] == [OPEN] and named["count"] == 1
    text = api.action.package_search(q="dan so", fq="license_id:cc-by-4.0")
    assert [d["name"] for d in text["results"]] == ["open-population-by-province-sex-age"]
    assert api.action.package_search(fq="tags:no-such-tag")["count"] == 0

    # CKAN's groups are NDX's data themes: a facet and a filter, named as group_list names them
    themed = api.action.package_search(fq="groups:econ", rows=100, **{"facet.field": '["groups"]', "facet.limit": -1})
    econ = api.action.group_show(id="econ")
    assert themed["count"] == econ["package_count"] >= 3
    assert all("econ" in {g["name"] for g in d["groups"]} for d in themed["results"])
    groups = {i["name"]: i for i in themed["search_facets"]["groups"]["items"]}
    assert groups["econ"]["count"] == themed["count"] and groups["econ"]["display_name"] == econ["title"]
    assert set(themed["facets"]["groups"]) <= set(api.action.group_list())
    either = api.action.package_search(fq="groups:(econ OR envi)", rows=0)["count"]
    assert either > themed["count"]
    one = api.action.package_search(fq=f"name:{OPEN}", **{"facet.field": '["groups"]'})
    shown = api.action.package_show(id=OPEN)
    assert one["facets"]["groups"] == {g["name"]: 1 for g in shown["groups"]} != {}


def test_organizations_groups_tags_licences_help(open_world: OpenWorld) -> None:
    api = ckan(open_world)
    orgs = api.action.organization_list()
    assert {"bca", "bhxh", "bnnmt", "dkkd"} <= set(orgs)
    full = {o["name"]: o for o in api.action.organization_list(all_fields=True)}
    assert full["dkkd"]["package_count"] == 3 and full["dkkd"]["is_organization"] is True
    shown = api.action.organization_show(id="bnnmt", include_datasets=True)
    assert shown["package_count"] == 3 and {p["name"] for p in shown["packages"]} >= {"open-land-by-province-use"}
    groups = api.action.group_list()
    assert {"econ", "soci", "regi", "envi"} <= set(groups)
    econ = api.action.group_show(id="econ")
    assert econ["package_count"] >= 3 and econ["title_en"] == "Economy and finance"
    assert {g["name"] for g in api.action.group_list(all_fields=True)} == set(groups)
    tags = api.action.tag_list()
    assert "dữ liệu mở" in tags and tags == sorted(tags)
    assert set(api.action.tag_list(query="open")) == {"open data"}
    licences = {lic["id"]: lic for lic in api.action.license_list()}
    assert licences["cc-by-4.0"]["od_conformance"] == "approved"
    assert "CKAN's parameters" in api.action.help_show(name="package_search")
    current = api.action.current_package_list_with_resources(limit=3)
    assert len(current) == 3 and all("resources" in d for d in current)
    stamps = [d["metadata_modified"] for d in current]
    assert stamps == sorted(stamps, reverse=True)


def test_paging_past_a_thousand_results(open_world: OpenWorld) -> None:
    engine = make_engine(open_world.settings.platform_url)
    with Session(engine) as session:
        for i in range(1100):
            data = DatasetIn(
                name=f"bulk-{i:04d}", owner_org="ndx", title_vi=f"Lô {i}", title_en=f"Batch {i}", tags=["bulk"]
            )
            service.upsert_dataset(session=session, data=data, commit=False)
        session.commit()
    engine.dispose()
    api = ckan(open_world)
    first = api.action.package_search(fq="tags:bulk", rows=1000, sort="name asc")
    assert first["count"] == 1100 and len(first["results"]) == 1000
    rest = api.action.package_search(fq="tags:bulk", rows=1000, start=1000, sort="name asc")
    assert len(rest["results"]) == 100
    names = [d["name"] for d in first["results"] + rest["results"]]
    assert names == [f"bulk-{i:04d}" for i in range(1100)]
    middle = api.action.package_search(fq="tags:bulk", rows=5, start=997, sort="name asc")
    assert [d["name"] for d in middle["results"]] == [f"bulk-{i:04d}" for i in range(997, 1002)]
    capped = api.action.package_search(fq="tags:bulk", rows=5000)
    assert len(capped["results"]) == 1000
    listed = api.action.package_list()
    assert len([n for n in listed if n.startswith("bulk-")]) == 1100

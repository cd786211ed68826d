from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from catalog import router as catalog_router
from catalog import service
from catalog.sync import sync_catalog
from tests.catalog.conftest import SourceFactory, open_sources, sample_dataset
from tests.helpers import app_client, make_settings


@pytest.fixture
def client(tmp_path: Path, platform_url: str, session: Session, make_sources: SourceFactory) -> Iterator[TestClient]:
    urls = make_sources()
    sources = open_sources(urls)
    assert sync_catalog(session=session, sources=sources).ok
    sources.dispose()
    service.register_dataset(session=session, data=sample_dataset("dan-so-tinh", title_vi="Dân số theo tỉnh"))
    service.register_dataset(session=session, data=sample_dataset("f-private", private=True))
    settings = make_settings(tmp_path, platform_url, **{f"source_{k}": v for k, v in urls.items()})
    with app_client(settings) as c:
        yield c


def test_search_api_lists_with_facets_and_cursor(client: TestClient) -> None:
    res = client.get("/api/v1/datasets", params={"q": "dan cu"})
    assert res.status_code == 200
    body = res.json()
    assert set(body) == {"items", "next_cursor", "count", "facets"}
    assert [d["name"] for d in body["items"]] == ["population-citizen"]
    assert body["facets"]["organization"] == [
        {"value": "bca", "label": "Bộ Công an (Cơ sở dữ liệu quốc gia về dân cư)", "count": 1}
    ]
    assert set(body["facets"]) == {"organization", "source", "classification", "theme", "tag", "format", "license"}

    everything = client.get("/api/v1/datasets", params={"limit": 2, "sort": "name"}).json()
    assert everything["count"] == 7 and len(everything["items"]) == 2
    names = [d["name"] for d in everything["items"]]
    cursor = everything["next_cursor"]
    while cursor:
        page = client.get("/api/v1/datasets", params={"limit": 2, "sort": "name", "cursor": cursor}).json()
        names += [d["name"] for d in page["items"]]
        cursor = page["next_cursor"]
    assert names == sorted(names) and len(names) == 7

    apis = client.get("/api/v1/datasets", params={"format": "api"}).json()
    assert apis["count"] == 6  # every source dataset is reached through the query API
    open_only = client.get("/api/v1/datasets", params=[("classification", "open"), ("format", "CSV")]).json()
    assert [d["name"] for d in open_only["items"]] == ["dan-so-tinh"]
    assert open_only["items"][0]["formats"] == ["CSV"]
    english = client.get("/api/v1/datasets", params={"lang": "en", "tag": "đất đai"}).json()
    assert {f["label"] for f in english["facets"]["source"]} == {"National Land Database"}
    economy = client.get("/api/v1/datasets", params={"theme": "ECON", "sort": "name", "lang": "en"}).json()
    assert [d["name"] for d in economy["items"]] == ["enterprise-enterprise", "insurance-contribution"]
    themes = {f["value"]: f for f in economy["facets"]["theme"]}
    assert themes["ECON"] == {"value": "ECON", "label": "Economy and finance", "count": 2}
    assert themes["SOCI"]["count"] == 1  # the contributions; the facet counts within the filtered set


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "@@@"}, "cursor"),
        ({"sort": "popularity"}, "sort"),
    ],
)
def test_bad_paging_parameters_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, object], named: str
) -> None:
    res = client.get("/api/v1/datasets", params=params)
    assert res.status_code == 422
    error = res.json()["error"]
    assert error["code"] == "invalid"
    assert named in error["message"]


def test_dataset_detail_has_fields_sensitivity_and_purposes(client: TestClient) -> None:
    res = client.get("/api/v1/datasets/population-citizen")
    assert res.status_code == 200
    d = res.json()
    assert d["owner_org"] == "bca" and d["organization"]["code"] == "bca"
    assert d["title"].startswith("Công dân") and d["title_en"].startswith("Citizens")
    assert d["notes"] and d["notes_en"]
    assert d["classification"] == "restricted" and d["table"] == "citizen" and d["source"] == "population"
    assert d["row_count"] == 0 and d["quality_score"] is None and d["metadata_modified"]
    apis = {r["url"]: r["format"] for r in d["resources"]}
    assert apis == {
        "/api/v1/datasets/population-citizen/records": "API",
        "/api/v1/datasets/population-citizen/verify": "API",
    }
    field = next(f for f in d["fields"] if f["name"] == "ethnicity")
    assert field == {
        "name": "ethnicity",
        "type": "VARCHAR(30)",
        "nullable": False,
        "description": "Dân tộc",
        "description_en": "Ethnicity",
        "sensitivity": "sensitive-personal",
    }
    assert {"code": "identity-verification", "kind": "verify"}.items() <= next(
        p for p in d["purposes"] if p["code"] == "identity-verification"
    ).items()

    hand = client.get("/api/v1/datasets/dan-so-tinh").json()
    assert hand["source"] is None and hand["purposes"] == []
    assert hand["resources"][0]["format"] == "csv" and hand["resources"][0]["size"] == 10

    assert client.get("/api/v1/datasets/f-private").status_code == 404  # private datasets are not public

    missing = client.get("/api/v1/datasets/no-such-dataset")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_organizations_with_dataset_counts(client: TestClient) -> None:
    body = client.get("/api/v1/organizations").json()
    counts = {o["code"]: o["dataset_count"] for o in body["items"]}
    assert counts["bca"] == 2 and counts["bhxh"] == 2 and counts["bnnmt"] == 2 and counts["dkkd"] == 1
    assert counts["thue"] == 0
    first = client.get("/api/v1/organizations", params={"limit": 2}).json()
    rest = client.get("/api/v1/organizations", params={"limit": 1000, "cursor": first["next_cursor"]}).json()
    assert [o["code"] for o in first["items"] + rest["items"]] == [o["code"] for o in body["items"]]
    one = client.get("/api/v1/organizations/bhxh").json()
    assert one["name_en"] == "Vietnam Social Security" and one["dataset_count"] == 2
    assert client.get("/api/v1/organizations/nope").status_code == 404
    assert client.get("/api/v1/organizations", params={"cursor": "x"}).status_code == 422


def test_openapi_documents_every_catalog_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for route in catalog_router.router.routes:
        assert isinstance(route, APIRoute)
        assert route.response_model is not None, route.path
        operation = schema["paths"][route.path]["get"]
        assert "200" in operation["responses"]
        documented = {code for code in operation["responses"] if code != "200"}
        expected = {"422"} if "{" not in route.path else {"404", "422"}
        assert expected <= documented, (route.path, documented)
        for code in documented:
            ref = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorResponse"), (route.path, code, ref)

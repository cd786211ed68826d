"""CKAN write actions with ckanapi, and ``ndx catalog publish`` / ``ndx catalog harvest`` between two NDX
instances served over loopback (the second one stands in for any CKAN portal)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ckanapi import NotAuthorized, NotFound, RemoteCKAN, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from catalog.models import Dataset
from ndx import server
from ndx.cli import app
from ndx.db import make_engine
from tests.catalog.open_world import OpenWorld, generated_fixture, open_world_fixture, platform_url_for  # noqa: F401
from tests.e2e.conftest import serve
from tests.helpers import make_settings
from tests.policies.world import seed_accounts

OPEN = {
    "open-enterprise-register",
    "open-population-by-province-sex-age",
    "open-enterprises-by-province-industry",
    "open-land-by-province-use",
}


@dataclass
class Portal:
    url: str
    tokens: dict[str, str]
    database_url: str
    data_dir: Path


@pytest.fixture(scope="module")
def portal(
    open_world: OpenWorld, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Portal]:
    """A second, empty NDX (same backend as the first) with its own accounts, served on loopback."""
    folder = tmp_path_factory.mktemp("portal")
    backend = "sqlite" if open_world.settings.platform_url.startswith("sqlite") else "postgresql"
    settings = make_settings(folder, platform_url_for(backend, folder, request))
    server.migrate(settings)
    tokens = seed_accounts(settings.platform_url)
    with serve(settings, migrate=False) as url:
        yield Portal(url, tokens, settings.platform_url, folder)


def test_write_actions(portal: Portal) -> None:
    admin = RemoteCKAN(portal.url, apikey=portal.tokens["admin"])
    created = admin.action.package_create(
        name="bang-gia-dat",
        title="Bảng giá đất",
        notes="Giá đất theo tỉnh",
        owner_org="bnnmt",
        license_id="cc-by-4.0",
        tags=[{"name": "đất đai"}],
        extras=[{"key": "nguon", "value": "UBND"}],
        groups=[{"name": "envi"}],
        resources=[{"name": "CSV", "url": "https://example.invalid/gia.csv", "format": "csv"}],
    )
    assert created["name"] == "bang-gia-dat" and created["organization"]["name"] == "bnnmt"
    assert created["groups"][0]["name"] == "envi" and created["num_resources"] == 1
    res_id = created["resources"][0]["id"]

    with pytest.raises(ValidationError) as dup:
        admin.action.package_create(name="bang-gia-dat", owner_org="bnnmt")
    assert "name" in dup.value.error_dict
    with pytest.raises(ValidationError) as bad_org:
        admin.action.package_create(name="khac", owner_org="no-such-org")
    assert "owner_org" in bad_org.value.error_dict
    with pytest.raises(ValidationError) as bad_name:
        admin.action.package_create(name="Không Hợp Lệ", owner_org="bnnmt")
    assert "name" in bad_name.value.error_dict
    with pytest.raises(NotAuthorized):
        RemoteCKAN(portal.url, apikey=portal.tokens["hcm_dev"]).action.package_create(name="x1", owner_org="bnnmt")
    with pytest.raises(NotAuthorized):
        RemoteCKAN(portal.url).action.package_delete(id="bang-gia-dat")

    patched = admin.action.package_patch(id=created["id"], notes="Cập nhật")
    assert patched["notes"] == "Cập nhật" and patched["title"] == "Bảng giá đất"
    assert patched["resources"][0]["id"] == res_id and {t["name"] for t in patched["tags"]} == {"đất đai"}

    whole = admin.action.package_show(id="bang-gia-dat")
    whole["title"] = "Bảng giá đất 2026"
    updated = admin.action.package_update(**whole)
    assert updated["title"] == "Bảng giá đất 2026" and updated["resources"][0]["id"] == res_id

    added = admin.action.resource_create(
        package_id="bang-gia-dat", name="JSON", url="https://example.invalid/g.json", format="JSON"
    )
    assert admin.action.resource_show(id=added["id"])["format"] == "JSON"
    assert admin.action.package_show(id="bang-gia-dat")["num_resources"] == 2
    found = admin.action.package_search(fq="res_format:JSON")
    assert [d["name"] for d in found["results"]] == ["bang-gia-dat"]

    admin.action.package_delete(id="bang-gia-dat")
    with pytest.raises(NotFound):
        RemoteCKAN(portal.url).action.package_show(id="bang-gia-dat")
    assert "bang-gia-dat" not in admin.action.package_list()
    with pytest.raises(ValidationError):  # the name stays taken, as in CKAN
        admin.action.package_create(name="bang-gia-dat", owner_org="bnnmt")


def _env(monkeypatch: pytest.MonkeyPatch, database_url: str, data_dir: Path) -> None:
    monkeypatch.setenv("NDX_DATA_DIR", str(data_dir))
    monkeypatch.setenv("NDX_DATABASE_URL", database_url)


def test_publish_is_idempotent(open_world: OpenWorld, portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, open_world.settings.platform_url, open_world.data_dir)
    runner = CliRunner()
    args = ["catalog", "publish", "--to", portal.url, "--token", portal.tokens["admin"], "--site-url", open_world.url]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "4 created, 0 updated, 0 skipped" in first.output
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "0 created, 4 updated, 0 skipped" in second.output

    there = RemoteCKAN(portal.url)
    published = there.action.package_search(fq="license_id:cc-by-4.0", rows=100)
    assert {d["name"] for d in published["results"]} >= OPEN and published["count"] == len(OPEN)
    register = there.action.package_show(id="open-enterprise-register")
    assert len(register["resources"]) == 2
    assert {r["url"] for r in register["resources"]} == {
        f"{open_world.url}/datasets/open-enterprise-register/download/open-enterprise-register.{ext}"
        for ext in ("csv", "json")
    }
    assert register["classification"] == "open" and register["owner_org"] == "dkkd"

    refused = runner.invoke(app, ["catalog", "publish", "--to", portal.url, "--token", "ndx_wrong"])
    assert refused.exit_code == 1
    assert "refused the key" in refused.output and "Traceback" not in refused.output


def test_harvest_marks_and_refreshes(open_world: OpenWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'harvester.db'}")
    server.migrate(settings)
    _env(monkeypatch, settings.platform_url, tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["catalog", "harvest", "--from", open_world.url])
    assert first.exit_code == 0, first.output
    remote_names = set(RemoteCKAN(open_world.url).action.package_list())
    assert f"{len(remote_names)} created, 0 updated" in first.output
    second = runner.invoke(app, ["catalog", "harvest", "--from", open_world.url])
    assert f"0 created, {len(remote_names)} updated" in second.output

    engine = make_engine(settings.platform_url)
    with Session(engine) as session:
        rows = {d.name: d for d in session.scalars(select(Dataset))}
        assert set(rows) == remote_names
        register = rows["open-enterprise-register"]
        assert register.extras["harvest_source"] == open_world.url
        remote = RemoteCKAN(open_world.url).action.package_show(id="open-enterprise-register")
        assert register.extras["harvest_object_id"] == remote["id"]
        assert register.owner_org == "dkkd" and register.organization.name_vi.startswith("Cục Quản lý")
        assert register.classification == "open" and len(register.resources) == 2
        assert rows["population-citizen"].classification == "restricted"
    engine.dispose()

    down = runner.invoke(app, ["catalog", "harvest", "--from", "http://127.0.0.1:9", "--timeout", "2"])
    assert down.exit_code == 1
    assert "cannot reach http://127.0.0.1:9" in down.output and "Traceback" not in down.output

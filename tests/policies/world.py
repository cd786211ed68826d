"""A small world for access tests: four sources with a few hundred synthetic rows, the agencies, their users
and tokens, and an app client. Users and grants go through the real entry points (services and the API)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session

from connectors import schema
from connectors.engines import source_engine
from ndx.db import make_engine
from policies import service as org_service
from policies import users
from tests.helpers import app_client, make_settings

PROVINCES = ("01", "48", "79")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng")
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Ngọc")
GIVEN = ("An", "Bình", "Hùng", "Thủy", "Hòa", "Lan", "Đức", "Mai", "Thúy")
PASSWORD = "correct horse battery staple"

# who -> (email, org, role)
ACCOUNTS: dict[str, tuple[str, str, str]] = {
    "bca_steward": ("steward@bca.gov.vn", "bca", "steward"),
    "bhxh_steward": ("steward@bhxh.gov.vn", "bhxh", "steward"),
    "bnnmt_steward": ("steward@bnnmt.gov.vn", "bnnmt", "steward"),
    "dkkd_steward": ("steward@dkkd.gov.vn", "dkkd", "steward"),
    "hcm_dev": ("dev@ubnd-hcm.gov.vn", "ubnd-hcm", "developer"),
    "hcm_steward": ("steward@ubnd-hcm.gov.vn", "ubnd-hcm", "steward"),
    "thue_dev": ("dev@thue.gov.vn", "thue", "developer"),
    "thue_steward": ("steward@thue.gov.vn", "thue", "steward"),
    "bhxh_dev": ("dev@bhxh.gov.vn", "bhxh", "developer"),
    "admin": ("admin@ndx.gov.vn", "ndx", "admin"),
}
STEWARD_OF = {"bca": "bca_steward", "bhxh": "bhxh_steward", "bnnmt": "bnnmt_steward", "dkkd": "dkkd_steward"}


def citizen_rows(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        born = date(1950, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 60))
        sex = rnd.choice("MF")
        prov = PROVINCES[i % len(PROVINCES)]
        century = (0 if born.year < 2000 else 2) + (1 if sex == "F" else 0)
        cid = f"0{prov}{century}{born.year % 100:02d}{i:06d}"
        name = f"{rnd.choice(FAMILY)} {'Thị' if sex == 'F' else rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}"
        rows.append(
            {
                "citizen_id": cid,
                "full_name": name,
                "date_of_birth": born,
                "sex": sex,
                "ethnicity": rnd.choice(("Kinh", "Tày", "Khmer")),
                "birth_province": prov,
                "province_code": prov if rnd.random() < 0.8 else rnd.choice(PROVINCES),
                "address": f"Số {i + 1} đường Lê Lợi, phường Bến Nghé, quận {i % 12 + 1}",
                "household_id": f"H{prov}{i // 3:09d}",
                "status": "alive" if rnd.random() < 0.95 else "deceased",
                "date_of_death": None,
                "updated_at": datetime(2025, 1, 1, 8, 0, 0),
            }
        )
    return rows


def write_sources(folder: Path, people: int = 300) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Four SQLite sources: citizens, insured persons for a third of them, land rights, enterprises."""
    urls: dict[str, str] = {}
    citizens = citizen_rows(people)
    for name, metadata in schema.SOURCES.items():
        url = f"sqlite:///{folder / (name + '.db')}"
        engine = source_engine(url, writable=True)
        metadata.create_all(engine)
        with engine.begin() as conn:
            if name == "population":
                conn.execute(insert(schema.citizen), citizens)
            elif name == "insurance":
                insured = [
                    {
                        "insurance_id": f"{c['province_code']}{i:08d}",
                        "citizen_id": c["citizen_id"],
                        "full_name": c["full_name"],
                        "date_of_birth": c["date_of_birth"],
                        "sex": c["sex"],
                        "province_code": c["province_code"],
                        "registered_on": date(2015, 1, 1),
                    }
                    for i, c in enumerate(citizens[::3])
                ]
                conn.execute(insert(schema.insured_person), insured)
            elif name == "land":
                parcels = [
                    {
                        "parcel_id": f"79-{20000 + i:05d}-1-{i}",
                        "province_code": "79",
                        "ward_code": f"{20000 + i:05d}",
                        "map_sheet": 1,
                        "parcel_no": i,
                        "area_m2": 100.5 + i,
                        "land_use": "ODT",
                        "address": f"Thửa {i}",
                    }
                    for i in range(40)
                ]
                conn.execute(insert(schema.parcel), parcels)
                rights = [
                    {
                        "right_id": i + 1,
                        "parcel_id": p["parcel_id"],
                        "certificate_no": f"CS {i:05d}",
                        "holder_kind": "citizen",
                        "holder_id": citizens[i]["citizen_id"],
                        "holder_name": citizens[i]["full_name"],
                        "share": 1.0,
                        "issued_on": date(2010, 1, 1) + timedelta(days=30 * i),
                    }
                    for i, p in enumerate(parcels)
                ]
                conn.execute(insert(schema.land_right), rights)
            elif name == "enterprise":
                ents = [
                    {
                        "enterprise_code": f"01{i:07d}0",
                        "name": f"CÔNG TY TNHH SỐ {i}",
                        "legal_form": "TNHH1TV",
                        "province_code": "01",
                        "address": f"Số {i} Hà Nội",
                        "industry_code": "6201",
                        "charter_capital": 1_000_000_000,
                        "legal_rep_id": citizens[i]["citizen_id"],
                        "legal_rep_name": citizens[i]["full_name"],
                        "registered_on": date(2020, 1, 1),
                        "status": "active",
                    }
                    for i in range(30)
                ]
                conn.execute(insert(schema.enterprise_table), ents)
        engine.dispose()
        urls[f"source_{name}"] = url
    return urls, citizens


def seed_accounts(database_url: str, *, passwords: bool = False) -> dict[str, str]:
    """Organizations and the accounts of ACCOUNTS; returns a token per account."""
    engine = make_engine(database_url)
    tokens: dict[str, str] = {}
    with Session(engine) as session:
        org_service.seed_organizations(session=session, by="test")
        users.add_organization(session=session, by="test", code="ndx", name="NDX platform", kind="platform")
        for who, (email, org, role) in ACCOUNTS.items():
            user = users.add_user(
                session=session, by="test", email=email, org=org, role=role, password=PASSWORD if passwords else None
            )
            _, tokens[who] = users.issue_token(session=session, by="test", email=user.email, days=30)
        session.commit()
    engine.dispose()
    return tokens


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    citizens: list[dict[str, Any]]
    database_url: str
    settings: Any
    grants: dict[str, int] = field(default_factory=dict)

    def h(self, who: str | None, purpose: str | None = None, case: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        if purpose:
            headers["X-NDX-Purpose"] = purpose
        if case:
            headers["X-NDX-Case"] = case
        return headers

    def request(self, who: str, dataset: str, fields: list[str], purpose: str, **extra: Any) -> dict[str, Any]:
        body = {
            "dataset": dataset,
            "fields": fields,
            "purpose": purpose,
            "legal_basis": "Nghị định 13/2023",
            "days": 30,
        }
        body.update(extra)
        res = self.client.post("/api/v1/access-requests", json=body, headers=self.h(who))
        assert res.status_code == 201, res.text
        data: dict[str, Any] = res.json()
        return data

    def grant(
        self,
        who: str,
        dataset: str,
        fields: list[str],
        purpose: str,
        approve: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> int:
        """Request as ``who``, approve as the owning steward; the grant id."""
        req = self.request(who, dataset, fields, purpose, **extra)
        steward = STEWARD_OF[req["owner"]]
        res = self.client.post(
            f"/api/v1/access-requests/{req['id']}/approve", json=dict(approve or {}), headers=self.h(steward)
        )
        assert res.status_code == 200, res.text
        gid: int = res.json()["grant"]["id"]
        return gid


@contextmanager
def make_world(
    tmp_path: Path, database_url: str | None = None, *, people: int = 300, **overrides: Any
) -> Iterator[World]:
    urls, citizens = write_sources(tmp_path / "sources", people)
    settings = make_settings(tmp_path, database_url, **urls, **overrides)
    from ndx import server

    server.migrate(settings)
    tokens = seed_accounts(settings.platform_url, passwords=bool(overrides.get("secret_key")))
    with app_client(settings, migrate=False) as client:
        yield World(client, tokens, citizens, settings.platform_url, settings)


@pytest.fixture(name="world")
def world_fixture(tmp_path: Path, new_database_url: Callable[[str], str]) -> Iterator[World]:
    """A world on the test's backend (SQLite, and PostgreSQL when NDX_TEST_POSTGRES_URL is set)."""
    with make_world(tmp_path, new_database_url("platform")) as w:
        yield w

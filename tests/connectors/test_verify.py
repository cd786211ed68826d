"""The verify API: yes/no per field, names compared after normalisation, no data returned, audited."""

from __future__ import annotations

import unicodedata

import pytest

from connectors.verify import compare
from tests.policies.world import World, world_fixture  # noqa: F401  (fixture)

URL = "/api/v1/datasets/population-citizen/verify"


@pytest.fixture
def granted(world: World) -> World:
    world.grant("thue_dev", "population-citizen", ["full_name", "date_of_birth"], "identity-verification")
    return world


def test_yes_no_per_field_and_no_data(granted: World) -> None:
    w = granted
    person = next(p for p in w.citizens if "Thủy" in p["full_name"] or "Hòa" in p["full_name"])
    variant = unicodedata.normalize("NFD", person["full_name"].upper().replace(" ", "  "))
    variant = variant.replace("U\u0309Y", "UY\u0309").replace("O\u0300A", "OA\u0300")  # old/new tone placement
    body = {"citizen_id": person["citizen_id"], "full_name": variant, "date_of_birth": "1900-01-01"}
    res = w.client.post(URL, json=body, headers=w.h("thue_dev", "identity-verification", "HS-9"))
    assert res.status_code == 200, res.text
    assert res.json() == {"match": False, "fields": {"full_name": True, "date_of_birth": False}}
    assert person["citizen_id"] not in res.text and person["full_name"] not in res.text

    body["date_of_birth"] = person["date_of_birth"].isoformat()
    ok = w.client.post(URL, json=body, headers=w.h("thue_dev", "identity-verification"))
    assert ok.json() == {"match": True, "fields": {"full_name": True, "date_of_birth": True}}

    folded = {"citizen_id": person["citizen_id"], "full_name": "Nguyen Van Khong Co Dau"}
    assert w.client.post(URL, json=folded, headers=w.h("thue_dev", "identity-verification")).json()["match"] is False

    nobody = {"citizen_id": "079095999999", "full_name": person["full_name"]}
    assert w.client.post(URL, json=nobody, headers=w.h("thue_dev", "identity-verification")).json() == {
        "match": False,
        "fields": {"full_name": False},
    }

    reads = w.client.get(f"/api/v1/subjects/{person['citizen_id']}/reads", headers=w.h("bca_steward")).json()["items"]
    assert [(r["kind"], r["org"], r["case"]) for r in reads][-1] == ("verify", "thue", "HS-9")
    assert reads[-1]["fields"] == ["date_of_birth", "full_name"]


def test_verify_needs_a_verify_grant_covering_the_fields(granted: World) -> None:
    w = granted
    cid = w.citizens[0]["citizen_id"]
    cases = [
        ({"citizen_id": cid, "sex": "M"}, "thue_dev", "identity-verification", 403, "sex"),
        ({"citizen_id": cid, "full_name": "A"}, "thue_dev", "tax-administration", 403, "query"),
        ({"citizen_id": cid, "full_name": "A"}, "hcm_dev", "identity-verification", 403, "no grant"),
        ({"citizen_id": cid, "full_name": "A"}, "thue_dev", None, 422, "X-NDX-Purpose"),
        ({"citizen_id": cid}, "thue_dev", "identity-verification", 422, "at least one field"),
        ({"citizen_id": "07909501234５", "full_name": "A"}, "thue_dev", "identity-verification", 422, "citizen_id"),
        ({"citizen_id": cid, "full_name": 5}, "thue_dev", "identity-verification", 422, "full_name"),
        ({"citizen_id": cid, "full_name": ""}, "thue_dev", "identity-verification", 422, "full_name"),
    ]
    for body, who, purpose, status, words in cases:
        res = w.client.post(URL, json=body, headers=w.h(who, purpose))
        assert res.status_code == status, (body, res.text)
        assert words in res.text, (words, res.text)
    assert w.client.post(URL, json={"citizen_id": cid, "full_name": "A"}).status_code == 401


def test_verify_a_land_right_holder_by_the_subject_column(world: World) -> None:
    w = world
    w.grant("thue_dev", "land-land-right", ["holder_name"], "holder-verification")
    holder = w.citizens[2]
    res = w.client.post(
        "/api/v1/datasets/land-land-right/verify",
        json={"citizen_id": holder["citizen_id"], "holder_name": holder["full_name"].lower()},
        headers=w.h("thue_dev", "holder-verification"),
    )
    assert res.status_code == 200 and res.json()["match"] is True


def test_compare_is_per_field_over_all_records() -> None:
    rows = [{"full_name": "Lê Văn Hòa", "sex": "M"}, {"full_name": "Lê Văn Hoà", "sex": "F"}]
    assert compare(rows, {"full_name": "LÊ VĂN HOÀ", "sex": "F"}) == (True, {"full_name": True, "sex": True})
    assert compare([], {"full_name": "x"}) == (False, {"full_name": False})

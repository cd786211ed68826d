"""The query API: filters on declared columns only, bound selects, the grant's row filter, masking, keyset
paging, clear 4xx for hostile input, the time limit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors import query as q
from connectors.engines import source_engine
from connectors.schema import citizen
from ndx.errors import Invalid, Unavailable
from policies.rules_model import dataset_rules
from tests.policies.world import World, world_fixture, write_sources  # noqa: F401  (fixture)

RULE = dataset_rules()["population-citizen"]
URL = "/api/v1/datasets/population-citizen/records"
FIELDS = ["citizen_id", "full_name", "date_of_birth", "sex", "province_code", "address", "household_id"]


@pytest.fixture
def granted(world: World) -> World:
    world.grants["hcm"] = world.grant("hcm_dev", "population-citizen", FIELDS, "social-assistance")
    return world


def get(w: World, query: str, who: str = "hcm_dev", purpose: str | None = "social-assistance") -> tuple[int, dict]:  # type: ignore[type-arg]
    res = w.client.get(f"{URL}?{query}", headers=w.h(who, purpose))
    return res.status_code, res.json()


def test_equality_lists_ranges_and_masking(granted: World) -> None:
    w = granted
    people = w.citizens
    one = people[5]
    status, body = get(w, f"citizen_id={one['citizen_id']}&fields=citizen_id,full_name,address")
    assert status == 200
    [item] = body["items"]
    assert set(item) == {"citizen_id", "full_name", "address"}
    cid = one["citizen_id"]
    assert item["citizen_id"] == cid[:4] + "*****" + cid[-3:]
    assert item["full_name"] == one["full_name"]
    assert item["address"].endswith(one["address"][-12:]) and item["address"].startswith("*")

    ids = [p["citizen_id"] for p in people[:3]]
    _, a = get(w, f"citizen_id={','.join(ids)}&fields=full_name")
    _, b = get(w, "&".join(f"citizen_id={i}" for i in ids) + "&fields=full_name")
    assert len(a["items"]) == 3 and a == b

    _, r = get(w, "date_of_birth__gte=1980-01-01&date_of_birth__lt=1990-01-01&limit=1000&fields=date_of_birth")
    expected = [p for p in people if "1980-01-01" <= p["date_of_birth"].isoformat() < "1990-01-01"]
    assert len(r["items"]) == len(expected) > 0
    assert all("1980" <= i["date_of_birth"][:4] < "1990" for i in r["items"])

    _, r = get(w, "province_code=79&sex=F&limit=1000&fields=sex,province_code")
    assert len(r["items"]) == len([p for p in people if p["province_code"] == "79" and p["sex"] == "F"])


def test_keyset_paging_walks_every_row_once(granted: World) -> None:
    w = granted
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=70&fields=household_id,citizen_id" + (f"&cursor={cursor}" if cursor else "")
        status, body = get(w, query)
        assert status == 200
        seen += [i["household_id"] + i["citizen_id"][-3:] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 5 and len(seen) == len(w.citizens) == len(set(seen))
    assert get(w, "cursor=not-a-cursor")[0] == 422


def test_the_grants_row_filter_is_anded_in(world: World) -> None:
    w = world
    w.grant(
        "hcm_dev",
        "population-citizen",
        ["citizen_id", "province_code"],
        "social-assistance",
        row_filter={"province_code": ["79"]},
    )
    _, body = get(w, "limit=1000")
    assert {i["province_code"] for i in body["items"]} == {"79"}
    assert len(body["items"]) == len([p for p in w.citizens if p["province_code"] == "79"])
    _, other = get(w, "province_code=01")
    assert other["items"] == []
    outside = next(p for p in w.citizens if p["province_code"] != "79")
    assert get(w, f"citizen_id={outside['citizen_id']}")[1]["items"] == []


def test_fields_purpose_and_filters_are_checked(granted: World) -> None:
    w = granted
    status, body = get(w, "fields=full_name,ethnicity")
    assert status == 403 and "ethnicity" in body["error"]["message"]
    assert body["error"]["details"] == {"denied_fields": ["ethnicity"]}
    status, body = get(w, "fields=full_name,salary")
    assert status == 403 and "salary" in body["error"]["message"]
    status, body = get(w, "full_name=Nguyen")
    assert status == 422 and "'full_name' is not a filter" in body["error"]["message"]
    status, body = get(w, "sex__gte=F")
    assert status == 422 and "dates and numbers" in body["error"]["message"]
    status, body = get(w, "sex__like=F")
    assert status == 422 and "like" in body["error"]["message"]
    status, body = get(w, "limit=0")
    assert status == 422 and "limit" in body["error"]["message"]
    assert get(w, "", purpose=None)[0] == 422
    assert get(w, "", purpose="tax-administration")[0] == 403
    assert get(w, "", who="thue_dev")[0] == 403
    assert w.client.get(URL).status_code == 401
    assert w.client.get("/api/v1/datasets/nope/records", headers=w.h("hcm_dev", "x")).status_code == 404


HOSTILE = [
    "' OR 1=1 --",
    "079095012345' OR '1'='1",
    "1; DROP TABLE citizen",
    "０７９０９５０１２３４５",  # full-width digits
    "0790950123\u200b45",  # zero-width space
    "07909501234５",
    "%",
    "*",
    "",
    "x" * 500,
    "1980-02-30",
    "\u202e543210590970",  # right-to-left override
]


@pytest.mark.parametrize("column", RULE.filter_columns)
def test_hostile_values_in_every_filter_are_a_clear_422(granted: World, column: str) -> None:
    for value in HOSTILE:
        for param in (column, f"{column}__in"):
            status, body = get(granted, f"{param}={value}")
            assert status == 422, (param, value, body)
            message = body["error"]["message"]
            assert message.startswith(column) and ("not" in message or "exactly" in message), message


def test_select_is_bound_never_string_sql() -> None:
    from policies.decide import ANONYMOUS  # noqa: F401

    params = q.parse_params(RULE, citizen, [("citizen_id", "079095012345"), ("date_of_birth__gte", "1990-01-01")])
    compiled = q.compile_select(
        citizen, RULE, fields=["full_name"], row_filter={"province_code": ["79"]}, filters=params.filters, limit=10
    )
    sql = str(compiled.stmt.compile())
    assert "079095012345" not in sql and "'79'" not in sql and "1990" not in sql
    assert compiled.params == {"rf0": ["79"], "f0": "079095012345", "f1": date(1990, 1, 1)}
    again = q.compile_select(
        citizen, RULE, fields=["full_name"], row_filter={"province_code": ["01"]}, filters=params.filters, limit=10
    )
    assert again.stmt is compiled.stmt  # one statement per shape: values are parameters
    with pytest.raises(Invalid):
        q.parse_params(RULE, citizen, [("citizen_id", "' OR 1=1 --")])


def test_time_limit_interrupts_a_slow_query(tmp_path: Path) -> None:
    urls, _ = write_sources(tmp_path, people=300)
    engine = source_engine(urls["source_population"], timeout_s=1)
    a, b, c = citizen.alias(), citizen.alias(), citizen.alias()
    slow = select(func.count()).select_from(a.join(b, a.c.sex != b.c.sex).join(c, c.c.sex != b.c.sex))
    with pytest.raises(Unavailable) as info:
        q.run(engine, slow, source="population", timeout_s=0.05)  # type: ignore[arg-type]
    assert "population" in info.value.message and "0.05s" in info.value.message
    engine.dispose()


@pytest.mark.parametrize("column", ["date_of_birth"])
def test_hostile_values_in_range_filters_are_a_clear_422_in_the_error_shape(granted: World, column: str) -> None:
    for value in HOSTILE:
        for op in ("gte", "gt", "lte", "lt"):
            res = granted.client.get(f"{URL}?{column}__{op}={value}", headers=granted.h("hcm_dev", "social-assistance"))
            assert res.status_code == 422, (op, value, res.text)
            error = res.json()["error"]
            assert set(error) == {"status", "code", "message", "details", "request_id"}
            assert error["status"] == 422 and error["code"] == "invalid"
            assert error["message"].startswith(column) and "not a date" in error["message"], error["message"]


@pytest.mark.parametrize("name", ["Population", "pop_citizen", "-pop", "pop%0A", "a" * 81])
def test_a_bad_dataset_name_is_fastapis_422(granted: World, name: str) -> None:
    """The records route skips FastAPI's parameter solving for valid names only: others get its 422."""
    res = granted.client.get(f"/api/v1/datasets/{name}/records", headers=granted.h("hcm_dev", "social-assistance"))
    assert res.status_code == 422
    assert res.json()["error"]["status"] == 422
    ok = granted.client.get(f"/api/v1/datasets/{'a' * 80}/records", headers=granted.h("hcm_dev", "social-assistance"))
    assert ok.status_code == 404

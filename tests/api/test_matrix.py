"""The authorization matrix: every access route x every kind of caller, with the expected status; and a
property test that no answer ever holds a field or a row outside the grant."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policies.world import World, world_fixture  # noqa: F401  (fixture)

ACTORS = ["anonymous", "thue_dev", "bhxh_dev", "hcm_dev", "bhxh_steward", "bca_steward", "admin"]
# anonymous; developer without a grant; developer of another agency; developer with a narrower grant;
# steward of another agency; owning steward; admin
WIDE = "citizen_id,full_name,date_of_birth"


def matrix(w: World) -> list[tuple[str, str, Any, str | None, list[int]]]:
    """(method, path, json, purpose, expected status per actor in ACTORS order)."""
    cid = w.citizens[0]["citizen_id"]
    g, r = w.grants["narrow"], w.grants["pending"]
    return [
        ("GET", "/api/v1/me", None, None, [401, 200, 200, 200, 200, 200, 200]),
        ("GET", "/api/v1/me/tokens", None, None, [401, 200, 200, 200, 200, 200, 200]),
        ("GET", "/api/v1/access-requests", None, None, [401, 200, 200, 200, 200, 200, 200]),
        ("GET", f"/api/v1/access-requests/{r}", None, None, [401, 404, 404, 200, 404, 200, 200]),
        ("GET", "/api/v1/grants", None, None, [401, 200, 200, 200, 200, 200, 200]),
        ("GET", f"/api/v1/grants/{g}", None, None, [401, 404, 404, 200, 404, 200, 200]),
        (
            "GET",
            f"/api/v1/datasets/population-citizen/records?fields={WIDE}",
            None,
            "social-assistance",
            [401, 403, 403, 403, 403, 403, 403],
        ),
        (
            "GET",
            "/api/v1/datasets/population-citizen/records?fields=full_name",
            None,
            "social-assistance",
            [401, 403, 403, 200, 403, 403, 403],
        ),
        (
            "POST",
            "/api/v1/datasets/population-citizen/verify",
            {"citizen_id": cid, "full_name": "A"},
            "identity-verification",
            [401, 403, 403, 403, 403, 403, 403],
        ),
        ("GET", "/api/v1/audit", None, None, [401, 200, 200, 200, 200, 200, 200]),
        ("GET", "/api/v1/audit/anchors", None, None, [200, 200, 200, 200, 200, 200, 200]),  # published
        ("GET", "/api/v1/audit/bundles/matrix-call", None, None, [401, 404, 404, 200, 404, 200, 200]),
        ("GET", f"/api/v1/subjects/{cid}/reads", None, None, [401, 403, 403, 403, 200, 200, 200]),
        ("POST", "/api/v1/policies/reload", None, None, [401, 403, 403, 403, 403, 403, 200]),
        (
            "POST",
            "/api/v1/access-requests",
            {
                "dataset": "population-citizen",
                "fields": ["full_name"],
                "purpose": "social-assistance",
                "legal_basis": "x",
                "days": 1,
            },
            None,
            [401, 201, 201, 201, 201, 403, 403],
        ),
    ]


@pytest.fixture
def setup(world: World) -> World:
    world.grants["narrow"] = world.grant(
        "hcm_dev", "population-citizen", ["citizen_id", "full_name"], "social-assistance"
    )
    world.grants["pending"] = world.request("hcm_dev", "population-citizen", ["sex"], "social-assistance")["id"]
    call = world.client.get(  # a call whose evidence bundle the matrix asks for
        "/api/v1/datasets/population-citizen/records?fields=full_name&limit=1",
        headers={**world.h("hcm_dev", "social-assistance"), "X-Request-Id": "matrix-call"},
    )
    assert call.status_code == 200
    return world


def call(w: World, who: str, method: str, path: str, body: Any, purpose: str | None) -> int:
    headers = w.h(None if who == "anonymous" else who, purpose)
    res = w.client.request(method, path, json=body, headers=headers)
    if res.status_code >= 400:
        err = res.json()["error"]
        assert err["status"] == res.status_code and err["message"] and err["request_id"]
    return res.status_code


def test_authorization_matrix(setup: World) -> None:
    w = setup
    failures = []
    for method, path, body, purpose, expected in matrix(w):
        for who, want in zip(ACTORS, expected, strict=True):
            got = call(w, who, method, path, body, purpose)
            if got != want:
                failures.append(f"{method} {path} as {who}: {got}, expected {want}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("action", "body", "expected"),
    [
        ("approve", {}, [401, 404, 404, 403, 404, 200, 403]),
        ("reject", {"reason": "no"}, [401, 404, 404, 403, 404, 200, 403]),
    ],
)
def test_decisions_matrix(setup: World, action: str, body: dict[str, Any], expected: list[int]) -> None:
    w = setup
    for who, want in zip(ACTORS, expected, strict=True):
        rid = w.request("hcm_dev", "population-citizen", ["sex"], "social-assistance")["id"]
        got = call(w, who, "POST", f"/api/v1/access-requests/{rid}/{action}", body, None)
        assert got == want, (action, who, got)


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_grant_management_matrix(setup: World, action: str) -> None:
    w = setup
    expected = [401, 404, 404, 403, 404, 200, 200]
    for who, want in zip(ACTORS, expected, strict=True):
        gid = w.grant("hcm_dev", "population-citizen", ["full_name"], "social-assistance")
        got = call(w, who, "POST", f"/api/v1/grants/{gid}/{action}", {"reason": "matrix"}, None)
        assert got == want, (action, who, got)


FIELDS = ["citizen_id", "full_name", "date_of_birth", "sex", "province_code", "address", "household_id", "status"]
PROVINCES = ["01", "48", "79"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    granted=st.sets(st.sampled_from(FIELDS), min_size=1),
    asked=st.sets(st.sampled_from(FIELDS)),
    grant_provinces=st.none() | st.sets(st.sampled_from(PROVINCES), min_size=1),
    query_province=st.none() | st.sampled_from(PROVINCES),
    query_sex=st.none() | st.sampled_from(["M", "F"]),
)
def test_no_answer_holds_a_field_or_row_outside_the_grant(
    world: World,
    granted: set[str],
    asked: set[str],
    grant_provinces: set[str] | None,
    query_province: str | None,
    query_sex: str | None,
) -> None:
    w = world
    row_filter = {"province_code": sorted(grant_provinces)} if grant_provinces else None
    extra = {"row_filter": row_filter} if row_filter else {}
    gid = w.grant("hcm_dev", "population-citizen", sorted(granted), "social-assistance", **extra)
    params = ["limit=1000"]
    if asked:
        params.append("fields=" + ",".join(sorted(asked)))
    if query_province:
        params.append(f"province_code={query_province}")
    if query_sex:
        params.append(f"sex={query_sex}")
    res = w.client.get(
        "/api/v1/datasets/population-citizen/records?" + "&".join(params), headers=w.h("hcm_dev", "social-assistance")
    )
    try:
        if asked - granted:
            assert res.status_code == 403
            assert sorted(asked - granted) == res.json()["error"]["details"]["denied_fields"]
            return
        assert res.status_code == 200, res.text
        items = res.json()["items"]
        shown = asked or granted
        assert all(set(i) == shown for i in items)
        expected = [
            p
            for p in w.citizens
            if (not grant_provinces or p["province_code"] in grant_provinces)
            and (not query_province or p["province_code"] == query_province)
            and (not query_sex or p["sex"] == query_sex)
        ]
        assert len(items) == len(expected)
        if "household_id" in shown:
            assert sorted(i["household_id"] for i in items) == sorted(p["household_id"] for p in expected)
    finally:
        w.client.post(f"/api/v1/grants/{gid}/revoke", json={"reason": "next example"}, headers=w.h("bca_steward"))

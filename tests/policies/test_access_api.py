"""Access requests, stewards' decisions and grants through the REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from ndx.db import make_engine
from policies.models import AccessRequest, AuditRecord, Grant, utcnow
from policies.rules_model import dataset_rules
from tests.policies.world import World, world_fixture  # noqa: F401  (fixture)

CITIZEN_FIELDS = ["citizen_id", "full_name", "date_of_birth", "address"]


def counts(w: World) -> tuple[int, int, int]:
    engine = make_engine(w.database_url)
    with Session(engine) as s:
        result = (
            s.scalar(select(func.count()).select_from(AccessRequest)) or 0,
            s.scalar(select(func.count()).select_from(Grant)) or 0,
            s.scalar(select(func.count()).select_from(AuditRecord)) or 0,
        )
    engine.dispose()
    return result


def test_request_approve_narrow_then_query_then_revoke(world: World) -> None:
    w, c = world, world.client
    req = w.request(
        "hcm_dev",
        "population-citizen",
        CITIZEN_FIELDS,
        "social-assistance",
        case_ref="HS-2026-001",
        row_filter={"province_code": ["79", "01"]},
    )
    assert req["status"] == "pending" and req["org"] == "ubnd-hcm" and req["owner"] == "bca"
    assert req["requested_by"] == "dev@ubnd-hcm.gov.vn"

    inbox = c.get("/api/v1/access-requests?status=pending", headers=w.h("bca_steward")).json()
    assert [r["id"] for r in inbox["items"]] == [req["id"]] and inbox["next_cursor"] is None
    assert c.get("/api/v1/access-requests", headers=w.h("bhxh_steward")).json()["items"] == []

    # widening is refused and writes nothing
    before = counts(w)
    for body, words in [
        ({"fields": ["citizen_id", "ethnicity"]}, "ethnicity"),
        ({"days": 31}, "30 days"),
        ({"row_filter": {"province_code": ["79", "48"]}}, "48"),
        ({"row_filter": {"sex": ["F"]}}, "province_code"),
        ({"row_filter": {"full_name": ["x"]}}, "full_name"),
    ]:
        res = c.post(f"/api/v1/access-requests/{req['id']}/approve", json=body, headers=w.h("bca_steward"))
        assert res.status_code == 422, res.text
        assert words in res.json()["error"]["message"]
    assert counts(w) == before

    # a steward of another agency, the requester, and an admin cannot approve
    for who, status in [("bhxh_steward", 404), ("hcm_steward", 403), ("hcm_dev", 403), ("admin", 403)]:
        res = c.post(f"/api/v1/access-requests/{req['id']}/approve", json={}, headers=w.h(who))
        assert res.status_code == status, (who, res.text)

    narrowed = {
        "fields": ["citizen_id", "full_name"],
        "row_filter": {"province_code": ["79"]},
        "days": 7,
        "note": "chỉ TP.HCM",
    }
    res = c.post(f"/api/v1/access-requests/{req['id']}/approve", json=narrowed, headers=w.h("bca_steward"))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["status"] == "approved" and body["decided_by"] == "steward@bca.gov.vn"
    g = body["grant"]
    assert g["fields"] == ["citizen_id", "full_name"] and g["row_filter"] == {"province_code": ["79"]}
    assert g["purposes"] == ["social-assistance"] and g["org"] == "ubnd-hcm"
    again = c.post(f"/api/v1/access-requests/{req['id']}/approve", json={}, headers=w.h("bca_steward"))
    assert again.status_code == 409

    q = c.get("/api/v1/datasets/population-citizen/records?limit=1000", headers=w.h("hcm_dev", "social-assistance"))
    assert q.status_code == 200, q.text
    items = q.json()["items"]
    in_79 = [x for x in w.citizens if x["province_code"] == "79"]
    assert len(items) == len(in_79) > 0
    assert all(set(i) == {"citizen_id", "full_name"} for i in items)
    # the consumer's steward may use the grant too; another agency may not
    assert (
        c.get(
            "/api/v1/datasets/population-citizen/records", headers=w.h("hcm_steward", "social-assistance")
        ).status_code
        == 200
    )
    assert (
        c.get("/api/v1/datasets/population-citizen/records", headers=w.h("thue_dev", "social-assistance")).status_code
        == 403
    )

    grant = c.get(f"/api/v1/grants/{g['id']}", headers=w.h("hcm_dev")).json()
    assert grant["usage"]["calls"] >= 2 and grant["usage"]["rows"] >= len(in_79)
    assert c.get(f"/api/v1/grants/{g['id']}", headers=w.h("thue_dev")).status_code == 404
    assert c.post(f"/api/v1/grants/{g['id']}/revoke", json={"reason": "x"}, headers=w.h("hcm_dev")).status_code == 403

    res = c.post(f"/api/v1/grants/{g['id']}/revoke", json={"reason": "hết nhu cầu"}, headers=w.h("bca_steward"))
    assert res.status_code == 200 and res.json()["status"] == "revoked"
    events = res.json()["events"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [(None, "active"), ("active", "revoked")]
    assert events[-1]["actor"] == "steward@bca.gov.vn" and events[-1]["reason"] == "hết nhu cầu"
    after = c.get("/api/v1/datasets/population-citizen/records", headers=w.h("hcm_dev", "social-assistance"))
    assert after.status_code == 403 and "revoked" in after.json()["error"]["message"]
    assert (
        c.post(f"/api/v1/grants/{g['id']}/resume", json={"reason": "x"}, headers=w.h("bca_steward")).status_code == 409
    )


def test_suspend_resume_and_expiry_take_effect_on_the_next_call(world: World) -> None:
    w, c = world, world.client
    gid = w.grant("thue_dev", "population-citizen", ["full_name"], "tax-administration")
    url = "/api/v1/datasets/population-citizen/records?limit=1"
    hdr = w.h("thue_dev", "tax-administration")
    assert c.get(url, headers=hdr).status_code == 200
    assert c.post(f"/api/v1/grants/{gid}/suspend", json={"reason": "audit"}, headers=w.h("admin")).status_code == 200
    assert c.get(url, headers=hdr).status_code == 403
    assert c.post(f"/api/v1/grants/{gid}/resume", json={"reason": "ok"}, headers=w.h("bca_steward")).status_code == 200
    assert c.get(url, headers=hdr).status_code == 200
    engine = make_engine(w.database_url)
    with engine.begin() as conn:
        conn.execute(update(Grant).where(Grant.id == gid).values(expires_at=utcnow() - timedelta(seconds=1)))
    engine.dispose()
    res = c.get(url, headers=hdr)
    assert res.status_code == 403 and "no longer active" in res.json()["error"]["message"]
    grant = c.get(f"/api/v1/grants/{gid}", headers=w.h("thue_dev")).json()
    assert grant["status"] == "expired" and grant["events"][-1]["to_status"] == "expired"


def test_reject_with_reason_and_visibility(world: World) -> None:
    w, c = world, world.client
    req = w.request("thue_dev", "insurance-insured-person", ["insurance_id", "full_name"], "employment-check")
    assert (
        c.post(
            f"/api/v1/access-requests/{req['id']}/reject", json={"reason": ""}, headers=w.h("bhxh_steward")
        ).status_code
        == 422
    )
    res = c.post(
        f"/api/v1/access-requests/{req['id']}/reject", json={"reason": "thiếu căn cứ"}, headers=w.h("bhxh_steward")
    )
    assert res.status_code == 200 and res.json()["status"] == "rejected" and res.json()["note"] == "thiếu căn cứ"
    assert c.get(f"/api/v1/access-requests/{req['id']}", headers=w.h("thue_steward")).status_code == 200
    assert c.get(f"/api/v1/access-requests/{req['id']}", headers=w.h("hcm_dev")).status_code == 404
    assert c.get(f"/api/v1/access-requests/{req['id']}", headers=w.h("bca_steward")).status_code == 404
    assert c.get(f"/api/v1/access-requests/{req['id']}", headers=w.h("admin")).status_code == 200
    assert c.get("/api/v1/access-requests", headers=w.h("hcm_dev")).json()["items"] == []


def test_bad_requests_are_clear_4xx_and_write_nothing(world: World) -> None:
    w, c = world, world.client
    before = counts(w)
    base = {
        "dataset": "population-citizen",
        "fields": ["full_name"],
        "purpose": "social-assistance",
        "legal_basis": "NĐ 13",
        "days": 30,
    }
    cases = [
        ({**base, "dataset": "nope"}, 422, "nope"),
        ({**base, "fields": ["salary"]}, 422, "salary"),
        ({**base, "purpose": "marketing"}, 422, "marketing"),
        ({**base, "row_filter": {"full_name": ["A"]}}, 422, "full_name"),
        ({**base, "days": 0}, 422, "days"),
        ({**base, "days": "30"}, 422, "days"),
        ({**base, "days": True}, 422, "days"),
        ({**base, "fields": []}, 422, "fields"),
        ({**base, "extra": 1}, 422, "extra"),
    ]
    for body, status, words in cases:
        res = c.post("/api/v1/access-requests", json=body, headers=w.h("hcm_dev"))
        assert res.status_code == status, (body, res.text)
        err = res.json()["error"]
        assert set(err) == {"status", "code", "message", "details", "request_id"}
        assert words in err["message"] or words in str(err["details"]), (words, err)
    own = c.post("/api/v1/access-requests", json=base, headers=w.h("bca_steward"))
    assert own.status_code == 403 and "owns" in own.json()["error"]["message"]
    assert c.post("/api/v1/access-requests", json=base, headers=w.h("admin")).status_code == 403
    assert c.post("/api/v1/access-requests", json=base).status_code == 401
    assert c.post("/api/v1/access-requests", json=base, headers={"Authorization": "Bearer ndx_nope"}).status_code == 401
    bad = c.post(
        "/api/v1/access-requests", content=b"{not json", headers={**w.h("hcm_dev"), "Content-Type": "application/json"}
    )
    assert bad.status_code == 422
    assert counts(w) == before


def test_tokens_of_the_caller_revoke_and_expire(world: World) -> None:
    w, c = world, world.client
    res = c.post("/api/v1/me/tokens", json={"label": "ci"}, headers=w.h("hcm_dev"))
    assert res.status_code == 201
    new = res.json()
    assert new["token"].startswith("ndx_")
    hdr = {"Authorization": f"Bearer {new['token']}"}
    assert c.get("/api/v1/me", headers=hdr).json()["email"] == "dev@ubnd-hcm.gov.vn"
    listed = c.get("/api/v1/me/tokens", headers=hdr).json()["items"]
    assert all("token" not in t for t in listed) and len(listed) == 2
    assert c.post(f"/api/v1/me/tokens/{new['id']}/revoke", headers=w.h("thue_dev")).status_code == 404
    assert c.post(f"/api/v1/me/tokens/{new['id']}/revoke", headers=hdr).status_code == 200
    assert c.get("/api/v1/me", headers=hdr).status_code == 401
    mine = [r["record"] for r in c.get("/api/v1/audit?kind=admin", headers=w.h("hcm_dev")).json()["items"]]
    made = sorted((r for r in mine if r["detail"].get("token_id") == new["id"]), key=lambda r: r["seq"])
    assert [r["action"] for r in made] == ["create-token", "revoke-token"], mine
    assert {r["user"] for r in made} == {"dev@ubnd-hcm.gov.vn"}
    assert new["token"] not in json.dumps(mine)


def test_policy_reload_is_admin_only_and_audited(world: World) -> None:
    w, c = world, world.client
    assert c.post("/api/v1/policies/reload", headers=w.h("bca_steward")).status_code == 403
    res = c.post("/api/v1/policies/reload", headers=w.h("admin"))
    assert res.status_code == 200 and "population-citizen" in res.json()["datasets"]
    audit = c.get("/api/v1/audit?kind=admin", headers=w.h("admin")).json()["items"]
    assert audit[0]["record"]["action"] == "reload-policies" and audit[0]["record"]["user"] == "admin@ndx.gov.vn"


def test_revocation_committed_while_a_call_runs_stops_its_answer(world: World) -> None:
    """The route takes its kept grants without reading the access counter; the audit writer compares the
    counter inside the transaction of the call's record. A revocation committed after the call decided but
    before its record commits: the record is not written, the call runs again on fresh rows and is denied."""
    w, c = world, world.client
    gid = w.grant("thue_dev", "population-citizen", ["full_name"], "tax-administration")
    url = "/api/v1/datasets/population-citizen/records?limit=1"
    hdr = w.h("thue_dev", "tax-administration")
    assert c.get(url, headers=hdr).status_code == 200  # the grants are now kept
    writer = c.app.state.gateway.writer  # type: ignore[attr-defined]
    append = writer.append
    engine = make_engine(w.database_url)
    revoked: list[int] = []

    async def revoke_then_append(entry: Any, **kw: Any) -> int:
        if not revoked:  # the first attempt has decided (allowed) and built its answer
            assert entry.status == 200
            with engine.begin() as conn:  # plain SQL: the counter moves by trigger
                conn.execute(update(Grant).where(Grant.id == gid).values(status="revoked"))
            revoked.append(gid)
        return int(await append(entry, **kw))

    writer.append = revoke_then_append
    try:
        res = c.get(url, headers={**hdr, "X-Request-Id": "late-revoke"})
    finally:
        writer.append = append
    assert res.status_code == 403 and "revoked" in res.json()["error"]["message"]
    assert writer.stale == 1
    with engine.connect() as conn:
        statuses = conn.execute(select(AuditRecord.status).where(AuditRecord.request_id == "late-revoke"))
        assert statuses.scalars().all() == [403]  # the allowed first attempt left neither an answer nor a record
    engine.dispose()


def test_a_call_is_answered_even_while_access_keeps_changing(world: World) -> None:
    """Changes that never stop (a bulk import of users, say) cannot refuse calls: after two runs found stale
    at their commit, the last run stands on the fresh rows it read at its start, as every call once did."""
    w, c = world, world.client
    gid = w.grant("thue_dev", "population-citizen", ["full_name"], "tax-administration")
    url = "/api/v1/datasets/population-citizen/records?limit=1"
    hdr = {**w.h("thue_dev", "tax-administration"), "X-Request-Id": "busy-platform"}
    writer = c.app.state.gateway.writer  # type: ignore[attr-defined]
    append = writer.append
    engine = make_engine(w.database_url)

    async def change_then_append(entry: Any, **kw: Any) -> int:
        if kw.get("access_version") is not None:
            with engine.begin() as conn:  # moves the counter: an unrelated token's label
                conn.execute(text("UPDATE api_token SET label = label"))
        return int(await append(entry, **kw))

    writer.append = change_then_append
    try:
        res = c.get(url, headers=hdr)
    finally:
        writer.append = append
    assert res.status_code == 200 and len(res.json()["items"]) == 1
    assert writer.stale == 2
    metrics = {line.split(" ")[0]: line.split(" ")[1] for line in c.get("/metrics").text.splitlines() if " " in line}
    assert float(metrics["ndx_audit_stale_total"]) == 2
    gateway = c.app.state.gateway  # type: ignore[attr-defined]
    rate = dataset_rules()["population-citizen"].rate
    assert gateway.limiter.usage(f"grant:{gid}", rate) == (1, 1)  # the two stale runs gave back what they took
    with engine.connect() as conn:
        statuses = conn.execute(select(AuditRecord.status).where(AuditRecord.request_id == "busy-platform"))
        assert statuses.scalars().all() == [200]
    engine.dispose()

"""Stored runs, stable findings and the steward's review, through the service and the REST API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ndx.db import make_engine
from ndx.errors import Forbidden
from policies import service as policy_service
from policies import users
from quality import report, service
from quality.findings import Finding, RecordRef
from tests.helpers import app_client, make_settings

CIT = "population.citizen"


@dataclass(frozen=True)
class Who:
    email: str
    org: str
    role: str


def findings() -> list[Finding]:
    return [
        Finding("duplicate_citizen", (RecordRef(CIT, "001085000001"), RecordRef(CIT, "001085000901")), None, 0.97),
        Finding("invalid_value", (RecordRef(CIT, "001185000008"),), "citizen_id", 1.0, "digits", message_vi="chữ số"),
        Finding("invalid_value", (RecordRef("enterprise.enterprise", "0100000001"),), "enterprise_code"),
    ]


ROWS = {CIT: 50, "enterprise.enterprise": 10}


@pytest.fixture
def client(tmp_path: Path, new_database_url: object) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url=new_database_url("platform"))  # type: ignore[operator]
    with app_client(settings) as c:
        yield c


def store(session: Session, found: list[Finding]) -> service.StoredRun:
    run = service.start_run(session=session, checks=["invalid_value"], sources={})
    return service.store_run(session=session, run=run, findings=found, row_counts=ROWS)


def test_a_rerun_keeps_the_stewards_decision(client: TestClient) -> None:
    engine = make_engine(client.app.state.settings.platform_url)  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as session:
        first = store(session, findings())
        assert (first.new, first.recurring) == (3, 0)
        assert first.run.scores["population-citizen"] == pytest.approx(100 * (1 - 3 / 50))
        target = findings()[1].id
        steward = Who("steward@bca.gov.vn", "bca", "steward")
        service.review_finding(session=session, finding_id=target, reviewer=steward, status="dismissed", note="ok")
        with pytest.raises(Forbidden):
            service.review_finding(
                session=session, finding_id=target, reviewer=Who("x@bhxh.gov.vn", "bhxh", "steward"), status="open"
            )
        with pytest.raises(Forbidden):
            service.review_finding(
                session=session, finding_id=target, reviewer=Who("d@bca.gov.vn", "bca", "developer"), status="open"
            )
        second = store(session, findings()[:2])
        assert (second.new, second.recurring) == (0, 2)
        kept = service.get_finding(session=session, finding_id=target)
        assert (kept.status, kept.reviewed_by, kept.review_note, kept.last_run_id) == (
            "dismissed",
            "steward@bca.gov.vn",
            "ok",
            second.run.id,
        )
        assert second.run.open_findings == 1
        # A dismissed finding no longer lowers the score.
        assert second.run.scores["population-citizen"] == pytest.approx(100 * (1 - 2 / 50))
        latest = service.list_findings(session=session)
        assert {f.id for f in latest} == {f.id for f in findings()[:2]}
    engine.dispose()


def test_api_lists_pages_and_reviews(client: TestClient) -> None:
    engine = make_engine(client.app.state.settings.platform_url)  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as session:
        store(session, findings())
        policy_service.seed_organizations(session=session, by="test")
        users.add_user(session=session, by="test", email="steward@bca.gov.vn", org="bca", role="steward")
        users.add_user(session=session, by="test", email="steward@bhxh.gov.vn", org="bhxh", role="steward")
        _, bca_token = users.issue_token(session=session, by="test", email="steward@bca.gov.vn", days=1)
        _, bhxh_token = users.issue_token(session=session, by="test", email="steward@bhxh.gov.vn", days=1)
        session.commit()
    engine.dispose()

    runs = client.get("/api/v1/quality/runs").json()
    assert [r["total_findings"] for r in runs["items"]] == [3]
    page = client.get("/api/v1/quality/findings", params={"limit": 2}).json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = client.get("/api/v1/quality/findings", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    only = client.get("/api/v1/quality/findings", params={"check": "duplicate_citizen"}).json()["items"]
    assert [f["check"] for f in only] == ["duplicate_citizen"]
    assert client.get("/api/v1/quality/findings", params={"check": "nope"}).status_code == 422

    fid = only[0]["id"]
    url = f"/api/v1/quality/findings/{fid}/review"
    assert client.post(url, json={"status": "confirmed"}).status_code == 401
    other = client.post(url, json={"status": "confirmed"}, headers={"Authorization": f"Bearer {bhxh_token}"})
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "forbidden"
    ok = client.post(
        url, json={"status": "confirmed", "note": "same man"}, headers={"Authorization": f"Bearer {bca_token}"}
    )
    assert ok.status_code == 200
    body = ok.json()
    assert (body["status"], body["reviewed_by"], body["review_note"]) == ("confirmed", "steward@bca.gov.vn", "same man")
    bad = client.post(url, json={"status": "gone"}, headers={"Authorization": f"Bearer {bca_token}"})
    assert bad.status_code == 422
    assert client.get("/api/v1/quality/findings/nope").status_code == 404


def test_pages_render(client: TestClient) -> None:
    engine = make_engine(client.app.state.settings.platform_url)  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as session:
        store(session, findings())
    engine.dispose()
    home = client.get("/quality", params={"check": "invalid_value", "lang": "en"})
    assert home.status_code == 200
    assert "Only one run so far" in home.text and "<svg" not in home.text
    assert "enterprise_code" in home.text
    engine = make_engine(client.app.state.settings.platform_url)  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as session:
        store(session, findings())
    engine.dispose()
    assert "<svg" in client.get("/quality").text
    fid = findings()[0].id
    page = client.get(f"/quality/findings/{fid}")
    assert page.status_code == 200
    assert "001085000901" in page.text


def test_quality_pages_are_in_vietnamese_by_default_and_in_english_on_request(client: TestClient) -> None:
    engine = make_engine(client.app.state.settings.platform_url)  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as session:
        store(session, findings())
    engine.dispose()
    fid = findings()[0].id  # the duplicate citizen

    home = client.get("/quality", headers={"Accept": "text/html"})
    assert '<html lang="vi">' in home.text
    assert "<h1>Chất lượng dữ liệu</h1>" in home.text
    assert "Trùng lặp công dân" in home.text and "Chưa xử lý" in home.text
    assert "Only one run so far" not in home.text and "Mới có một lượt kiểm tra" in home.text
    finding = client.get(f"/quality/findings/{fid}")
    assert "Trùng lặp công dân: một người có từ hai hồ sơ công dân trở lên" in finding.text
    assert "Đăng nhập để xem xét" in finding.text

    english = client.get("/quality", params={"lang": "en"})
    assert '<html lang="en">' in english.text and "ndx_lang=en" in english.headers["set-cookie"]
    assert "<h1>Data quality</h1>" in english.text and "Duplicate citizen" in english.text
    assert "Chất lượng dữ liệu" not in english.text
    finding = client.get(f"/quality/findings/{fid}")  # the cookie keeps English
    assert "Duplicate citizen: one person holds two or more citizen records" in finding.text
    assert "Sign in to review it" in finding.text
    back = client.get(f"/quality/findings/{fid}", params={"lang": "vi"})
    assert "Trùng lặp công dân" in back.text and '<html lang="vi">' in back.text


def test_the_report_says_how_many_findings_it_leaves_out_and_where_they_are(client: TestClient) -> None:
    many = [
        Finding("invalid_value", (RecordRef(CIT, f"0010850{i:05d}"),), "citizen_id", 1.0, "digits")
        for i in range(report.DETAILS_PER_CHECK + 7)
    ]
    engine = make_engine(client.app.state.settings.platform_url)  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as session:
        stored = store(session, [*many, findings()[0]])
        html = " ".join(report.render_report(session=session, run=stored.run, sources=None, lang="en").split())
        vi = " ".join(report.render_report(session=session, run=stored.run, sources=None).split())
    engine.dispose()
    assert '<html lang="vi">' in vi and "Còn 7 phát hiện invalid_value không hiển thị ở đây." in vi
    assert f"first {report.DETAILS_PER_CHECK} shown" in html
    assert "7 more invalid_value findings not shown here." in html
    assert f"/api/v1/quality/findings?run={stored.run.id}&amp;check=invalid_value" in html
    assert "findings.json" in html
    assert 'id="left-out-duplicate_citizen"' not in html  # one duplicate: all of it shown


def test_messages_show_in_the_pages_language_and_older_findings_get_theirs_on_the_next_run(
    client: TestClient,
) -> None:
    engine = make_engine(client.app.state.settings.platform_url)  # type: ignore[attr-defined]
    first = findings()
    first[0] = Finding(first[0].check, first[0].records, None, 0.97, "same person recorded 2 times")  # no vi yet
    with Session(engine, expire_on_commit=False) as session:
        store(session, first)
    dup, digits = first[0].id, first[1].id
    page = client.get(f"/quality/findings/{digits}", params={"lang": "vi"}).text
    assert '<span lang="vi">chữ số</span>' in page
    assert '<span lang="en">digits</span>' in client.get(f"/quality/findings/{digits}", params={"lang": "en"}).text
    assert '<span lang="en">same person recorded 2 times</span>' in client.get(f"/quality/findings/{dup}").text

    again = findings()
    again[0] = Finding(again[0].check, again[0].records, None, 0.97, "same person", message_vi="cùng một người")
    with Session(engine, expire_on_commit=False) as session:
        store(session, again)  # found again: the Vietnamese message it lacked is filled in, nothing else changes
    engine.dispose()
    shown = client.get(f"/api/v1/quality/findings/{dup}").json()
    assert (shown["message"], shown["message_vi"]) == ("same person recorded 2 times", "cùng một người")
    assert '<span lang="vi">cùng một người</span>' in client.get(f"/quality/findings/{dup}", params={"lang": "vi"}).text

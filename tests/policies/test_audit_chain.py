"""The audit hash chain: group commit, fail closed, and X-Road-style negative tests (modified, deleted,
reordered, broken link), in the database and in exported evidence bundles."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Connection, Engine
from typer.testing import CliRunner

from ndx import migrate
from ndx.cli import app as cli
from ndx.db import make_engine
from ndx.errors import Invalid, Unavailable
from policies.audit import (
    ENTRY_FIELDS,
    append,
    canonical,
    chain_hash,
    payload_of,
)
from policies.audit_bundle import export_bundle, verify_bundle
from policies.audit_verify import verify_database
from policies.audit_writer import AuditWriter, StaleAccess
from policies.models import AuditHead, AuditRecord, AuditSubject, AuditSubjectLog
from tests.policies.audit_helpers import entry, fill, payload_at, set_columns
from tests.policies.world import World, world_fixture  # noqa: F401  (fixture)


def test_payload_joined_around_its_seq_is_the_canonical_record() -> None:
    e = entry(7)
    e.filter = {"seq": 0, "citizen_id__eq": ["079095000007"]}  # a nested "seq" key must not confuse the split
    for detail in (
        {"note": 'quote " and , and }', "vi": "Nguyễn", "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)},
        {"huge": 10**30},  # beyond orjson's integers: the standard library writes it, the same way
    ):
        e.detail = detail
        data = {name: getattr(e, name) for name in ENTRY_FIELDS}
        data["at"] = e.at.isoformat()
        for seq in (1, 42, 10**12):
            assert payload_of(e, seq) == canonical({**data, "seq": seq})
            assert json.loads(payload_of(e, seq))["seq"] == seq
    assert '"when":"2026-01-02T03:04:05+00:00"' in canonical({"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)})


def test_group_commit_batches_concurrent_requests_into_one_valid_chain(engine: Engine) -> None:
    async def main() -> tuple[list[int], int]:
        writer = AuditWriter(engine)
        await writer.start()
        seqs = await asyncio.gather(*(writer.append(entry(i)) for i in range(300)))
        await writer.stop()
        return list(seqs), writer.batches

    seqs, batches = asyncio.run(main())
    assert sorted(seqs) == list(range(1, 301))
    assert batches < 300  # concurrent requests shared commits
    assert verify_database(engine) == (None, 300)


def test_appenders_in_several_threads_keep_one_chain(engine: Engine) -> None:
    def work(k: int) -> None:
        eng = make_engine(str(engine.url.render_as_string(hide_password=False)))
        for i in range(20):
            with eng.begin() as conn:
                append(conn, [entry(k * 100 + i)])
        eng.dispose()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert verify_database(engine) == (None, 60)


def access_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT n FROM access_version WHERE id = 1")))


def test_writer_leaves_out_the_entries_whose_access_changed(engine: Engine) -> None:
    """An entry carrying the access_version its call was allowed under is written only if the counter still
    holds that value when its batch commits; the others of the batch are written regardless."""
    now = access_version(engine)

    async def main() -> tuple[list[int | BaseException], int, int]:
        writer = AuditWriter(engine)
        await writer.start()
        try:
            results = await asyncio.gather(
                writer.append(entry(1), access_version=now),
                writer.append(entry(2), access_version=now - 1),  # decided before a change: stale
                writer.append(entry(3)),  # no access to check (an administrative action, say)
                writer.append(entry(4), access_version=now + 1),
                return_exceptions=True,
            )
        finally:
            await writer.stop()
        return list(results), writer.records, writer.stale

    results, records, stale = asyncio.run(main())
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], StaleAccess) and isinstance(results[3], StaleAccess)
    assert (records, stale) == (2, 2)
    assert verify_database(engine) == (None, 2)
    with engine.connect() as conn:
        written = conn.execute(select(AuditRecord.request_id).order_by(AuditRecord.seq)).scalars().all()
        logged = conn.execute(select(AuditSubjectLog.citizen_id).order_by(AuditSubjectLog.seq)).scalars().all()
    assert written == ["r1", "r3"]
    assert logged == ["079095000001", "079095000003"]  # no subject of a call that was never answered


def test_writer_fails_closed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(AuditHead))

    async def main() -> None:
        writer = AuditWriter(engine)
        await writer.start()
        try:
            with pytest.raises(Unavailable):
                await writer.append(entry(1))
        finally:
            await writer.stop()
        with pytest.raises(Unavailable):
            await writer.append(entry(2))  # stopped: refused, never silently dropped

    asyncio.run(main())


def _tamper_modified(engine: Engine) -> int:
    set_columns(engine, 4, payload=payload_at(engine, 4).replace('"row_count":1', '"row_count":0'))
    return 4


def _tamper_column(engine: Engine) -> int:
    set_columns(engine, 5, org_code="thue")
    return 5


def _delete_subjects(conn: Connection, *seqs: int) -> None:
    """Remove the subjects of records ``seqs`` wherever the index keeps them (the log or a run)."""
    conn.execute(delete(AuditSubjectLog).where(AuditSubjectLog.seq.in_(seqs)))
    conn.execute(delete(AuditSubject).where(AuditSubject.seq.in_(seqs)))


def _tamper_subject(engine: Engine) -> int:
    with engine.begin() as conn:
        _delete_subjects(conn, 6)
    return 6


def _tamper_deleted(engine: Engine) -> int:
    with engine.begin() as conn:
        _delete_subjects(conn, 3)
        conn.execute(delete(AuditRecord).where(AuditRecord.seq == 3))
    return 3


def _tamper_deleted_tail(engine: Engine) -> int:
    with engine.begin() as conn:
        _delete_subjects(conn, 10)
        conn.execute(delete(AuditRecord).where(AuditRecord.seq == 10))
    return 10


def _tamper_reordered(engine: Engine) -> int:
    with engine.begin() as conn:
        _delete_subjects(conn, 7, 8)
        conn.execute(update(AuditRecord).where(AuditRecord.seq == 7).values(seq=1000))
        conn.execute(update(AuditRecord).where(AuditRecord.seq == 8).values(seq=7))
        conn.execute(update(AuditRecord).where(AuditRecord.seq == 1000).values(seq=8))
    return 7


def _tamper_broken_link(engine: Engine) -> int:
    # a forged record that is consistent in itself (its hash recomputed) but does not link to record 1
    payload = payload_at(engine, 2)
    forged_prev = "f" * 64
    set_columns(engine, 2, prev_hash=forged_prev, hash=chain_hash(forged_prev, payload))
    return 2


TAMPERS = {
    "modified": _tamper_modified,
    "column": _tamper_column,
    "subject": _tamper_subject,
    "deleted": _tamper_deleted,
    "deleted_tail": _tamper_deleted_tail,
    "reordered": _tamper_reordered,
    "broken_link": _tamper_broken_link,
}


@pytest.mark.parametrize("how", sorted(TAMPERS))
def test_tampering_is_detected_at_the_first_bad_record(engine: Engine, how: str) -> None:
    fill(engine)
    assert verify_database(engine) == (None, 10)
    bad = TAMPERS[how](engine)
    problem, _ = verify_database(engine)
    assert problem is not None and problem.seq == bad, problem


def test_cli_verify_names_the_first_bad_record(engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NDX_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("NDX_DATA_DIR", str(tmp_path))
    fill(engine)
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 10 records" in ok.output
    _tamper_modified(engine)
    bad = runner.invoke(cli, ["audit", "verify"])
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines()[-1] == "4"
    assert "record 4" in bad.output


def test_every_query_is_audited_before_the_answer_and_can_be_exported(world: World, tmp_path: Path) -> None:
    w, c = world, world.client
    w.grant("hcm_dev", "population-citizen", ["full_name"], "social-assistance")
    cid = w.citizens[3]["citizen_id"]
    res = c.get(
        f"/api/v1/datasets/population-citizen/records?citizen_id={cid}",
        headers=w.h("hcm_dev", "social-assistance", case="HS-42"),
    )
    assert res.status_code == 200
    rid = res.headers["x-ndx-request-id"]
    mine = c.get(f"/api/v1/audit?request_id={rid}", headers=w.h("hcm_dev")).json()["items"]
    assert len(mine) == 1
    rec = mine[0]["record"]
    assert rec["case"] == "HS-42" and rec["purpose"] == "social-assistance" and rec["row_count"] == 1
    assert rec["keys"] == [cid] and rec["subjects"] == [cid] and rec["grant_id"] is not None
    assert rec["response_hash"] == res.headers["x-ndx-response-hash"]
    import hashlib

    assert rec["response_hash"] == hashlib.sha256(rec["request_hash"].encode() + res.content).hexdigest()
    assert mine[0]["seq"] == int(res.headers["x-ndx-audit-seq"])
    scraped = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in c.get("/metrics").text.splitlines()
        if line.startswith("ndx_audit_records_total ") or line.startswith("ndx_audit_batches_total ")
    }
    assert scraped["ndx_audit_records_total"] >= 1 and scraped["ndx_audit_batches_total"] >= 1
    # the other agency does not see it; the owning steward does
    assert c.get(f"/api/v1/audit?request_id={rid}", headers=w.h("thue_dev")).json()["items"] == []
    assert len(c.get(f"/api/v1/audit?request_id={rid}", headers=w.h("bca_steward")).json()["items"]) == 1

    engine = make_engine(w.database_url)
    export_bundle(engine, rid, tmp_path / "ev")
    engine.dispose()
    assert verify_bundle(tmp_path / "ev")[0] is None

    # the same bundle, zipped, from the API: for the calling agency and the owning steward, no one else
    for who in ("hcm_dev", "bca_steward"):
        got = c.get(f"/api/v1/audit/bundles/{rid}", headers=w.h(who))
        assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
        assert f'filename="ndx-evidence-{rid}.zip"' in got.headers["content-disposition"]
        (tmp_path / f"{who}.zip").write_bytes(got.content)
        problem, manifest = verify_bundle(tmp_path / f"{who}.zip")
        assert problem is None and manifest["request_id"] == rid
    assert c.get(f"/api/v1/audit/bundles/{rid}", headers=w.h("thue_dev")).status_code == 404
    assert c.get("/api/v1/audit/bundles/no-such-call", headers=w.h("admin")).status_code == 404
    (tmp_path / "not.zip").write_bytes(b"PK-but-not-really")
    with pytest.raises(Invalid, match="not an audit bundle"):
        verify_bundle(tmp_path / "not.zip")
    with pytest.raises(Invalid, match="no such folder or file"):
        verify_bundle(tmp_path / "missing.zip")


def test_query_fails_closed_when_the_audit_cannot_be_written(world: World) -> None:
    w, c = world, world.client
    w.grant("hcm_dev", "population-citizen", ["full_name"], "social-assistance")
    engine = make_engine(w.database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    engine.dispose()
    res = c.get("/api/v1/datasets/population-citizen/records?limit=5", headers=w.h("hcm_dev", "social-assistance"))
    assert res.status_code == 503
    assert "audit" in res.json()["error"]["message"] and "items" not in res.text


def test_downgrade_below_hash_version_2_refuses_while_such_records_exist(engine: Engine) -> None:
    fill(engine, 2)
    with pytest.raises(RuntimeError, match="hash version 2"):
        migrate.downgrade(engine, "p0003")
    assert verify_database(engine) == (None, 2)  # nothing was changed

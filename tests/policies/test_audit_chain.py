"""The audit hash chain: group commit, fail closed, and X-Road-style negative tests (modified, deleted,
reordered, broken link), in the database and in exported evidence bundles."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from typer.testing import CliRunner

from ndx import migrate
from ndx.cli import app as cli
from ndx.db import make_engine
from ndx.errors import Invalid, Unavailable
from policies import audit_anchors
from policies.audit import (
    ENTRY_FIELDS,
    AuditEntry,
    append,
    canonical,
    chain_hash,
    payload_of,
)
from policies.audit_bundle import export_bundle, verify_bundle
from policies.audit_verify import Problem, verify_database
from policies.audit_writer import AuditWriter, StaleAccess
from policies.models import AuditHead, AuditRecord, AuditSubject, AuditSubjectLog
from tests.policies.world import World, world_fixture  # noqa: F401  (fixture)


def entry(i: int, request_id: str | None = None) -> AuditEntry:
    return AuditEntry(
        kind="query",
        at=datetime(2026, 12, 1, 12, 0, i % 60, tzinfo=UTC),
        status=200,
        request_id=request_id or f"r{i}",
        user="dev@x.vn",
        org_code="ubnd-hcm",
        dataset="population-citizen",
        fields=["full_name"],
        row_count=1,
        keys=[f"07909500{i:04d}"],
        subjects=[f"07909500{i:04d}"],
    )


def append_v1(conn: Connection, entries: list[AuditEntry], *, hash_v_column: bool = True) -> list[int]:
    """Append as the code before migration p0004 did: each hash over the payload's text (version 1)."""
    head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    seq, prev, seqs = int(head[0]), str(head[1]), []
    for e in entries:
        seq += 1
        payload = payload_of(e, seq)
        digest = chain_hash(prev, payload, 1)
        row = {"seq": seq, "prev_hash": prev, "hash": digest, "payload": payload, "at": e.at, "kind": e.kind}
        row |= {"request_id": e.request_id, "user_id": e.user_id, "org_code": e.org_code, "dataset": e.dataset}
        row |= {"grant_id": e.grant_id, "status": e.status, "row_count": e.row_count}
        if hash_v_column:
            row["hash_v"] = 1
        conn.execute(insert(AuditRecord.__table__).values(**row))
        if hash_v_column and e.subjects:  # before p0003 the caller fills the old subject table itself
            subjects = [{"seq": seq, "citizen_id": c} for c in sorted(set(e.subjects))]
            conn.execute(insert(AuditSubjectLog.__table__), subjects)
        prev = digest
        seqs.append(seq)
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))
    return seqs


def fill(engine: Engine, n: int = 10) -> None:
    with engine.begin() as conn:
        append(conn, [entry(i) for i in range(1, n + 1)])


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


def _set(engine: Engine, seq: int, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(**values))


def _payload(engine: Engine, seq: int) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(select(AuditRecord.payload).where(AuditRecord.seq == seq)))


def _tamper_modified(engine: Engine) -> int:
    _set(engine, 4, payload=_payload(engine, 4).replace('"row_count":1', '"row_count":0'))
    return 4


def _tamper_column(engine: Engine) -> int:
    _set(engine, 5, org_code="thue")
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
    payload = _payload(engine, 2)
    forged_prev = "f" * 64
    _set(engine, 2, prev_hash=forged_prev, hash=chain_hash(forged_prev, payload))
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


def test_bundle_verifies_without_the_database_and_catches_tampering(engine: Engine, tmp_path: Path) -> None:
    fill(engine, 8)
    with engine.begin() as conn:
        append(conn, [entry(100, "req-x"), entry(101, "req-x")])
        append(conn, [entry(102)])
    out = tmp_path / "bundle"
    manifest = export_bundle(engine, "req-x", out)
    assert manifest["records"] == [9, 10] and manifest["end"]["seq"] == 11 and not manifest["end"]["anchor"]
    assert verify_bundle(out)[0] is None

    lines = (out / "records.jsonl").read_text().splitlines()

    def with_lines(new: list[str]) -> Path:
        d = tmp_path / f"b{len(list(tmp_path.iterdir()))}"
        d.mkdir()
        (d / "manifest.json").write_text((out / "manifest.json").read_text())
        (d / "records.jsonl").write_text("\n".join(new) + "\n")
        return d

    rec = json.loads(lines[1])
    rec["payload"] = rec["payload"].replace('"status":200', '"status":403')
    problem = verify_bundle(with_lines([lines[0], json.dumps(rec), lines[2]]))[0]
    assert problem is not None and problem.seq == 10 and "modified" in problem.reason
    problem = verify_bundle(with_lines([lines[0], lines[2]]))[0]
    assert problem is not None and problem.seq == 10 and "missing" in problem.reason
    problem = verify_bundle(with_lines([lines[1], lines[0], lines[2]]))[0]
    assert problem is not None and problem.seq == 11 and "out of order" in problem.reason
    problem = verify_bundle(with_lines(lines[:2]))[0]  # the tail cut off: the end no longer matches
    assert problem is not None and problem.seq == 11

    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify", "--bundle", str(out)])
    assert ok.exit_code == 0, ok.output
    cut = with_lines([lines[0], lines[2]])
    bad = runner.invoke(cli, ["audit", "verify", "--bundle", str(cut)])
    assert bad.exit_code == 1 and bad.output.strip().splitlines()[-1] == "10"


def test_bundle_shows_the_other_calls_of_its_segment_by_digest_only(engine: Engine, tmp_path: Path) -> None:
    fill(engine, 3)
    with engine.begin() as conn:
        append(conn, [entry(100, "req-x")])
        append(conn, [entry(101, "req-other"), entry(102, "req-third")])
    out = tmp_path / "bundle"
    manifest = export_bundle(engine, "req-x", out)
    assert manifest["shown_by_digest_only"] == 2
    text_ = (out / "records.jsonl").read_text()
    assert "req-other" not in text_ and "req-third" not in text_ and "079095000101" not in text_
    lines = [json.loads(x) for x in text_.splitlines()]
    assert [("payload" in x, "payload_sha256" in x) for x in lines] == [(True, False), (False, True), (False, True)]
    assert verify_bundle(out)[0] is None

    def written(new: list[dict[str, object]]) -> Path:
        d = tmp_path / f"b{len(list(tmp_path.iterdir()))}"
        d.mkdir()
        (d / "manifest.json").write_text((out / "manifest.json").read_text())
        (d / "records.jsonl").write_text("".join(json.dumps(x) + "\n" for x in new))
        return d

    forged = dict(lines[1], payload_sha256="0" * 64)  # another call's digest swapped: its hash no longer holds
    problem = verify_bundle(written([lines[0], forged, lines[2]]))[0]
    assert problem is not None and problem.seq == 5 and "modified" in problem.reason
    hidden = {k: v for k, v in lines[0].items() if k != "payload"}  # the request's own record without content
    problem = verify_bundle(written([hidden, lines[1], lines[2]]))[0]
    assert problem is not None and problem.seq == 4


def test_a_bundle_ends_at_the_first_anchor_after_its_request(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However long the chain, a bundle carries the records up to the next published anchor, not the head."""
    monkeypatch.setattr(audit_anchors, "ANCHOR_EVERY", 5)
    fill(engine, 2)
    with engine.begin() as conn:
        append(conn, [entry(100, "req-x"), entry(101, "req-x")])  # records 3 and 4
    fill(engine, 8)  # up to record 12
    with engine.begin() as conn:
        append(conn, [entry(102, "req-late")])  # record 13: the chain has not reached anchor 15 yet
        hashes = dict(conn.execute(select(AuditRecord.seq, AuditRecord.hash)).tuples().all())
        anchors = audit_anchors.list_anchors(conn, after=0, limit=10)
        assert [(a.seq, a.hash) for a in anchors] == [(5, hashes[5]), (10, hashes[10])]
        assert [a.seq for a in audit_anchors.list_anchors(conn, after=5, limit=10)] == [10]
        assert audit_anchors.list_anchors(conn, after=10, limit=10) == []

    manifest = export_bundle(engine, "req-x", tmp_path / "x")
    assert manifest["end"] == {"seq": 5, "hash": hashes[5], "anchor": True}
    seqs = [json.loads(x)["seq"] for x in (tmp_path / "x" / "records.jsonl").read_text().splitlines()]
    assert seqs == [3, 4, 5]
    assert verify_bundle(tmp_path / "x")[0] is None
    late = export_bundle(engine, "req-late", tmp_path / "late")
    assert late["end"] == {"seq": 13, "hash": hashes[13], "anchor": False}

    # a bundle of the former format, which named its end "head", still verifies
    old = tmp_path / "old"
    old.mkdir()
    (old / "records.jsonl").write_text((tmp_path / "x" / "records.jsonl").read_text())
    manifest_2 = {k: v for k, v in manifest.items() if k != "end"}
    (old / "manifest.json").write_text(
        json.dumps(manifest_2 | {"format": "ndx-audit-bundle/2", "head": {"seq": 5, "hash": hashes[5]}})
    )
    assert verify_bundle(old)[0] is None
    (old / "manifest.json").write_text(
        json.dumps(manifest_2 | {"format": "ndx-audit-bundle/2", "head": {"seq": 13, "hash": hashes[13]}})
    )
    problem = verify_bundle(old)[0]
    assert problem is not None and "manifest names record 13" in problem.reason

    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify", "--bundle", str(tmp_path / "x")])
    assert ok.exit_code == 0 and "anchor 5" in ok.output, ok.output


def test_a_chain_of_version_1_and_version_2_records_verifies_and_exports(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        append_v1(conn, [entry(1), entry(2, "old-req"), entry(3)])
    fill(engine, 3)  # written by today's code: version 2
    with engine.connect() as conn:
        assert list(conn.scalars(select(AuditRecord.hash_v).order_by(AuditRecord.seq))) == [1, 1, 1, 2, 2, 2]
    assert verify_database(engine) == (None, 6)
    export_bundle(engine, "old-req", tmp_path / "old")
    lines = [json.loads(x) for x in (tmp_path / "old" / "records.jsonl").read_text().splitlines()]
    assert [("payload" in x) for x in lines] == [True, True, False, False, False]  # version 1 cannot be hidden
    assert verify_bundle(tmp_path / "old")[0] is None
    _set(engine, 2, hash_v=2)  # claiming the other form does not make a record's hash hold
    assert verify_database(engine)[0] == Problem(2, "modified: the hash does not match the record's content")
    _set(engine, 2, hash_v=1, payload=_payload(engine, 2).replace('"row_count":1', '"row_count":0'))
    assert verify_database(engine)[0] == Problem(2, "modified: the hash does not match the record's content")


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


def words(text_: str) -> str:
    """Console output with its line wrapping undone."""
    return " ".join(text_.split())


def _rewrite_whole(engine: Engine, seq: int) -> None:
    """What whoever controls the database could do: change record ``seq`` and recompute every hash after it,
    and the head, so the chain holds together again."""
    with engine.begin() as conn:
        rows = conn.execute(
            select(AuditRecord.seq, AuditRecord.prev_hash, AuditRecord.payload, AuditRecord.hash_v)
            .where(AuditRecord.seq >= seq)
            .order_by(AuditRecord.seq)
        ).all()
        prev = rows[0].prev_hash
        for r in rows:
            payload = r.payload.replace('"row_count":1', '"row_count":0') if r.seq == seq else r.payload
            digest = chain_hash(prev, payload, r.hash_v)
            values = {"prev_hash": prev, "hash": digest, "payload": payload}
            if r.seq == seq:
                values["row_count"] = 0  # the indexed column too, so nothing disagrees with the payload
            conn.execute(update(AuditRecord).where(AuditRecord.seq == r.seq).values(**values))
            prev = digest
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))


def test_anchor_copies_catch_a_chain_rewritten_whole(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_anchors, "ANCHOR_EVERY", 5)
    monkeypatch.setenv("NDX_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("NDX_DATA_DIR", str(tmp_path))
    fill(engine, 2)
    with engine.begin() as conn:
        append(conn, [entry(100, "req-x")])  # record 3
    fill(engine, 9)  # up to 12: anchors 5 and 10
    runner = CliRunner()
    listed = runner.invoke(cli, ["audit", "anchors"])
    assert listed.exit_code == 0, listed.output
    copies = tmp_path / "anchors.txt"
    copies.write_text("# kept by the court\n" + listed.stdout)  # what an auditor kept, as printed
    ok = runner.invoke(cli, ["audit", "verify", "--anchors", str(copies)])
    assert ok.exit_code == 0 and "holds your 2 anchor copies" in words(ok.output), ok.output
    export_bundle(engine, "req-x", tmp_path / "before")
    ok = runner.invoke(cli, ["audit", "verify", "--bundle", str(tmp_path / "before"), "--anchors", str(copies)])
    assert ok.exit_code == 0 and "matches your copies of anchors 5" in words(ok.output), ok.output

    _rewrite_whole(engine, 3)
    assert verify_database(engine) == (None, 12)  # the chain holds together: only the copies can tell
    bad = runner.invoke(cli, ["audit", "verify", "--anchors", str(copies)])
    assert bad.exit_code == 1 and bad.stdout.strip().splitlines()[-1] == "5", bad.output
    assert "differs from your copy of anchor 5" in words(bad.output)
    export_bundle(engine, "req-x", tmp_path / "after")
    assert verify_bundle(tmp_path / "after")[0] is None  # intact in itself
    bad = runner.invoke(cli, ["audit", "verify", "--bundle", str(tmp_path / "after"), "--anchors", str(copies)])
    assert bad.exit_code == 1 and "differs from your copy of anchor 5" in words(bad.output), bad.output

    for text_, reason in (("5 abc\n", "expected 'SEQ HASH'"), (f"7 {'a' * 64}\n", "7 is not an anchor")):
        copies.write_text(text_)
        refused = runner.invoke(cli, ["audit", "verify", "--anchors", str(copies)])
        assert refused.exit_code == 2 and reason in words(refused.output) and "anchors.txt:1" in refused.output


def test_anchors_are_published_to_anyone_page_by_page(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(audit_anchors, "ANCHOR_EVERY", 2)
    w, c = world, world.client
    w.grant("hcm_dev", "population-citizen", ["full_name"], "social-assistance")
    for _ in range(5):
        res = c.get("/api/v1/datasets/population-citizen/records?limit=1", headers=w.h("hcm_dev", "social-assistance"))
        assert res.status_code == 200
    records = {r["seq"]: r["hash"] for r in c.get("/api/v1/audit?limit=1000", headers=w.h("admin")).json()["items"]}
    seen, cursor = [], None
    while True:
        page = c.get("/api/v1/audit/anchors", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    head = max(records)
    assert [a["seq"] for a in seen] == list(range(2, head + 1, 2))  # anonymous, oldest first, none skipped
    assert all(a["hash"] == records[a["seq"]] for a in seen)
    bad = c.get("/api/v1/audit/anchors?cursor=not-a-cursor")
    assert bad.status_code == 422 and "cursor" in bad.json()["error"]["message"]

    # the page and the text file anyone can take a copy from; the file is what `verify --anchors` reads
    page = c.get("/audit/anchors", params={"lang": "vi"})
    assert page.status_code == 200 and "Mốc của chuỗi nhật ký kiểm toán" in page.text
    assert all(a["hash"] in page.text for a in seen)
    text_ = c.get("/audit/anchors.txt")
    assert text_.status_code == 200 and text_.headers["content-type"].startswith("text/plain")
    (tmp_path / "anchors.txt").write_text(text_.text)
    assert audit_anchors.read_copies(tmp_path / "anchors.txt") == {a["seq"]: a["hash"] for a in seen}


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

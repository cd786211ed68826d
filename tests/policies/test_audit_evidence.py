"""Evidence a third party can check: bundles (ending at anchors), anchor copies, and the published anchors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from ndx.cli import app as cli
from policies import audit_anchors
from policies.audit import (
    append,
    chain_hash,
)
from policies.audit_bundle import export_bundle, verify_bundle
from policies.audit_verify import Problem, verify_database
from policies.models import AuditHead, AuditRecord
from tests.policies.audit_helpers import append_v1, entry, fill, payload_at, set_columns
from tests.policies.world import World, world_fixture  # noqa: F401  (fixture)


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
    set_columns(engine, 2, hash_v=2)  # claiming the other form does not make a record's hash hold
    assert verify_database(engine)[0] == Problem(2, "modified: the hash does not match the record's content")
    set_columns(engine, 2, hash_v=1, payload=payload_at(engine, 2).replace('"row_count":1', '"row_count":0'))
    assert verify_database(engine)[0] == Problem(2, "modified: the hash does not match the record's content")


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

"""Helpers of the audit tests: entries, a chain written the way the code before migration p0004 wrote it,
and direct edits of stored records (what tampering looks like)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from policies.audit import AuditEntry, append, chain_hash, payload_of
from policies.models import AuditHead, AuditRecord, AuditSubjectLog


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


def set_columns(engine: Engine, seq: int, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(**values))


def payload_at(engine: Engine, seq: int) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(select(AuditRecord.payload).where(AuditRecord.seq == seq)))

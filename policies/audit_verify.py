"""Verifying the audit chain: every record's hash, its link to the one before, the head, the subject index.

Used by ``ndx audit verify`` on the platform database and, through ``check_chain``, on exported evidence
bundles, which a third party checks with no access to the platform.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from policies.audit import GENESIS, HEAD, INDEXED, RECORDS, chain_hash, link_hash, sha256_hex
from policies.audit_subjects import all_subjects


@dataclass(frozen=True, slots=True)
class StoredRecord:
    seq: int
    prev_hash: str
    hash: str
    payload: str | None  # None: a bundle shows only its digest (another request's record)
    columns: dict[str, Any] | None = None  # the searchable columns, when read from the database
    subjects: tuple[str, ...] | None = None  # the subject index rows, when read from the database
    hash_v: int = 1  # how the hash covers the payload (policies.audit)
    payload_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    reason: str


def check_chain(
    records: Iterable[StoredRecord], *, first_seq: int = 1, first_prev: str | None = GENESIS
) -> tuple[Problem | None, int, str]:
    """Walk records in order; the first problem (or None), the last sequence number and hash seen.

    ``first_prev`` None trusts the first record's ``prev_hash`` (a bundle starts mid-chain).
    """
    expected_seq, prev = first_seq, first_prev
    last_seq, last_hash = first_seq - 1, first_prev or ""
    for rec in records:
        if rec.seq != expected_seq:
            if rec.seq > expected_seq:
                return (
                    Problem(expected_seq, f"record {expected_seq} is missing (next is {rec.seq})"),
                    last_seq,
                    last_hash,
                )
            return (
                Problem(expected_seq, f"record {rec.seq} is out of order (expected {expected_seq})"),
                last_seq,
                last_hash,
            )
        if prev is not None and rec.prev_hash != prev:
            return Problem(rec.seq, "broken link: prev_hash is not the hash of the record before"), last_seq, last_hash
        computed, why = _hash_of(rec)
        if computed is None:
            return Problem(rec.seq, why), last_seq, last_hash
        if computed != rec.hash:
            return Problem(rec.seq, "modified: the hash does not match the record's content"), last_seq, last_hash
        if rec.payload is None:  # shown by digest only: its link is proven, its content is not shown
            expected_seq, prev = rec.seq + 1, rec.hash
            last_seq, last_hash = rec.seq, rec.hash
            continue
        try:
            data = json.loads(rec.payload)
        except ValueError:
            return Problem(rec.seq, "payload is not JSON"), last_seq, last_hash
        if not isinstance(data, dict) or data.get("seq") != rec.seq:
            return Problem(rec.seq, "reordered: the payload carries another sequence number"), last_seq, last_hash
        if rec.columns is not None:
            for name, value in rec.columns.items():
                want = data.get(name)
                if name == "at":
                    value = value.isoformat() if isinstance(value, datetime) else value
                if value != want:
                    return (
                        Problem(rec.seq, f"modified: column {name} differs from the hashed record"),
                        last_seq,
                        last_hash,
                    )
        if rec.subjects is not None and sorted(rec.subjects) != sorted(set(data.get("subjects") or [])):
            return Problem(rec.seq, "modified: subject index differs from the hashed record"), last_seq, last_hash
        expected_seq, prev = rec.seq + 1, rec.hash
        last_seq, last_hash = rec.seq, rec.hash
    return None, last_seq, last_hash


def _hash_of(rec: StoredRecord) -> tuple[str | None, str]:
    """The hash ``rec`` should carry, or None and why it cannot be computed."""
    if rec.hash_v == 1:
        if rec.payload is None:
            return None, "the record's hash covers its payload, which is left out"
        return chain_hash(rec.prev_hash, rec.payload, 1), ""
    if rec.hash_v != 2:
        return None, f"unknown hash version {rec.hash_v}"
    digest = sha256_hex(rec.payload) if rec.payload is not None else rec.payload_sha256
    if digest is None:
        return None, "neither the payload nor its digest is given"
    if rec.payload_sha256 is not None and digest != rec.payload_sha256:
        return None, "modified: the payload does not match its digest"
    return link_hash(rec.prev_hash, digest), ""


def _stored(conn: Connection, chunk: int = 5000) -> Iterator[StoredRecord]:
    """Every record in order, with its searchable columns and its subject index rows.

    The subject index is kept by citizen for "who read my data" (``policies.audit_subjects``), so its rows,
    log and runs together, are read in one stream sorted by seq and merged with the records, rather than
    looked up per record or per range.
    """
    stream = conn.execution_options(yield_per=chunk).execute(all_subjects())
    subjects = iter(stream)
    nxt = next(subjects, None)
    lo = 0
    try:
        while True:
            rows = conn.execute(select(RECORDS).where(RECORDS.c.seq > lo).order_by(RECORDS.c.seq).limit(chunk)).all()
            if not rows:
                return
            for r in rows:
                mine: list[str] = []
                while nxt is not None and nxt.seq <= r.seq:
                    if nxt.seq == r.seq:
                        mine.append(nxt.citizen_id)
                    nxt = next(subjects, None)
                columns = {name: getattr(r, name) for name in INDEXED}
                columns["at"] = r.at
                yield StoredRecord(r.seq, r.prev_hash, r.hash, r.payload, columns, tuple(mine), r.hash_v)
            lo = rows[-1].seq
    finally:
        stream.close()


def _snapshot(conn: Connection) -> None:
    """Read all that follows in one snapshot, so records appended and subjects moved meanwhile (the platform
    keeps serving) never look like tampering."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")  # the driver opens no transaction for reads by itself
    else:
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def verify_database(engine: Engine) -> tuple[Problem | None, int]:
    """Check the whole chain in the platform database: the first problem (or None) and the records checked."""
    with engine.connect() as conn:
        _snapshot(conn)
        problem, last_seq, last_hash = check_chain(_stored(conn))
        if problem is not None:
            return problem, last_seq
        head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    if head is None:
        return Problem(1, "the chain head row is missing"), last_seq
    if int(head[0]) != last_seq or (last_seq and head[1] != last_hash):
        return Problem(last_seq + 1, f"records after {last_seq} are missing: the head names record {head[0]}"), last_seq
    return None, last_seq

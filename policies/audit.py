"""The tamper-evident audit log: one append-only hash chain of records, written before any answer leaves.

Each record's ``payload`` is canonical JSON (sorted keys, no spaces, UTF-8) that includes its sequence
number; its hash is ``sha256(prev_hash + "\\n" + payload)``. The head row (one row, ``audit_head``) holds
the last sequence number and hash: every appender locks it first, so the chain has one order across
threads, workers and replicas, and a deleted tail is caught because the head still names it.

Group commit (shared/PERFORMANCE.md): concurrent requests hand their entries to one ``AuditWriter`` per
process, which appends whatever has queued up in one transaction and wakes each request once its batch is
committed. If the write fails, every request of the batch fails with 503 (fail closed).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection, Engine

from ndx.errors import Unavailable
from policies.models import AuditHead, AuditRecord, AuditSubject

log = logging.getLogger("ndx.audit")
GENESIS = "0" * 64
_HEAD = cast(Table, AuditHead.__table__)
_RECORD = cast(Table, AuditRecord.__table__)
_SUBJECT = cast(Table, AuditSubject.__table__)
INDEXED = ("kind", "request_id", "user_id", "org_code", "dataset", "grant_id", "status", "row_count")


@dataclass(slots=True)
class AuditEntry:
    """What happened: one access decision, query, verification or administrative action."""

    kind: str  # query | verify | decision | admin | subject_read
    at: datetime
    status: int
    request_id: str | None = None
    user_id: int | None = None
    user: str | None = None  # e-mail, so a bundle names the person without the platform database
    org_code: str | None = None
    grant_id: int | None = None
    purpose: str | None = None
    case: str | None = None
    dataset: str | None = None
    action: str | None = None  # e.g. approve, reject, revoke, reload-policies, GET /records
    fields: list[str] = field(default_factory=list)
    filter: dict[str, Any] = field(default_factory=dict)
    row_count: int = 0
    request_hash: str | None = None
    response_hash: str | None = None
    keys: list[str] = field(default_factory=list)  # primary keys of the records touched
    subjects: list[str] = field(default_factory=list)  # citizen ids of the records touched
    detail: dict[str, Any] = field(default_factory=dict)


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def chain_hash(prev_hash: str, payload: str) -> str:
    return sha256_hex(prev_hash + "\n" + payload)


ENTRY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AuditEntry))


def payload_of(entry: AuditEntry, seq: int) -> str:
    # a shallow dict: dataclasses.asdict deep-copies every list and costs more than the hashing
    data = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    data["at"] = entry.at.isoformat()
    data["seq"] = seq
    return canonical(data)


# --- appending ---------------------------------------------------------------------------------------------

_LOCK_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq).returning(_HEAD.c.seq, _HEAD.c.hash)


def append(conn: Connection, entries: Sequence[AuditEntry]) -> list[int]:
    """Append ``entries`` to the chain inside the caller's transaction; returns their sequence numbers.

    The first statement writes the head row, which takes its lock (a write lock on SQLite, a row lock on
    PostgreSQL) before the head is read, so two appenders can never chain onto the same record.
    """
    if not entries:
        return []
    head = conn.execute(_LOCK_HEAD).first()
    if head is None:
        raise Unavailable("the audit chain has no head row: run `ndx db upgrade`")
    seq, prev = int(head[0]), str(head[1])
    rows: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    seqs: list[int] = []
    for entry in entries:
        seq += 1
        payload = payload_of(entry, seq)
        digest = chain_hash(prev, payload)
        rows.append(
            {
                "seq": seq,
                "prev_hash": prev,
                "hash": digest,
                "payload": payload,
                "at": entry.at,
                **{name: getattr(entry, name) for name in INDEXED},
            }
        )
        subjects.extend({"seq": seq, "citizen_id": s} for s in sorted(set(entry.subjects)))
        seqs.append(seq)
        prev = digest
    conn.execute(insert(_RECORD), rows)
    if subjects:
        conn.execute(insert(_SUBJECT), subjects)
    conn.execute(update(_HEAD).where(_HEAD.c.id == 1).values(seq=seq, hash=prev))
    return seqs


class AuditWriter:
    """One per process: batches the entries of concurrent requests into one transaction (group commit)."""

    def __init__(self, engine: Engine, *, inline: bool = True) -> None:
        # inline: the batch is written on the event loop's thread. A worker thread would have to win the GIL
        # back from a busy loop for every statement (up to 5 ms each), which measured 4x slower; the loop
        # blocks for one short transaction per batch instead, while new requests queue for the next batch.
        self.inline = inline
        self._engine = engine
        self._pending: list[tuple[AuditEntry, asyncio.Future[int]]] = []
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ndx-audit")
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0

    async def start(self) -> None:
        """Start (or restart) the writer on the running event loop."""
        self._pending, self._wake, self._closing = [], asyncio.Event(), False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ndx-audit")
        self._task = asyncio.create_task(self._run(), name="ndx-audit-writer")

    async def stop(self) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)

    async def append(self, entry: AuditEntry) -> int:
        """Queue ``entry`` and wait until the transaction holding it has committed; its sequence number."""
        if self._task is None or self._task.done() or self._closing:
            raise Unavailable("the audit log is not running; the call was refused")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, future))
        self._wake.set()
        return await future

    def _write(self, entries: list[AuditEntry]) -> list[int]:
        with self._engine.begin() as conn:
            return append(conn, entries)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                try:
                    if self.inline:
                        seqs = self._write([e for e, _ in batch])
                    else:
                        seqs = await loop.run_in_executor(self._executor, self._write, [e for e, _ in batch])
                except Exception:
                    log.exception("audit batch of %d records could not be written", len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(Unavailable("the audit log cannot be written; the call was refused"))
                else:
                    self.batches += 1
                    for (_, future), seq in zip(batch, seqs, strict=True):
                        if not future.done():
                            future.set_result(seq)
            if self._closing and not self._pending:
                return


# --- verifying ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRecord:
    seq: int
    prev_hash: str
    hash: str
    payload: str
    columns: dict[str, Any] | None = None  # the searchable columns, when read from the database
    subjects: tuple[str, ...] | None = None  # the subject index rows, when read from the database


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
        if chain_hash(rec.prev_hash, rec.payload) != rec.hash:
            return Problem(rec.seq, "modified: the hash does not match the record's content"), last_seq, last_hash
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


def _stored(conn: Connection, chunk: int = 5000) -> Iterator[StoredRecord]:
    lo = 0
    while True:
        rows = conn.execute(select(_RECORD).where(_RECORD.c.seq > lo).order_by(_RECORD.c.seq).limit(chunk)).all()
        if not rows:
            return
        hi = rows[-1].seq
        subjects: dict[int, list[str]] = {}
        for s in conn.execute(select(_SUBJECT).where(_SUBJECT.c.seq > lo, _SUBJECT.c.seq <= hi)):
            subjects.setdefault(s.seq, []).append(s.citizen_id)
        for r in rows:
            columns = {name: getattr(r, name) for name in INDEXED}
            columns["at"] = r.at
            yield StoredRecord(r.seq, r.prev_hash, r.hash, r.payload, columns, tuple(subjects.get(r.seq, ())))
        lo = hi


def verify_database(engine: Engine) -> tuple[Problem | None, int]:
    """Check the whole chain in the platform database: the first problem (or None) and the records checked."""
    with engine.connect() as conn:
        problem, last_seq, last_hash = check_chain(_stored(conn))
        if problem is not None:
            return problem, last_seq
        head = conn.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).first()
    if head is None:
        return Problem(1, "the chain head row is missing"), last_seq
    if int(head[0]) != last_seq or (last_seq and head[1] != last_hash):
        return Problem(last_seq + 1, f"records after {last_seq} are missing: the head names record {head[0]}"), last_seq
    return None, last_seq

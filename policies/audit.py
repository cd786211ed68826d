"""The tamper-evident audit log: one append-only hash chain of records, written before any answer leaves.

Each record's ``payload`` is canonical JSON (sorted keys, no spaces, UTF-8) that includes its sequence
number; its hash is ``sha256(prev_hash + "\\n" + payload)``. The head row (one row, ``audit_head``) holds
the last sequence number and hash: every appender locks it first, so the chain has one order across
threads, workers and replicas, and a deleted tail is caught because the head still names it.

Group commit (shared/PERFORMANCE.md): concurrent requests hand their entries to one ``AuditWriter`` per
process, which appends whatever has queued up in one transaction and wakes each request once its batch is
committed. If the write fails, every request of the batch fails with 503 (fail closed). Each entry's
payload is serialised when it is queued, around a slot for its sequence number, so the locked part of a
batch is string joins and sha256; the batch runs on a raw driver connection with statements compiled once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection, Engine

from ndx.checkpoint import WalCheckpointer, is_sqlite_file, no_autocheckpoint
from ndx.direct_sql import DirectConnection
from ndx.errors import Unavailable
from ndx.turns import Turns, turns_path
from policies.models import AuditHead, AuditRecord, AuditSubject

log = logging.getLogger("ndx.audit")
GENESIS = "0" * 64
HEAD = cast(Table, AuditHead.__table__)
RECORDS = cast(Table, AuditRecord.__table__)
SUBJECTS = cast(Table, AuditSubject.__table__)
INDEXED = ("kind", "request_id", "user_id", "org_code", "dataset", "grant_id", "status", "row_count")


@dataclass(slots=True, kw_only=True)
class AuditEntry:
    """What happened: one access decision, query, verification or administrative action.

    Fields are in alphabetical order: orjson writes a dataclass's fields in their declared order, so the
    record serialises straight to its canonical (sorted) JSON without an intermediate dict.
    """

    action: str | None = None  # e.g. approve, reject, revoke, reload-policies, GET /records
    at: datetime
    case: str | None = None
    dataset: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)
    filter: dict[str, Any] = field(default_factory=dict)
    grant_id: int | None = None
    keys: list[str] = field(default_factory=list)  # primary keys of the records touched
    kind: str  # query | verify | decision | admin | subject_read
    org_code: str | None = None
    purpose: str | None = None
    request_hash: str | None = None
    request_id: str | None = None
    response_hash: str | None = None
    row_count: int = 0
    seq: int = 0  # left 0 here: the writer puts the record's place in the chain into its payload
    status: int
    subjects: list[str] = field(default_factory=list)  # citizen ids of the records touched
    user: str | None = None  # e-mail, so a bundle names the person without the platform database
    user_id: int | None = None


def _json_default(value: Any) -> Any:
    """What JSON lacks: dates and times in ISO 8601 (as orjson writes them), a dataclass as its fields (the
    standard library's fallback; orjson writes dataclasses itself), anything else (decimals) as str."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)
_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical(obj: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text; dates and times in ISO 8601, decimals as ``str()``.

    orjson writes it (a tenth of the standard library's time; the text is the same but for floats in
    exponent form, ``1e-7`` for ``1e-07``); what orjson refuses (an integer beyond 64 bits) falls back to
    ``json.dumps`` with the same options. Verifiers never re-serialise: they hash the stored text.
    """
    try:
        return orjson.dumps(obj, option=_ORJSON, default=_json_default).decode("utf-8")
    except orjson.JSONEncodeError:
        return _CANONICAL.encode(obj)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def chain_hash(prev_hash: str, payload: str) -> str:
    return sha256_hex(prev_hash + "\n" + payload)


ENTRY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AuditEntry))
if list(ENTRY_FIELDS) != sorted(ENTRY_FIELDS):  # pragma: no cover
    raise RuntimeError("AuditEntry's fields must be declared in alphabetical order (see its docstring)")
_AFTER_SEQ = tuple(sorted(n for n in ENTRY_FIELDS if n > "seq"))
if _AFTER_SEQ != ("status", "subjects", "user", "user_id"):  # pragma: no cover
    raise RuntimeError("payload_parts assumes no field that can hold an object sorts after seq")


def payload_parts(entry: AuditEntry) -> tuple[str, str]:
    """The canonical payload of ``entry`` split where its sequence number goes: ``a + str(seq) + b``.

    Keys are sorted, so ``seq`` sits between the keys before it and after it; joining the two halves
    gives exactly ``canonical()`` of the whole record (a test holds the two equal).
    """
    text = canonical(entry)  # the dataclass itself: its fields are declared in sorted order
    # the top-level "seq" is the last such key: the fields sorted after it hold no objects, and a quote
    # inside a string is escaped, so no other '"seq":' can follow it
    number = str(entry.seq)
    at = text.rindex('"seq":' + number) + 6
    return text[:at], text[at + len(number) :]


def payload_of(entry: AuditEntry, seq: int) -> str:
    head, tail = payload_parts(entry)
    return head + str(seq) + tail


# --- appending ---------------------------------------------------------------------------------------------

_LOCK_HEAD = update(HEAD).where(HEAD.c.id == 1).values(seq=HEAD.c.seq).returning(HEAD.c.seq, HEAD.c.hash)
_SET_HEAD = update(HEAD).where(HEAD.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
_INSERT_RECORD = insert(RECORDS)
_INSERT_SUBJECT = insert(SUBJECTS)


@dataclass(slots=True)
class _Queued:
    """An entry made ready for the chain before the head is locked: all but its seq and hashes."""

    head: str
    tail: str
    columns: dict[str, Any]
    subjects: list[str]


def _queued(entry: AuditEntry) -> _Queued:
    head, tail = payload_parts(entry)
    columns = {name: getattr(entry, name) for name in INDEXED}
    columns["at"] = entry.at
    return _Queued(head, tail, columns, sorted(set(entry.subjects)))


def _chain(
    queued: Sequence[_Queued], seq: int, prev: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int], int, str]:
    """Link ``queued`` after (seq, prev): record rows, subject rows, their seqs, and the new head."""
    rows: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    seqs: list[int] = []
    for q in queued:
        seq += 1
        payload = q.head + str(seq) + q.tail
        digest = chain_hash(prev, payload)
        rows.append({"seq": seq, "prev_hash": prev, "hash": digest, "payload": payload, **q.columns})
        subjects.extend({"seq": seq, "citizen_id": s} for s in q.subjects)
        seqs.append(seq)
        prev = digest
    return rows, subjects, seqs, seq, prev


def append(conn: Connection, entries: Sequence[AuditEntry]) -> list[int]:
    """Append ``entries`` to the chain inside the caller's transaction; returns their sequence numbers.

    The first statement writes the head row, which takes its lock (a write lock on SQLite, a row lock on
    PostgreSQL) before the head is read, so two appenders can never chain onto the same record.
    """
    if not entries:
        return []
    queued = [_queued(e) for e in entries]
    head = conn.execute(_LOCK_HEAD).first()
    if head is None:
        raise Unavailable("the audit chain has no head row: run `ndx db upgrade`")
    rows, subjects, seqs, seq, prev = _chain(queued, int(head[0]), str(head[1]))
    conn.execute(insert(RECORDS), rows)
    if subjects:
        conn.execute(insert(SUBJECTS), subjects)
    conn.execute(_SET_HEAD, {"new_seq": seq, "new_hash": prev})
    return seqs


class AuditWriter:
    """One per process: batches the entries of concurrent requests into one transaction (group commit).

    The batch is written on the event loop's thread, between requests. Entries are serialised when queued,
    so a batch is a few driver calls and the fsync of the commit. When woken, the writer first lets the
    loop finish the requests it is busy with (``gather_s`` at most): they join the batch, and a busy loop
    pays one fsync per few dozen requests instead of one per few; an idle loop commits at once. A writer
    thread (whole batch, or the commit only) measured slower: it must win the GIL back from the busy loop
    after every driver call, which stretched batches from about 1.5 ms to 7-10 ms.

    On SQLite the writers of several worker processes take turns (``ndx.turns``: a ``flock`` tried without
    blocking, and a FIFO that wakes the waiting loop when the turn is given back): while another process
    commits, this loop keeps serving and the waiting batch grows. PostgreSQL queues the writers on the head
    row's lock.
    """

    def __init__(self, engine: Engine, *, gather_s: float = 0.002, max_batch: int = 256) -> None:
        self._engine = engine
        # on SQLite, checkpoints run in a thread of their own, never inside the writer's commits
        sqlite = is_sqlite_file(engine)
        self._direct = DirectConnection(engine, autocommit=False, init=no_autocheckpoint if sqlite else None)
        self._turns_path = turns_path(engine.url.database) if sqlite else None
        self.checkpointer = WalCheckpointer(engine, self._turns_path) if sqlite else None
        self.turns: Turns | None = None
        self.turn_waits = 0  # batches that waited for another process's turn (counted when stopped)
        self._pending: list[tuple[_Queued, asyncio.Future[int]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.gather_s = gather_s
        self.max_batch = max_batch
        self.batches = 0
        self.records = 0
        self.write_seconds = 0.0

    async def start(self) -> None:
        """Start (or restart) the writer on the running event loop."""
        self._pending, self._wake, self._closing = [], asyncio.Event(), False
        if self._turns_path is not None and self.turns is None:
            self.turns = Turns(self._turns_path)
        if self.checkpointer is not None:
            self.checkpointer.start()
        self._task = asyncio.create_task(self._run(), name="ndx-audit-writer")

    async def stop(self) -> None:
        """Write what is queued, then stop; later appends are refused."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)
        if self.turns is not None:
            self.turn_waits += self.turns.waits
            self.turns.close()
            self.turns = None
        self._direct.close()

    async def append(self, entry: AuditEntry) -> int:
        """Queue ``entry`` and wait until the transaction holding it has committed; its sequence number."""
        if self._task is None or self._task.done() or self._closing:
            raise Unavailable("the audit log is not running; the call was refused")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((_queued(entry), future))
        self._wake.set()
        return await future

    async def _gather(self) -> None:
        """Let the requests the loop is busy with join this batch: yield while each turn of the loop adds
        entries, up to ``gather_s`` or ``max_batch``; an idle loop commits at once."""
        if self.gather_s <= 0:
            return
        deadline = time.perf_counter() + self.gather_s
        seen = -1
        while seen != len(self._pending) and len(self._pending) < self.max_batch and time.perf_counter() < deadline:
            seen = len(self._pending)
            await asyncio.sleep(0)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._pending:
                await self._gather()
                if self.turns is not None:
                    await self.turns.wait_take()  # another process is writing: serve requests meanwhile
                batch, self._pending = self._pending, []
                started = time.perf_counter()
                try:
                    seqs = self._write([q for q, _ in batch])
                except Exception:
                    log.exception("audit batch of %d records could not be written", len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(Unavailable("the audit log cannot be written; the call was refused"))
                else:
                    self.batches += 1
                    self.records += len(batch)
                    for (_, future), seq in zip(batch, seqs, strict=True):
                        if not future.done():
                            future.set_result(seq)
                finally:
                    if self.turns is not None:
                        self.turns.give()
                self.write_seconds += time.perf_counter() - started
            if self._closing and not self._pending:
                return

    def _write(self, queued: list[_Queued]) -> list[int]:
        """One transaction on the writer's own connection: lock the head, insert, move the head, commit."""
        direct = self._direct
        lock = direct.prepared(_LOCK_HEAD)
        records = direct.prepared(_INSERT_RECORD)
        subjects_stmt = direct.prepared(_INSERT_SUBJECT)
        set_head = direct.prepared(_SET_HEAD)
        conn = direct.connection()
        try:
            cur = conn.cursor()
            try:
                cur.execute(*lock.bind({}))
                head = cur.fetchall()
                if not head:
                    raise Unavailable("the audit chain has no head row: run `ndx db upgrade`")
                rows, subjects, seqs, seq, prev = _chain(queued, int(head[0][0]), str(head[0][1]))
                cur.executemany(records.sql, records.bind_many(rows))
                if subjects:
                    cur.executemany(subjects_stmt.sql, subjects_stmt.bind_many(subjects))
                cur.execute(*set_head.bind({"new_seq": seq, "new_hash": prev}))
            finally:
                cur.close()
            conn.commit()
        except BaseException as exc:
            self._rollback(conn, exc)
            raise
        return seqs

    def _rollback(self, conn: Any, exc: BaseException) -> None:
        direct = self._direct
        try:
            conn.rollback()
        except direct.errors:
            direct.discard()
        else:
            if isinstance(exc, direct.errors) and direct.dialect.is_disconnect(cast(Any, exc), conn, None):
                direct.discard()

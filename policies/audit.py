"""The tamper-evident audit log: one append-only hash chain of records, written before any answer leaves.

Each record's ``payload`` is canonical JSON (sorted keys, no spaces, UTF-8) that includes its sequence
number; its hash is ``sha256(prev_hash + "\\n" + sha256(payload))`` (``hash_v`` 2; records written before
migration p0004 hashed the payload's text itself, ``hash_v`` 1). Hashing the payload's digest lets an
evidence bundle prove the links of the records around a request while showing only their digests.

The head row (one row, ``audit_head``) holds the last sequence number and hash: every appender locks it
first, so the chain has one order across threads, workers and replicas, and a deleted tail is caught
because the head still names it.

Each entry's payload is serialised when it is queued (``queued``), around a slot for its sequence number,
so the part of an append that holds the head's lock is string joins and sha256 (``link``). Requests hand
their entries to ``policies.audit_writer.AuditWriter`` (group commit); administrative actions append inside
their own transaction (``append``). Subjects go to an append-only log (``policies.audit_subjects``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection

from ndx.errors import Unavailable
from policies.models import AuditHead, AuditRecord, AuditSubjectLog

GENESIS = "0" * 64
HEAD = cast(Table, AuditHead.__table__)
RECORDS = cast(Table, AuditRecord.__table__)
SUBJECT_LOG = cast(Table, AuditSubjectLog.__table__)
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


HASH_V = 2  # how new records are hashed (see the module)


def link_hash(prev_hash: str, payload_sha256: str) -> str:
    """A version-2 record's hash from the hash before it and its payload's sha256 (hex)."""
    return sha256_hex(prev_hash + "\n" + payload_sha256)


def chain_hash(prev_hash: str, payload: str, hash_v: int = HASH_V) -> str:
    """A record's hash: version 2 covers the payload's sha256, version 1 the payload's text."""
    if hash_v == 1:
        return sha256_hex(prev_hash + "\n" + payload)
    return link_hash(prev_hash, sha256_hex(payload))


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

LOCK_HEAD = update(HEAD).where(HEAD.c.id == 1).values(seq=HEAD.c.seq).returning(HEAD.c.seq, HEAD.c.hash)
SET_HEAD = update(HEAD).where(HEAD.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
INSERT_RECORD = insert(RECORDS)
INSERT_SUBJECT = insert(SUBJECT_LOG)


@dataclass(slots=True)
class Queued:
    """An entry made ready for the chain before the head is locked: all but its seq and hashes."""

    head: str
    tail: str
    columns: dict[str, Any]
    subjects: list[str]


def queued(entry: AuditEntry) -> Queued:
    head, tail = payload_parts(entry)
    columns = {name: getattr(entry, name) for name in INDEXED}
    columns["at"] = entry.at
    return Queued(head, tail, columns, sorted(set(entry.subjects)))


def link(
    queued: Sequence[Queued], seq: int, prev: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int], int, str]:
    """Link ``queued`` after (seq, prev): record rows, subject rows, their seqs, and the new head."""
    rows: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    seqs: list[int] = []
    for q in queued:
        seq += 1
        payload = q.head + str(seq) + q.tail
        digest = chain_hash(prev, payload)
        rows.append({"seq": seq, "prev_hash": prev, "hash": digest, "hash_v": HASH_V, "payload": payload, **q.columns})
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
    batch = [queued(e) for e in entries]
    head = conn.execute(LOCK_HEAD).first()
    if head is None:
        raise Unavailable("the audit chain has no head row: run `ndx db upgrade`")
    rows, subjects, seqs, seq, prev = link(batch, int(head[0]), str(head[1]))
    conn.execute(INSERT_RECORD, rows)
    if subjects:
        conn.execute(INSERT_SUBJECT, subjects)
    conn.execute(SET_HEAD, {"new_seq": seq, "new_hash": prev})
    return seqs

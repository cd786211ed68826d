"""Anchors of the audit chain: every ``ANCHOR_EVERY``-th record, published so that others can keep copies.

An evidence bundle has to tie a request's records to a hash its reader trusts. Tied to the head, a bundle of
a call made a year ago would carry every record written since (hundreds of millions of lines at national
volume). Tied to the first anchor at or after the call, it carries at most ``ANCHOR_EVERY`` records after
the call's own, whatever the chain's length; the head is used only while the chain has not reached that
anchor yet. An anchor is a record like any other (nothing extra is written): record ``k * ANCHOR_EVERY``
with its hash. ``GET /api/v1/audit/anchors`` lists them to anyone, and ``ndx audit anchors`` prints them, so
an auditor, a court or another agency can record each one as it appears and later compare a bundle's end
with their copy: rewriting the chain before an anchor someone holds is then detectable. A hash reveals
nothing of a call. ``ndx audit verify --anchors FILE`` checks the chain (or a bundle) against such copies:
the one check that catches a chain rewritten whole, every hash recomputed, by whoever controls the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ndx.errors import Invalid
from policies.audit import HEAD, RECORDS
from policies.audit_verify import Problem

ANCHOR_EVERY = 10_000


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int
    hash: str
    at: datetime


def anchor_for(seq: int) -> int:
    """The sequence number of the first anchor at or after record ``seq``."""
    return -(-seq // ANCHOR_EVERY) * ANCHOR_EVERY


def head_seq(conn: Connection) -> int:
    return int(conn.scalar(select(HEAD.c.seq).where(HEAD.c.id == 1)) or 0)


def list_anchors(conn: Connection, *, after: int, limit: int) -> list[Anchor]:
    """Up to ``limit`` anchors after record ``after``, oldest first (primary-key lookups only)."""
    first = anchor_for(after + 1)
    last = min(head_seq(conn), first + (limit - 1) * ANCHOR_EVERY)
    if last < first:
        return []
    wanted = list(range(first, last + 1, ANCHOR_EVERY))
    rows = conn.execute(
        select(RECORDS.c.seq, RECORDS.c.hash, RECORDS.c.at).where(RECORDS.c.seq.in_(wanted)).order_by(RECORDS.c.seq)
    ).all()
    return [Anchor(int(r.seq), str(r.hash), r.at) for r in rows]


def copy_line(anchor: Anchor) -> str:
    """One anchor as its copy keeps it, ``SEQ HASH TIME`` and a newline: what ``read_copies`` reads."""
    return f"{anchor.seq} {anchor.hash} {anchor.at.isoformat()}\n"


def read_copies(path: Path) -> dict[int, str]:
    """Anchor copies as ``ndx audit anchors`` prints them, ``SEQ HASH [TIME]`` a line (blank lines and lines
    starting with ``#`` skipped); errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"{path}: cannot read anchor copies ({getattr(exc, 'strerror', None) or exc})") from None
    copies: dict[int, str] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) < 2 or not parts[0].isdigit() or len(parts[1]) != 64 or not _is_hex(parts[1]):
            raise Invalid(f"{path}:{n}: expected 'SEQ HASH' (a record number and 64 hex digits), got {line.strip()!r}")
        seq = int(parts[0])
        if seq <= 0 or seq % ANCHOR_EVERY:
            raise Invalid(f"{path}:{n}: {seq} is not an anchor (every {ANCHOR_EVERY:,}th record is)")
        copies[seq] = parts[1].lower()
    return copies


def _is_hex(text: str) -> bool:
    return all(ch in "0123456789abcdefABCDEF" for ch in text)


def compare_copies(found: Mapping[int, str], copies: Mapping[int, str]) -> Problem | None:
    """The first anchor copy that the chain's records (``found``: seq -> hash) contradict, or None."""
    for seq in sorted(copies):
        if seq not in found:
            return Problem(seq, f"record {seq} is not in the chain, yet your copy of anchor {seq} says it was")
        if found[seq] != copies[seq]:
            return Problem(
                seq, f"record {seq}'s hash differs from your copy of anchor {seq}: the chain was rewritten up to it"
            )
    return None


def check_database(conn: Connection, copies: Mapping[int, str]) -> Problem | None:
    """Compare the chain in the database with ``copies`` (anchors beyond the head are missing records)."""
    wanted = sorted(copies)
    found: dict[int, str] = {}
    for i in range(0, len(wanted), 500):
        rows = conn.execute(select(RECORDS.c.seq, RECORDS.c.hash).where(RECORDS.c.seq.in_(wanted[i : i + 500])))
        found.update((int(seq), str(digest)) for seq, digest in rows)
    return compare_copies(found, copies)

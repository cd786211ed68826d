"""Anchors of the audit chain: every ``ANCHOR_EVERY``-th record, published so that others can keep copies.

An evidence bundle has to tie a request's records to a hash its reader trusts. Tied to the head, a bundle of
a call made a year ago would carry every record written since (hundreds of millions of lines at national
volume). Tied to the first anchor at or after the call, it carries at most ``ANCHOR_EVERY`` records after
the call's own, whatever the chain's length; the head is used only while the chain has not reached that
anchor yet. An anchor is a record like any other (nothing extra is written): record ``k * ANCHOR_EVERY``
with its hash. ``GET /api/v1/audit/anchors`` lists them to anyone, and ``ndx audit anchors`` prints them, so
an auditor, a court or another agency can record each one as it appears and later compare a bundle's end
with their copy: rewriting the chain before an anchor someone holds is then detectable. A hash reveals
nothing of a call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from policies.audit import HEAD, RECORDS

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

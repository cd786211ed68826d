"""The "who read my data" index, kept cheap to append to: an append-only log plus sorted runs.

Each audit record's subjects (citizen ids) are appended to ``audit_subject_log`` in the record's own
transaction, keyed (seq, citizen_id): a batch of records touches a page or two there. A by-citizen index
written at the same time dirtied one random page per subject, which measured as a third of the audit's
cost on the query route. A ``SubjectIndexer`` thread moves the log, once it holds ``flush_rows`` subjects,
into a new run of ``audit_subject`` written in key order (``flush``), and merges ``fanout`` live runs of
one level into one run of the next, up to ``MAX_LEVEL`` (runs of the top level stay as they are). A lookup
probes each live run once and scans the log (``subject_seqs``). With 4,096 subjects a flush and 16 runs a
merge, a level-n run holds about 4,096 x 16^n subjects: the top level (4) about 268 million, half a year
of national traffic, so a lookup probes at most 15 runs of each lower level plus a few top ones.

Every step is a short transaction, so the writers it holds back wait milliseconds, never the length of a
merge: a merge claims its input runs (``claim_merge``), writes the new run as ``building`` in slices of
about ``slice_rows`` by citizen id (``merge_slice``; each slice's upper bound is sought in the index just
before it, ``next_bound``, so nothing is read ahead however large the inputs), then in one transaction
makes it ``live`` and its inputs ``retired`` (``finish_merge``), whose rows are then deleted in chunks
(``drop_retired``; the run's own row stays, emptied, so run numbers are never reused). Readers see live
runs and the log only, so each subject is in exactly one place for them at any moment. Every slice stamps
the run's ``progress_at``; a merge that made no progress for ``abandon_s`` (its process died) is abandoned
and its inputs go back to the pool, however long a live one takes.

The transactions that move the log or change which runs are live lock the chain's head row first, like
every append: the log does not move under a flush, and two indexers (workers, replicas) never claim the same
runs. On SQLite every step also takes the writers' turn (``ndx.turns``), so the event loop's writer waits
for it without blocking.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, literal, or_, select, true, union_all, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import ColumnElement, Select

from ndx.background import BackgroundThread
from ndx.turns import Turns
from policies.audit import LOCK_HEAD
from policies.models import AuditSubject, AuditSubjectLog, AuditSubjectRun, utcnow

log = logging.getLogger("ndx.audit.subjects")
LOG = cast(Table, AuditSubjectLog.__table__)
RUNS = cast(Table, AuditSubject.__table__)
RUN = cast(Table, AuditSubjectRun.__table__)
T = TypeVar("T")
MAX_LEVEL = 4  # runs of this level are never merged
_LIVE = select(RUN.c.run).where(RUN.c.state == "live")
_STATES = select(RUN.c.state, func.count()).where(RUN.c.subjects > 0).group_by(RUN.c.state)
_MERGEABLE = (
    select(RUN.c.level, func.count())
    .where(RUN.c.state == "live", RUN.c.into_run.is_(None), RUN.c.level < bindparam("top"))
    .group_by(RUN.c.level)
)


def subject_seqs(citizen_id: str) -> Select[tuple[int]]:
    """The sequence numbers of the records that touched ``citizen_id``: one probe per live run, and the log."""
    in_runs = select(RUNS.c.seq).where(RUNS.c.run.in_(_LIVE), RUNS.c.citizen_id == citizen_id)
    return cast(Select[tuple[int]], union_all(select(LOG.c.seq).where(LOG.c.citizen_id == citizen_id), in_runs))


def all_subjects() -> Select[tuple[int, str]]:
    """Every (seq, citizen_id) of the index, log and live runs, in that order (for ``ndx audit verify``)."""
    live = select(RUNS.c.seq, RUNS.c.citizen_id).where(RUNS.c.run.in_(_LIVE))
    both = union_all(select(LOG.c.seq, LOG.c.citizen_id), live).subquery()
    return select(both.c.seq, both.c.citizen_id).order_by(both.c.seq, both.c.citizen_id)


def log_size(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(LOG)) or 0)


def _new_run(conn: Connection, level: int, subjects: int, state: str) -> int:
    run = int(conn.scalar(select(func.max(RUN.c.run))) or 0) + 1
    now = utcnow()
    conn.execute(
        insert(RUN).values(run=run, level=level, subjects=subjects, state=state, created_at=now, progress_at=now)
    )
    return run


def flush(conn: Connection, *, min_rows: int = 1, max_rows: int | None = None) -> int:
    """Move the log's oldest subjects (``max_rows`` or so: whole records) into a new live level-0 run if it
    holds ``min_rows`` or more; how many moved. Call inside a transaction: the head's lock keeps appends
    out until it commits, so a bounded move holds them a bounded time."""
    conn.execute(LOCK_HEAD).first()
    count = log_size(conn)
    if count < max(min_rows, 1):
        return 0
    oldest: ColumnElement[bool] = true()
    if max_rows is not None and count > max_rows:
        upto = conn.scalar(select(LOG.c.seq).order_by(LOG.c.seq, LOG.c.citizen_id).offset(max_rows - 1).limit(1))
        oldest = LOG.c.seq <= upto
        count = int(conn.scalar(select(func.count()).select_from(LOG).where(oldest)) or 0)
    run = _new_run(conn, 0, count, "live")
    ordered = select(literal(run), LOG.c.citizen_id, LOG.c.seq).where(oldest).order_by(LOG.c.citizen_id, LOG.c.seq)
    conn.execute(insert(RUNS).from_select(["run", "citizen_id", "seq"], ordered))
    conn.execute(delete(LOG).where(oldest))
    return count


@dataclass(frozen=True, slots=True)
class Merge:
    run: int  # the run being built
    inputs: tuple[int, ...]
    subjects: int


def claim_merge(conn: Connection, *, fanout: int, max_level: int = MAX_LEVEL) -> Merge | None:
    """Claim the oldest ``fanout`` unclaimed live runs of the lowest level that has that many (below
    ``max_level``) and open a ``building`` run of the next level for them; None if no merge is due."""
    conn.execute(LOCK_HEAD).first()
    for level in range(max_level):
        rows = conn.execute(
            select(RUN.c.run, RUN.c.subjects)
            .where(RUN.c.level == level, RUN.c.state == "live", RUN.c.into_run.is_(None))
            .order_by(RUN.c.run)
            .limit(fanout)
        ).all()
        if len(rows) < fanout:
            continue
        inputs = tuple(int(r.run) for r in rows)
        total = sum(int(r.subjects) for r in rows)
        run = _new_run(conn, level + 1, total, "building")
        conn.execute(update(RUN).where(RUN.c.run.in_(inputs)).values(into_run=run))
        return Merge(run, inputs, total)
    return None


def next_bound(conn: Connection, merge: Merge, low: str | None, slice_rows: int) -> str | None:
    """The citizen id that ends the slice of the merge starting at ``low`` after about ``slice_rows``
    subjects (None: the slice runs to the end). Sought in the largest input, which holds its share of every
    slice (subjects spread evenly over citizen ids), by stepping that share along the index from ``low``."""
    if merge.subjects <= slice_rows:
        return None
    largest = conn.execute(
        select(RUN.c.run, RUN.c.subjects)
        .where(RUN.c.run.in_(merge.inputs))
        .order_by(RUN.c.subjects.desc(), RUN.c.run)
        .limit(1)
    ).one()
    share = max(int(slice_rows * int(largest.subjects) / merge.subjects), 1)
    keys = select(RUNS.c.citizen_id).where(RUNS.c.run == largest.run)
    if low is not None:
        keys = keys.where(RUNS.c.citizen_id > low)
    return conn.scalar(keys.order_by(RUNS.c.citizen_id, RUNS.c.seq).offset(share).limit(1))


def slice_bounds(conn: Connection, merge: Merge, slice_rows: int) -> list[str]:
    """Every bound ``next_bound`` gives, in order: the citizen ids that cut the merge into slices."""
    bounds: list[str] = []
    while (bound := next_bound(conn, merge, bounds[-1] if bounds else None, slice_rows)) is not None:
        bounds.append(bound)
    return bounds


def merge_slice(conn: Connection, merge: Merge, low: str | None, high: str | None) -> bool:
    """Copy the inputs' subjects with ``low <= citizen_id < high`` into the new run, in key order, and
    stamp the run's progress; False (nothing copied) if the merge was abandoned meanwhile. The claim keeps
    the inputs still: no need to hold the head (on PostgreSQL that would hold up appends)."""
    building = and_(RUN.c.run == merge.run, RUN.c.state == "building")
    if conn.execute(update(RUN).where(building).values(progress_at=utcnow())).rowcount != 1:
        return False
    ordered = select(literal(merge.run), RUNS.c.citizen_id, RUNS.c.seq).where(RUNS.c.run.in_(merge.inputs))
    if low is not None:
        ordered = ordered.where(RUNS.c.citizen_id >= low)
    if high is not None:
        ordered = ordered.where(RUNS.c.citizen_id < high)
    conn.execute(
        insert(RUNS).from_select(["run", "citizen_id", "seq"], ordered.order_by(RUNS.c.citizen_id, RUNS.c.seq))
    )
    return True


def finish_merge(conn: Connection, merge: Merge) -> bool:
    """Make the new run live and retire its inputs, in one transaction; False if the merge was abandoned."""
    conn.execute(LOCK_HEAD).first()
    made = conn.execute(update(RUN).where(RUN.c.run == merge.run, RUN.c.state == "building").values(state="live"))
    if made.rowcount != 1:
        return False
    conn.execute(update(RUN).where(RUN.c.into_run == merge.run).values(state="retired"))
    return True


def abandon_stale(conn: Connection, older_than: timedelta) -> int:
    """Give up merges that made no progress for ``older_than`` (their process died): the runs they were
    building are retired, their inputs unclaimed. How many were abandoned."""
    conn.execute(LOCK_HEAD).first()
    last = func.coalesce(RUN.c.progress_at, RUN.c.created_at)
    stale = list(conn.scalars(select(RUN.c.run).where(RUN.c.state == "building", last < utcnow() - older_than)))
    if stale:
        conn.execute(update(RUN).where(RUN.c.run.in_(stale)).values(state="retired"))
        conn.execute(update(RUN).where(RUN.c.into_run.in_(stale), RUN.c.state == "live").values(into_run=None))
    return len(stale)


def drop_retired(conn: Connection, chunk: int) -> int:
    """Delete up to about ``chunk`` rows of one retired run (a key range, so a range of pages); once it is
    empty its row stays, with 0 subjects, so a run number is never given twice (a merge abandoned as dead
    but only slow can then never finish someone else's run). How many rows it deleted (at least 1 when it
    did anything)."""
    conn.execute(LOCK_HEAD).first()
    run = conn.scalar(
        select(RUN.c.run).where(RUN.c.state == "retired", RUN.c.subjects > 0).order_by(RUN.c.run).limit(1)
    )
    if run is None:
        return 0
    mine = RUNS.c.run == run
    key = (RUNS.c.citizen_id, RUNS.c.seq)
    upto = conn.execute(select(*key).where(mine).order_by(*key).offset(chunk).limit(1)).first()
    if upto is None:
        conn.execute(delete(RUNS).where(mine))
        conn.execute(update(RUN).where(RUN.c.run == run).values(subjects=0))
        return 1
    citizen, seq = upto  # the first ``chunk`` rows are those before this key
    before = and_(RUNS.c.citizen_id <= citizen, or_(RUNS.c.citizen_id < citizen, RUNS.c.seq < seq))
    conn.execute(delete(RUNS).where(mine, before))
    return chunk


class SubjectIndexer(BackgroundThread):
    """Flushes the subject log into runs, merges runs and deletes retired ones, from a daemon thread."""

    thread_name = "ndx-audit-subjects"

    def __init__(
        self,
        engine: Engine,
        lock_path: Path | None,
        *,
        interval_s: float = 0.25,
        flush_rows: int = 4096,
        fanout: int = 16,
        max_level: int = MAX_LEVEL,
        slice_rows: int = 2048,
        abandon_s: float = 600.0,
        pause_s: float = 0.005,
    ) -> None:
        self._engine = engine
        self._lock_path = lock_path
        self.interval_s = interval_s
        self.flush_rows = flush_rows
        self.fanout = fanout
        self.max_level = max_level
        self.slice_rows = slice_rows
        self.abandon_s = abandon_s
        self.pause_s = pause_s  # between the transactions of a merge: the writers take their turn meanwhile
        super().__init__()
        self._turns: Turns | None = None
        self.flushes = 0
        self.merges = 0
        self.failures = 0  # steps that raised (logged; the next turn retries)
        self.longest_s = 0.0  # the longest single transaction: what a writer may have waited for
        self._last_abandon_check = float("-inf")

    def step(self) -> bool:
        """Flush the log if it is full enough, then do one whole merge if one is due, then delete retired
        runs; whether anything moved. What is due is read first without a lock: an idle step writes nothing."""
        with self._engine.connect() as conn:
            due = log_size(conn) >= self.flush_rows
            states = {str(state): int(n) for state, n in conn.execute(_STATES).all()}
            merge_due = any(int(n) >= self.fanout for _, n in conn.execute(_MERGEABLE, {"top": self.max_level}))
        moved = False
        if due and self._tx(lambda c: flush(c, min_rows=self.flush_rows, max_rows=self.flush_rows)):
            self.flushes += 1
            moved = True
        now = time.monotonic()
        if states.get("building") and now - self._last_abandon_check >= min(self.abandon_s, 60.0):
            self._last_abandon_check = now
            self._tx(lambda c: abandon_stale(c, timedelta(seconds=self.abandon_s)))
        merge = self._tx(lambda c: claim_merge(c, fanout=self.fanout, max_level=self.max_level)) if merge_due else None
        if merge is not None:
            low: str | None = None
            while True:
                if self._stop.wait(self.pause_s):  # the writers' turn between slices (flock is not fair)
                    return moved  # left building: abandoned after abandon_s, its inputs merged again
                with self._engine.connect() as conn:
                    high = next_bound(conn, merge, low, self.slice_rows)
                if not self._tx(partial(merge_slice, merge=merge, low=low, high=high)):
                    break  # abandoned by another indexer: its inputs are back in the pool
                if high is None:
                    if self._tx(lambda c: finish_merge(c, merge)):
                        self.merges += 1
                        moved = True
                    break
                low = high
            states["retired"] = 1
        if states.get("retired"):
            while not self._stop.wait(self.pause_s) and self._tx(lambda c: drop_retired(c, self.slice_rows)):
                moved = True
        return moved

    def _tx(self, work: Callable[[Connection], T]) -> T:
        """``work`` in one transaction, in the writers' turn on SQLite."""
        if self._turns is not None:
            self._turns.take()
        started = time.perf_counter()
        try:
            with self._engine.begin() as conn:
                return work(conn)
        finally:
            self.longest_s = max(self.longest_s, time.perf_counter() - started)
            if self._turns is not None:
                self._turns.give()

    def _run(self) -> None:
        self._turns = Turns(self._lock_path) if self._lock_path else None
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    while self.step() and not self._stop.wait(self.pause_s):
                        pass
                except Exception as exc:  # the next turn retries; appends never depend on this thread
                    self.failures += 1
                    log.warning("subject index upkeep failed: %s", exc)
        finally:
            if self._turns is not None:
                with contextlib.suppress(OSError):
                    self._turns.close()
                self._turns = None

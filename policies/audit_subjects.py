"""The "who read my data" index, kept cheap to append to: an append-only log plus sorted runs.

Each audit record's subjects (citizen ids) are appended to ``audit_subject_log`` in the record's own
transaction, keyed (seq, citizen_id): a batch of records touches a page or two there. A by-citizen index
written at the same time would dirty one random page per subject, which measured as a third of the audit's
cost on the query route. A ``SubjectIndexer`` thread moves the log, once it holds ``flush_rows`` subjects,
into a new run of ``audit_subject`` written in key order (``flush``), and merges ``fanout`` runs of one
level into one of the next (``merge``), up to ``max_level``; the runs of the top level are kept as they
are. So a lookup probes each run once and scans the log (``SUBJECT_SEQS``), and every move is one
transaction: a reader sees each subject in exactly one place.

Flushes and merges lock the chain's head row first, like every append, so the log does not move under a
flush and two indexers (workers, replicas) never merge the same runs; on SQLite they also take the
writers' turn (``ndx.turns``) so the event loop's writer waits without blocking.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import cast

from sqlalchemy import Table, delete, func, insert, literal, select, union_all
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from ndx.turns import Turns
from policies.audit import LOCK_HEAD
from policies.models import AuditSubject, AuditSubjectLog, AuditSubjectRun, utcnow

log = logging.getLogger("ndx.audit.subjects")
LOG = cast(Table, AuditSubjectLog.__table__)
RUNS = cast(Table, AuditSubject.__table__)
RUN = cast(Table, AuditSubjectRun.__table__)


def subject_seqs(citizen_id: str) -> Select[tuple[int]]:
    """The sequence numbers of the records that touched ``citizen_id``: one probe per run, plus the log."""
    in_runs = select(RUNS.c.seq).where(RUNS.c.run.in_(select(RUN.c.run)), RUNS.c.citizen_id == citizen_id)
    return cast(Select[tuple[int]], union_all(select(LOG.c.seq).where(LOG.c.citizen_id == citizen_id), in_runs))


def all_subjects() -> Select[tuple[int, str]]:
    """Every (seq, citizen_id) of the index, log and runs together, in that order (for ``ndx audit verify``)."""
    both = union_all(select(LOG.c.seq, LOG.c.citizen_id), select(RUNS.c.seq, RUNS.c.citizen_id)).subquery()
    return select(both.c.seq, both.c.citizen_id).order_by(both.c.seq, both.c.citizen_id)


def _next_run(conn: Connection) -> int:
    return int(conn.scalar(select(func.max(RUN.c.run))) or 0) + 1


def flush(conn: Connection, *, min_rows: int = 1) -> int:
    """Move the log into a new level-0 run if it holds ``min_rows`` subjects or more; how many moved.
    Call inside a transaction: the head's lock keeps appends out until it commits."""
    conn.execute(LOCK_HEAD).first()
    count = int(conn.scalar(select(func.count()).select_from(LOG)) or 0)
    if count < max(min_rows, 1):
        return 0
    run = _next_run(conn)
    conn.execute(insert(RUN).values(run=run, level=0, subjects=count, created_at=utcnow()))
    ordered = select(literal(run), LOG.c.citizen_id, LOG.c.seq).order_by(LOG.c.citizen_id, LOG.c.seq)
    conn.execute(insert(RUNS).from_select(["run", "citizen_id", "seq"], ordered))
    conn.execute(delete(LOG))
    return count


def merge(conn: Connection, *, fanout: int, max_level: int) -> int:
    """Merge the oldest ``fanout`` runs of the lowest level that has that many (below ``max_level``) into
    one run of the next level; how many subjects it rewrote (0: nothing due). Call inside a transaction."""
    conn.execute(LOCK_HEAD).first()
    for level in range(max_level):
        rows = conn.execute(
            select(RUN.c.run, RUN.c.subjects).where(RUN.c.level == level).order_by(RUN.c.run).limit(fanout)
        ).all()
        if len(rows) < fanout:
            continue
        runs = [int(r.run) for r in rows]
        total = sum(int(r.subjects) for r in rows)
        new = _next_run(conn)
        conn.execute(insert(RUN).values(run=new, level=level + 1, subjects=total, created_at=utcnow()))
        ordered = (
            select(literal(new), RUNS.c.citizen_id, RUNS.c.seq)
            .where(RUNS.c.run.in_(runs))
            .order_by(RUNS.c.citizen_id, RUNS.c.seq)
        )
        conn.execute(insert(RUNS).from_select(["run", "citizen_id", "seq"], ordered))
        conn.execute(delete(RUNS).where(RUNS.c.run.in_(runs)))
        conn.execute(delete(RUN).where(RUN.c.run.in_(runs)))
        return total
    return 0


def log_size(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(LOG)) or 0)


class SubjectIndexer:
    """Flushes the subject log into runs and merges runs, from a daemon thread (see the module)."""

    def __init__(
        self,
        engine: Engine,
        lock_path: Path | None,
        *,
        interval_s: float = 0.5,
        flush_rows: int = 4096,
        fanout: int = 16,
        max_level: int = 1,
    ) -> None:
        self._engine = engine
        self._lock_path = lock_path
        self.interval_s = interval_s
        self.flush_rows = flush_rows
        self.fanout = fanout
        self.max_level = max_level
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.flushes = 0
        self.merges = 0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ndx-audit-subjects", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def step(self, turns: Turns | None = None) -> bool:
        """One flush (if the log is full enough) and one merge (if due); whether anything moved."""
        moved = False
        with self._engine.connect() as conn:
            due = log_size(conn) >= self.flush_rows
        if due and self._locked(turns, lambda c: flush(c, min_rows=self.flush_rows)):
            self.flushes += 1
            moved = True
        if self._due_merge() and self._locked(turns, lambda c: merge(c, fanout=self.fanout, max_level=self.max_level)):
            self.merges += 1
            moved = True
        return moved

    def _due_merge(self) -> bool:
        with self._engine.connect() as conn:
            counts = conn.execute(
                select(RUN.c.level, func.count()).where(RUN.c.level < self.max_level).group_by(RUN.c.level)
            ).all()
        return any(int(n) >= self.fanout for _, n in counts)

    def _locked(self, turns: Turns | None, work: object) -> int:
        assert callable(work)
        if turns is not None:
            turns.take()
        try:
            with self._engine.begin() as conn:
                return int(work(conn))
        finally:
            if turns is not None:
                turns.give()

    def _run(self) -> None:
        turns = Turns(self._lock_path) if self._lock_path else None
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    while self.step(turns) and not self._stop.is_set():
                        pass
                except Exception as exc:  # the next turn retries; appends never depend on this thread
                    log.warning("subject index upkeep failed: %s", exc)
        finally:
            if turns is not None:
                with contextlib.suppress(OSError):
                    turns.close()

"""Group commit of the audit records of concurrent requests (shared/PERFORMANCE.md).

Requests hand their entries to the process's ``AuditWriter``, which appends whatever has queued up in one
transaction and wakes each request once its batch is committed. If the write fails, every request of the
batch fails with 503 (fail closed). An entry may carry the value of ``access_version`` its call was allowed
under (``policies.token_lookup``): the transaction compares it with the current value and leaves out, with
``StaleAccess``, the entries of calls whose tokens or grants changed since. The batch runs on a raw driver
connection with statements compiled once. Beside it run two threads: WAL checkpoints on SQLite
(``ndx.checkpoint``) and the upkeep of the subject index (``policies.audit_subjects``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, cast

from sqlalchemy.engine import Engine

from ndx.checkpoint import WalCheckpointer, is_sqlite_file, no_autocheckpoint
from ndx.direct_sql import DirectConnection
from ndx.errors import Unavailable
from ndx.turns import Turns, turns_path
from policies.audit import INSERT_RECORD, INSERT_SUBJECT, LOCK_HEAD, SET_HEAD, AuditEntry, Queued, link, queued
from policies.audit_subjects import SubjectIndexer
from policies.token_lookup import ACCESS_VERSION

log = logging.getLogger("ndx.audit")


class StaleAccess(Exception):
    """The call's record was not written: tokens, users or grants changed after its access was decided
    (``access_version`` moved). The caller decides again from fresh rows; nothing of the call has left."""


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
        self.subjects = SubjectIndexer(engine, self._turns_path)
        self.turns: Turns | None = None
        self.turn_waits = 0  # batches that waited for another process's turn (counted when stopped)
        self._pending: list[tuple[Queued, int | None, asyncio.Future[int]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.gather_s = gather_s
        self.max_batch = max_batch
        self.batches = 0
        self.records = 0
        self.stale = 0  # entries left out because access changed after their call was decided
        self.write_seconds = 0.0

    async def start(self) -> None:
        """Start (or restart) the writer on the running event loop."""
        self._pending, self._wake, self._closing = [], asyncio.Event(), False
        if self._turns_path is not None and self.turns is None:
            self.turns = Turns(self._turns_path)
        if self.checkpointer is not None:
            self.checkpointer.start()
        self.subjects.start()
        self._task = asyncio.create_task(self._run(), name="ndx-audit-writer")

    async def stop(self) -> None:
        """Write what is queued, then stop; later appends are refused."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await asyncio.to_thread(self.subjects.stop)
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)
        if self.turns is not None:
            self.turn_waits += self.turns.waits
            self.turns.close()
            self.turns = None
        self._direct.close()

    async def append(self, entry: AuditEntry, *, access_version: int | None = None) -> int:
        """Queue ``entry`` and wait until the transaction holding it has committed; its sequence number.

        With ``access_version``, the entry is written only if ``access_version`` still holds that value in
        the transaction; otherwise ``StaleAccess`` is raised and nothing is written for it.
        """
        if self._task is None or self._task.done() or self._closing:
            raise Unavailable("the audit log is not running; the call was refused")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((queued(entry), access_version, future))
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
                    seqs = self._write([(q, v) for q, v, _ in batch])
                except Exception:
                    log.exception("audit batch of %d records could not be written", len(batch))
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(Unavailable("the audit log cannot be written; the call was refused"))
                else:
                    self.batches += 1
                    for (_, _, future), seq in zip(batch, seqs, strict=True):
                        if seq is None:
                            self.stale += 1
                        else:
                            self.records += 1
                        if not future.done():
                            if seq is None:
                                future.set_exception(StaleAccess())
                            else:
                                future.set_result(seq)
                finally:
                    if self.turns is not None:
                        self.turns.give()
                self.write_seconds += time.perf_counter() - started
            if self._closing and not self._pending:
                return

    def _write(self, batch: list[tuple[Queued, int | None]]) -> list[int | None]:
        """One transaction on the writer's own connection: lock the head, leave out the entries whose
        access went stale, insert, move the head, commit. Each entry's seq, None where left out."""
        direct = self._direct
        lock = direct.prepared(LOCK_HEAD)
        version = direct.prepared(ACCESS_VERSION)
        records = direct.prepared(INSERT_RECORD)
        subjects_stmt = direct.prepared(INSERT_SUBJECT)
        set_head = direct.prepared(SET_HEAD)
        conn = direct.connection()
        try:
            cur = conn.cursor()
            try:
                cur.execute(*lock.bind({}))
                head = cur.fetchall()
                if not head:
                    raise Unavailable("the audit chain has no head row: run `ndx db upgrade`")
                keep = [True] * len(batch)
                if any(v is not None for _, v in batch):
                    # read after the head is locked: on SQLite no change can commit until this one has; on
                    # PostgreSQL the changes NDX makes append their own audit record, so they queue on the head
                    cur.execute(*version.bind({}))
                    current = cur.fetchall()
                    now = int(current[0][0]) if current else None
                    keep = [v is None or v == now for _, v in batch]
                written = [q for (q, _), k in zip(batch, keep, strict=True) if k]
                rows, subjects, seqs, seq, prev = link(written, int(head[0][0]), str(head[0][1]))
                if rows:
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
        it = iter(seqs)
        return [next(it) if k else None for k in keep]

    def _rollback(self, conn: Any, exc: BaseException) -> None:
        direct = self._direct
        try:
            conn.rollback()
        except direct.errors:
            direct.discard()
        else:
            if isinstance(exc, direct.errors) and direct.dialect.is_disconnect(cast(Any, exc), conn, None):
                direct.discard()

"""WAL checkpoints of a SQLite database, run in a background thread instead of inside a commit.

In WAL mode, the connection whose commit finds the log past ``wal_autocheckpoint`` pages (1,000 by default)
copies the log back into the database file and fsyncs it, inside that commit. On the audit writer, which
commits on the event loop, that stalled the whole process for milliseconds every few dozen batches: the
mean commit was three times its median. The writer turns automatic checkpoints off on its own connection
(``no_autocheckpoint``) and a ``WalCheckpointer`` runs them from a thread instead. A checkpoint call is a
single call into SQLite, which holds no Python lock while it copies and syncs.

SQLite rewinds the log to its start only when a write begins after a checkpoint that copied all of it; a
checkpoint racing a steady stream of commits never does, and the log would grow without end. So each turn
runs twice: a passive checkpoint while the writers go on (it copies nearly all), then a second one while
holding the writers' turn (``ndx.turns``), which copies the few frames
committed meanwhile and so completes; the next commit rewinds the log. Writers wait for that short second
pass with their loops still serving. Every other connection keeps automatic checkpoints, so the log stays
bounded even if this thread is not running.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from ndx.background import BackgroundThread
from ndx.turns import Turns

log = logging.getLogger("ndx.checkpoint")


def is_sqlite_file(engine: Engine) -> bool:
    database = engine.url.database
    return engine.dialect.name == "sqlite" and bool(database) and database != ":memory:"


def no_autocheckpoint(dbapi_conn: Any) -> None:
    """Stop ``dbapi_conn`` (a sqlite3 connection) from checkpointing inside its own commits."""
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA wal_autocheckpoint=0")
    finally:
        cur.close()


class WalCheckpointer(BackgroundThread):
    """Checkpoints ``engine``'s SQLite database every ``interval_s`` seconds from a daemon thread; ``stop``
    returns after one last checkpoint."""

    thread_name = "ndx-wal-checkpoint"

    def __init__(self, engine: Engine, lock_path: Path | None, *, interval_s: float = 0.2) -> None:
        super().__init__()
        self._engine = engine
        self._lock_path = lock_path
        self.interval_s = interval_s
        self.checkpoints = 0
        self.max_frames = 0  # the longest log seen: stays near one interval's commits while rewinding works
        self.rewinds = 0  # turns that found the log shorter than the turn before: it was rewound
        self._last_frames = 0

    def checkpoint(self, conn: Any) -> int:
        """One passive checkpoint on ``conn`` (as much of the log as no reader still needs); the log's
        length in frames when it ran."""
        cur = conn.cursor()
        try:
            cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
            row = cur.fetchone()
        finally:
            cur.close()
        self.checkpoints += 1
        frames = int(row[1]) if row is not None and row[1] is not None and row[1] > 0 else 0
        self.max_frames = max(self.max_frames, frames)
        if frames < self._last_frames:
            self.rewinds += 1
        self._last_frames = frames
        return frames

    def turn(self, conn: Any, turns: Turns | None) -> None:
        """Copy the log while the writers go on, then finish it holding their turn (see the module)."""
        if self.checkpoint(conn) == 0 or turns is None:
            return
        turns.take()
        try:
            self.checkpoint(conn)
        finally:
            turns.give()

    def _run(self) -> None:
        fairy = self._engine.raw_connection()
        # a handle of its own: flock locks belong to open files, so this one excludes the writer's
        turns = Turns(self._lock_path) if self._lock_path else None
        try:
            conn = fairy.driver_connection
            while True:
                stopping = self._stop.wait(self.interval_s)
                try:
                    self.turn(conn, turns)
                except self._engine.dialect.loaded_dbapi.Error as exc:  # e.g. busy: the next turn retries
                    log.warning("WAL checkpoint failed: %s", exc)
                if stopping:
                    return
        finally:
            if turns is not None:
                turns.close()
            with contextlib.suppress(Exception):
                fairy.close()

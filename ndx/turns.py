"""Turns at writing one SQLite database, taken by several processes without blocking an event loop.

SQLite lets one writer in at a time; a writer that finds the lock taken would sleep in SQLite's busy handler
(1, 2, 5, 10 ms...), blocking its whole event loop. So the writers of every process take turns through an
exclusive ``flock`` on a file beside the database, tried without blocking, and a writer that finds it taken
waits on the event loop for the holder to finish: every release writes one byte to a FIFO (named pipe)
beside the lock, and a waiting loop watches the FIFO's read end, so it tries again the moment the turn is
free instead of polling a timer (uvloop's timers tick in whole milliseconds, longer than most turns). A
stray or missed byte costs at most one extra try: waiters drain the FIFO before trying, and also try again
after ``retry_s``. Threads (the WAL checkpointer) take a turn with a blocking ``flock`` on a descriptor of
their own; flock locks belong to open files, so they exclude the writers of their own process too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover  (not POSIX: no turns; SQLite's busy handler serialises writers)
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("ndx.turns")


def turns_path(database: str | None) -> Path | None:
    """The lock file of a SQLite database file (None for an in-memory database or without flock)."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + ".audit-lock")


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Turns:
    """One process's handle on the turns at a database: ``try_take``, ``wait_take`` (async), ``take``
    (blocking, for threads) and ``give``."""

    def __init__(self, lock_path: Path, *, retry_s: float = 0.002) -> None:
        self.lock_path = lock_path
        self.wake_path = lock_path.with_name(lock_path.name + ".wake")
        self.retry_s = retry_s
        self._lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._wake_r: int | None = None
        self._wake_w: int | None = None
        try:
            with contextlib.suppress(FileExistsError):
                os.mkfifo(self.wake_path, 0o600)
            # the read end first: opening a FIFO's write end without blocking needs a reader
            self._wake_r = os.open(self.wake_path, os.O_RDONLY | os.O_NONBLOCK)
            self._wake_w = os.open(self.wake_path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # a file system without named pipes: waiters fall back to the timer
            log.warning("no wake-up pipe at %s (%s): writers poll every %.1f ms", self.wake_path, exc, retry_s * 1e3)
            self.close_wake()
        self.waits = 0  # takes that found the turn held by someone else

    def try_take(self) -> bool:
        assert fcntl is not None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def take(self) -> None:
        """Wait for the turn, blocking the calling thread (never call this on an event loop)."""
        assert fcntl is not None
        fcntl.flock(self._lock, fcntl.LOCK_EX)

    def give(self) -> None:
        """End the turn and wake a waiting process."""
        assert fcntl is not None
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        if self._wake_w is not None:
            with contextlib.suppress(BlockingIOError):  # the FIFO is full of unread wake-ups: one more is moot
                os.write(self._wake_w, b"\0")

    async def wait_take(self) -> None:
        """Take the turn; while another holds it, the event loop goes on serving (see the module)."""
        if self.try_take():
            return
        self.waits += 1
        if self._wake_r is None:
            while not self.try_take():
                await asyncio.sleep(self.retry_s)
            return
        loop = asyncio.get_running_loop()
        while True:
            woken: asyncio.Future[None] = loop.create_future()
            loop.add_reader(self._wake_r, _settle, woken)
            try:
                self._drain()
                if self.try_take():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken, self.retry_s)
            finally:
                loop.remove_reader(self._wake_r)
            if self.try_take():
                return

    def _drain(self) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 4096):
                pass

    def close_wake(self) -> None:
        for fd in (self._wake_w, self._wake_r):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._wake_r = self._wake_w = None

    def close(self) -> None:
        self.close_wake()
        with contextlib.suppress(OSError):
            os.close(self._lock)

"""A daemon thread with a stop signal, for the platform's periodic upkeep (WAL checkpoints, the audit's
subject index): ``start`` (again after ``stop``, or a no-op while running) and ``stop`` (signal, then join)."""

from __future__ import annotations

import threading


class BackgroundThread:
    """Subclasses implement ``_run``, which should return soon after ``self._stop`` is set."""

    thread_name = "ndx-background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Signal the thread and wait for it to finish what it is doing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:  # pragma: no cover  (abstract)
        raise NotImplementedError

"""Turns at writing one SQLite database: exclusive across handles and processes, and a waiting event loop
is woken by the release itself (through the FIFO), not by its fallback timer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ndx.turns import Turns, turns_path


def test_one_turn_at_a_time_and_the_release_wakes_the_waiter(tmp_path: Path) -> None:
    path = turns_path(str(tmp_path / "platform.db"))
    assert path is not None
    holder, waiter = Turns(path), Turns(path, retry_s=30)  # the timer alone would take 30 s
    assert holder.try_take()
    assert not waiter.try_take()

    async def main() -> float:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, holder.give)
        started = time.perf_counter()
        await waiter.wait_take()
        return time.perf_counter() - started

    waited = asyncio.run(main())
    assert 0.04 < waited < 1.0
    assert waiter.waits == 1
    assert not holder.try_take()  # the waiter holds it now
    waiter.give()
    assert holder.try_take()
    holder.give()
    holder.close()
    waiter.close()


def test_another_process_holding_the_turn_keeps_the_loop_serving(tmp_path: Path) -> None:
    path = turns_path(str(tmp_path / "platform.db"))
    assert path is not None
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from ndx.turns import Turns;"
            f"t = Turns(Path({str(path)!r})); t.take(); print('taken', flush=True); time.sleep(0.3); t.give()",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "taken"
    waiter = Turns(path, retry_s=30)

    async def main() -> tuple[float, int]:
        ticks = 0

        async def serve() -> None:  # the loop's other work goes on while the writer waits
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        other = asyncio.create_task(serve())
        started = time.perf_counter()
        await waiter.wait_take()
        other.cancel()
        return time.perf_counter() - started, ticks

    waited, ticks = asyncio.run(main())
    child.wait(timeout=10)
    assert 0.1 < waited < 2.0
    assert ticks >= 5
    waiter.give()
    waiter.close()


def test_no_turns_for_memory_databases() -> None:
    assert turns_path(":memory:") is None
    assert turns_path(None) is None


def test_without_named_pipes_waiters_poll(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kw: object) -> None:
        raise PermissionError("no FIFOs on this file system")

    monkeypatch.setattr(os, "mkfifo", refuse)
    path = turns_path(str(tmp_path / "platform.db"))
    assert path is not None
    holder, waiter = Turns(path), Turns(path, retry_s=0.005)
    assert holder.try_take()

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.05, holder.give)
        await waiter.wait_take()

    asyncio.run(main())
    assert not holder.try_take()
    waiter.give()
    holder.close()
    waiter.close()

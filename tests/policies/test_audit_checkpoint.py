"""WAL checkpoints of the audit log run in their own thread, never inside the writer's commits, and the log
is still rewound to its start under a steady stream of commits (otherwise it would grow without end)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from ndx import migrate
from ndx.db import make_engine
from policies.audit_verify import verify_database
from policies.audit_writer import AuditWriter
from tests.policies.audit_helpers import entry


@pytest.fixture
def sqlite_engine(new_database_url: Callable[[str], str]) -> Iterator[Engine]:
    url = new_database_url("checkpoint")
    if not url.startswith("sqlite"):
        pytest.skip("WAL checkpoints are SQLite's")
    eng = make_engine(url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


def test_writer_commits_without_checkpointing_and_the_thread_rewinds_the_log(sqlite_engine: Engine) -> None:
    async def main() -> tuple[AuditWriter, int]:
        writer = AuditWriter(sqlite_engine)
        assert writer.checkpointer is not None
        writer.checkpointer.interval_s = 0.01
        await writer.start()
        n = 0
        for _ in range(400):  # a steady stream of small batches, as under load
            await asyncio.gather(*(writer.append(entry(n + i)) for i in range(4)))
            n += 4
        cur = writer._direct.connection().cursor()
        autocheckpoint = cur.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        cur.close()
        await writer.stop()
        return writer, autocheckpoint

    writer, autocheckpoint = asyncio.run(main())
    assert autocheckpoint == 0  # the writer's commits never copy the log back themselves
    checkpointer = writer.checkpointer
    assert checkpointer is not None
    assert checkpointer.checkpoints > 0
    assert checkpointer.rewinds > 0  # the log went back to its start while commits kept coming
    assert verify_database(sqlite_engine) == (None, 1600)


def test_no_checkpointer_on_postgresql_or_memory() -> None:
    memory = make_engine("sqlite://")
    assert AuditWriter(memory).checkpointer is None
    memory.dispose()

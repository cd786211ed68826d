"""The "who read my data" index as an append-only log plus sorted runs: every lookup finds exactly the
records that touched a person, whatever flushes and merges have moved, and verify still catches tampering."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Engine

from ndx import migrate
from ndx.db import make_engine
from policies.audit import AuditEntry, append
from policies.audit_subjects import (
    LOG,
    MAX_LEVEL,
    RUN,
    RUNS,
    SubjectIndexer,
    abandon_stale,
    claim_merge,
    drop_retired,
    flush,
    merge_slice,
    next_bound,
    slice_bounds,
    subject_seqs,
)
from policies.audit_verify import verify_database
from tests.policies.audit_helpers import append_v1

CITIZENS = [f"0790950{i:05d}" for i in range(40)]


def _entry(subjects: list[str]) -> AuditEntry:
    return AuditEntry(kind="query", at=datetime(2026, 12, 1, tzinfo=UTC), status=200, subjects=subjects)


def _lookups(engine: Engine) -> dict[str, set[int]]:
    with engine.connect() as conn:
        return {c: set(conn.scalars(subject_seqs(c))) for c in CITIZENS}


def _counts(engine: Engine) -> tuple[int, int, list[int]]:
    with engine.connect() as conn:
        levels = list(conn.scalars(select(RUN.c.level).where(RUN.c.state == "live").order_by(RUN.c.run)))
        return int(conn.scalar(select(func.count()).select_from(LOG)) or 0), len(levels), levels


def _three_runs(engine: Engine) -> dict[str, set[int]]:
    """Three level-0 runs of eight subjects each; what the lookups then find."""
    for i in range(3):
        with engine.begin() as conn:
            append(conn, [_entry([CITIZENS[(i + k) % 40]]) for k in range(8)])
            flush(conn)
    return _lookups(engine)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lookups_find_exactly_the_records_that_touched_a_person_through_flushes_and_merges(
    engine: Engine, seed: int
) -> None:
    rnd = random.Random(seed)
    indexer = SubjectIndexer(engine, None, flush_rows=10**9, fanout=3, max_level=2, slice_rows=3)
    truth: dict[str, set[int]] = {c: set() for c in CITIZENS}
    for _ in range(60):
        action = rnd.random()
        if action < 0.6:
            batch = [rnd.sample(CITIZENS, rnd.randint(0, 3)) for _ in range(rnd.randint(1, 5))]
            with engine.begin() as conn:
                seqs = append(conn, [_entry(s) for s in batch])
            for seq, subjects in zip(seqs, batch, strict=True):
                for c in subjects:
                    truth[c].add(seq)
        elif action < 0.85:
            with engine.begin() as conn:
                flush(conn, min_rows=rnd.randint(1, 6))
        else:
            indexer.step()  # a merge in slices, one transaction each, then the inputs deleted
        assert _lookups(engine) == truth
    assert verify_database(engine)[0] is None
    _log, runs, levels = _counts(engine)
    assert runs > 0 and max(levels) >= 1  # the walk did flush and merge


def test_flush_writes_one_sorted_run_and_merge_folds_a_level_into_the_next(engine: Engine) -> None:
    for i in range(6):
        with engine.begin() as conn:
            append(conn, [_entry([CITIZENS[(7 * i + k) % 40]]) for k in range(5)])
            assert flush(conn, min_rows=5) == 5
    assert _counts(engine) == (0, 6, [0] * 6)
    indexer = SubjectIndexer(engine, None, flush_rows=10**9, fanout=4, max_level=1, slice_rows=6)
    assert indexer.step()  # the four oldest level-0 runs, in four slices
    assert not indexer.step()  # two level-0 runs left: nothing due
    assert _counts(engine) == (0, 3, [0, 0, 1])
    with engine.connect() as conn:
        merged = conn.execute(select(RUNS.c.citizen_id, RUNS.c.seq).where(RUNS.c.run == 7)).all()
        left = set(conn.scalars(select(RUNS.c.run).distinct()))
    assert len(merged) == 20 and merged == sorted(merged)
    assert left == {5, 6, 7}  # the inputs' rows are gone


def test_the_top_level_is_never_merged_further(engine: Engine) -> None:
    indexer = SubjectIndexer(engine, None, flush_rows=10**9, fanout=2, max_level=1)
    for _ in range(4):
        with engine.begin() as conn:
            append(conn, [_entry([CITIZENS[0]])])
            flush(conn)
        indexer.step()
    assert _counts(engine)[2] == [1, 1]
    assert _lookups(engine)[CITIZENS[0]] == {1, 2, 3, 4}


def test_a_merge_cut_short_is_invisible_then_abandoned_and_done_again(engine: Engine) -> None:
    truth = _three_runs(engine)
    with engine.begin() as conn:
        merge = claim_merge(conn, fanout=3)
        assert merge is not None and merge.subjects == 24
    with engine.connect() as conn:
        bounds = slice_bounds(conn, merge, 6)
    assert len(bounds) >= 2
    with engine.begin() as conn:
        merge_slice(conn, merge, None, bounds[0])  # then the process dies
        assert conn.scalar(select(func.count()).select_from(RUNS).where(RUNS.c.run == merge.run))
    assert _lookups(engine) == truth  # the building run is not read
    assert verify_database(engine) == (None, 24)
    with engine.begin() as conn:
        assert claim_merge(conn, fanout=3) is None  # its inputs are still claimed
        assert abandon_stale(conn, timedelta(0)) == 1
    with engine.begin() as conn:
        while drop_retired(conn, 5):
            pass
    indexer = SubjectIndexer(engine, None, flush_rows=10**9, fanout=3, max_level=1, slice_rows=5)
    assert indexer.step()
    assert _counts(engine) == (0, 1, [1])
    assert _lookups(engine) == truth
    assert verify_database(engine) == (None, 24)


def test_a_slow_merge_is_told_from_a_dead_one_by_its_progress(engine: Engine) -> None:
    truth = _three_runs(engine)
    with engine.begin() as conn:
        merge = claim_merge(conn, fanout=3)
        assert merge is not None
    with engine.begin() as conn:
        bound = next_bound(conn, merge, None, 6)
        assert bound is not None
        assert merge_slice(conn, merge, None, bound)
        # started an hour ago, but its last slice is fresh: alive
        conn.execute(
            update(RUN).where(RUN.c.run == merge.run).values(created_at=datetime.now(UTC) - timedelta(hours=1))
        )
    with engine.begin() as conn:
        assert abandon_stale(conn, timedelta(minutes=10)) == 0
        conn.execute(
            update(RUN).where(RUN.c.run == merge.run).values(progress_at=datetime.now(UTC) - timedelta(hours=1))
        )
    with engine.begin() as conn:
        assert abandon_stale(conn, timedelta(minutes=10)) == 1  # no progress for an hour: dead
    copied = _run_size(engine, merge.run)
    with engine.begin() as conn:
        assert not merge_slice(conn, merge, bound, None)  # its process was only slow: it stops, copies nothing
    assert _run_size(engine, merge.run) == copied
    assert _lookups(engine) == truth


def test_runs_merge_up_to_the_top_level_and_lookups_hold(engine: Engine) -> None:
    """With fanout 2, sixteen level-0 runs fold into one run of level 4, the top: no higher run is made."""
    indexer = SubjectIndexer(engine, None, flush_rows=10**9, fanout=2, slice_rows=3)
    assert indexer.max_level == MAX_LEVEL == 4
    for i in range(32):
        with engine.begin() as conn:
            append(conn, [_entry([CITIZENS[(5 * i + k) % 40] for k in range(2)])])
            flush(conn)
        while indexer.step():
            pass
    assert _counts(engine)[2] == [4, 4]
    with engine.connect() as conn:
        seqs = {c: set(conn.scalars(subject_seqs(c))) for c in CITIZENS}
    assert sum(len(v) for v in seqs.values()) == 64 and set().union(*seqs.values()) == set(range(1, 33))
    assert verify_database(engine) == (None, 32)


def _run_size(engine: Engine, run: int) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(RUNS).where(RUNS.c.run == run)) or 0)


def test_a_small_log_is_left_until_it_is_worth_a_run(engine: Engine) -> None:
    with engine.begin() as conn:
        append(conn, [_entry([CITIZENS[1]])])
        assert flush(conn, min_rows=2) == 0
    assert _counts(engine) == (1, 0, [])
    assert _lookups(engine)[CITIZENS[1]] == {1}


def test_verify_names_a_subject_removed_from_a_run_or_copied_into_two_places(engine: Engine) -> None:
    with engine.begin() as conn:
        append(conn, [_entry([CITIZENS[k]]) for k in range(4)])
        flush(conn)
    assert verify_database(engine) == (None, 4)
    with engine.begin() as conn:
        conn.execute(insert(LOG).values(seq=3, citizen_id=CITIZENS[2]))  # also still in its run
    assert verify_database(engine)[0].seq == 3  # type: ignore[union-attr]
    with engine.begin() as conn:
        conn.execute(delete(LOG))
        conn.execute(delete(RUNS).where(RUNS.c.seq == 2))
    assert verify_database(engine)[0].seq == 2  # type: ignore[union-attr]


def test_the_indexer_thread_flushes_and_merges_while_appends_and_verifies_go_on(engine: Engine) -> None:
    indexer = SubjectIndexer(engine, None, interval_s=0.005, flush_rows=8, fanout=3, max_level=2, slice_rows=5)
    indexer.start()
    problems: list[object] = []
    stop = threading.Event()

    def verify_meanwhile() -> None:
        while not stop.is_set():
            problem, _ = verify_database(engine)
            if problem is not None:
                problems.append(problem)

    checker = threading.Thread(target=verify_meanwhile)
    checker.start()
    try:
        for i in range(150):
            with engine.begin() as conn:
                append(conn, [_entry([CITIZENS[i % 40], CITIZENS[(i * 3) % 40]])])
            time.sleep(0.002)  # let the thread interleave its moves with the appends
        deadline = time.monotonic() + 10
        while _counts(engine)[0] >= 8 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        checker.join()
        indexer.stop()
    assert problems == []  # verify reads one snapshot: moves under it are not tampering
    assert indexer.failures == 0
    assert indexer.flushes >= 5 and indexer.merges >= 1
    assert _counts(engine)[0] < 8
    expected = {c: {i + 1 for i in range(150) if c in (CITIZENS[i % 40], CITIZENS[(i * 3) % 40])} for c in CITIZENS}
    assert _lookups(engine) == expected
    assert verify_database(engine) == (None, 150)


def test_upgrade_moves_the_old_index_into_one_run_and_downgrade_brings_it_back(
    new_database_url: Callable[[str], str],
) -> None:
    eng = make_engine(new_database_url("subjects_upgrade"))
    migrate.upgrade(eng, "p0002")
    with eng.begin() as conn:
        append_old = text("INSERT INTO audit_subject (citizen_id, seq) VALUES (:c, :s)")
        subjects = (CITIZENS[5], CITIZENS[5], CITIZENS[6])
        seqs = append_v1(conn, [_entry([c]) for c in subjects], hash_v_column=False)
        for seq, c in zip(seqs, subjects, strict=True):
            conn.execute(append_old, {"c": c, "s": seq})
    migrate.upgrade(eng)
    assert _counts(eng) == (0, 1, [2])  # one run of level 2, merged with the next level-2 runs in time
    with eng.connect() as conn:
        assert set(conn.scalars(subject_seqs(CITIZENS[5]))) == {1, 2}
    assert verify_database(eng) == (None, 3)  # the old records keep their version-1 hashes
    migrate.downgrade(eng, "p0002")
    with eng.connect() as conn:
        rows = conn.execute(text("SELECT citizen_id, seq FROM audit_subject ORDER BY seq")).all()
    assert [tuple(r) for r in rows] == [(CITIZENS[5], 1), (CITIZENS[5], 2), (CITIZENS[6], 3)]
    eng.dispose()


def test_retired_runs_are_deleted_in_chunks_even_where_one_person_fills_several(engine: Engine) -> None:
    with engine.begin() as conn:
        append(conn, [_entry([CITIZENS[3]]) for _ in range(23)] + [_entry([CITIZENS[1]]), _entry([CITIZENS[9]])])
        flush(conn)
        conn.execute(update(RUN).values(state="retired"))
    rounds = 0
    while True:
        with engine.begin() as conn:
            if not drop_retired(conn, 4):
                break
        rounds += 1
        assert rounds < 20
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(RUNS)) == 0
        assert conn.execute(select(RUN.c.run, RUN.c.state, RUN.c.subjects)).all() == [(1, "retired", 0)]
    assert rounds == 7  # six chunks of four, then the last row, the run kept emptied (its number not reused)
    with engine.begin() as conn:
        append(conn, [_entry([CITIZENS[2]])])
        flush(conn)
        assert conn.scalar(select(func.max(RUN.c.run))) == 2


def test_an_idle_step_opens_no_write_transaction(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with engine.begin() as conn:
        append(conn, [_entry([CITIZENS[k]]) for k in range(3)])
        flush(conn)
    indexer = SubjectIndexer(engine, None, flush_rows=10, fanout=4)
    writes: list[object] = []
    real = indexer._tx
    monkeypatch.setattr(indexer, "_tx", lambda work: writes.append(work) or real(work))
    assert not indexer.step()
    assert writes == []  # nothing due: the writers' turn and the head's lock are left alone
    with engine.begin() as conn:
        append(conn, [_entry([CITIZENS[k % 40]]) for k in range(10)])
    assert indexer.step()
    assert len(writes) == 1 and _counts(engine)[:2] == (0, 2)


def test_two_indexers_at_once_never_lose_or_double_a_subject(engine: Engine) -> None:
    # two workers (or replicas), each with its thread: claims under the head's lock keep their merges apart
    indexers = [
        SubjectIndexer(engine, None, interval_s=0.003, flush_rows=6, fanout=3, max_level=2, slice_rows=4)
        for _ in range(2)
    ]
    for ix in indexers:
        ix.start()
    try:
        for i in range(200):
            with engine.begin() as conn:
                append(conn, [_entry([CITIZENS[i % 40], CITIZENS[(i * 7) % 40]])])
            if i % 10 == 0:
                time.sleep(0.01)
        deadline = time.monotonic() + 10
        while _counts(engine)[0] >= 6 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        for ix in indexers:
            ix.stop()
    assert [ix.failures for ix in indexers] == [0, 0]
    assert all(ix.flushes > 0 for ix in indexers) and sum(ix.merges for ix in indexers) >= 2
    expected = {c: {i + 1 for i in range(200) if c in (CITIZENS[i % 40], CITIZENS[(i * 7) % 40])} for c in CITIZENS}
    assert _lookups(engine) == expected
    assert verify_database(engine) == (None, 200)


def test_a_flush_moves_the_oldest_records_whole_and_no_more_than_asked(engine: Engine) -> None:
    with engine.begin() as conn:
        append(conn, [_entry([CITIZENS[k]]) for k in range(3)] + [_entry([CITIZENS[5], CITIZENS[6]])])
        append(conn, [_entry([CITIZENS[k]]) for k in range(7, 12)])
    truth = _lookups(engine)
    with engine.begin() as conn:
        assert flush(conn, min_rows=4, max_rows=4) == 5  # record 4's two subjects move together
        left = list(conn.scalars(select(LOG.c.seq).order_by(LOG.c.seq)))
    assert left == [5, 6, 7, 8, 9]
    assert _lookups(engine) == truth
    with engine.begin() as conn:
        assert flush(conn, min_rows=4, max_rows=4) == 4
        assert flush(conn, min_rows=4, max_rows=4) == 0  # one subject left: below min_rows
    assert _lookups(engine) == truth
    assert verify_database(engine) == (None, 9)

"""The engine over generated sources with ground truth: every check finds its injected defects, hard
negatives are left alone, and SQLite and PostgreSQL sources give the same findings."""

from __future__ import annotations

import itertools
import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from connectors.generator import generate
from connectors.registry import Sources
from quality.duplicates.splink_model import MIN_TRAINING_ROWS
from quality.findings import DUPLICATE_CHECKS, Finding, read_findings, record
from quality.runner import run_checks
from quality.scoring import score
from tests.conftest import PostgresDatabases

PEOPLE = 3_000
SEED = 11
NAMES = ("population", "insurance", "land", "enterprise")
ENT = "enterprise.enterprise"


def run(urls: dict[str, str]) -> list[Finding]:
    sources = Sources(urls, timeout_s=600)
    try:
        return run_checks(sources).findings
    finally:
        sources.dispose()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Finding]]:
    folder = tmp_path_factory.mktemp("generated")
    generate(out_dir=folder, people=PEOPLE, seed=SEED)
    return folder, run({n: f"sqlite:///{folder / (n + '.db')}" for n in NAMES})


def test_every_check_finds_its_injected_defects(generated: tuple[Path, list[Finding]]) -> None:
    folder, findings = generated
    truth = read_findings(folder / "ground_truth.json")
    scores = score(findings, truth)
    assert {f.check for f in truth} <= set(scores)
    for check, s in scores.items():
        floor = 0.95 if check in DUPLICATE_CHECKS else 0.98
        assert s.f1 >= floor, (check, s)
    assert scores["overall"].f1 >= 0.98


def duplicate_pairs(findings: list[Finding]) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for f in findings:
        if f.check == "duplicate_citizen":
            pairs.update(itertools.combinations(sorted(r.key for r in f.records), 2))
    return pairs


def test_twins_and_namesakes_are_not_duplicates(generated: tuple[Path, list[Finding]]) -> None:
    folder, findings = generated
    engine = create_engine(f"sqlite:///{folder / 'population.db'}")
    with engine.connect() as conn:
        twins = conn.execute(
            text(
                "SELECT a.citizen_id, b.citizen_id FROM citizen a JOIN citizen b ON a.citizen_id < b.citizen_id "
                "AND a.date_of_birth = b.date_of_birth AND a.household_id = b.household_id "
                "AND a.full_name <> b.full_name"
            )
        ).all()
        namesakes = conn.execute(
            text(
                "SELECT a.citizen_id, b.citizen_id FROM citizen a JOIN citizen b ON a.citizen_id < b.citizen_id "
                "AND a.full_name = b.full_name AND substr(a.date_of_birth, 1, 4) = substr(b.date_of_birth, 1, 4) "
                "AND a.date_of_birth <> b.date_of_birth"
            )
        ).all()
    engine.dispose()
    truth = duplicate_pairs(read_findings(folder / "ground_truth.json"))
    found = duplicate_pairs(findings)
    hard = {(a, b) for a, b in [*twins, *namesakes]} - truth
    assert len(hard) >= 5, "the generator should make twins and namesakes"
    assert not hard & found


@pytest.mark.postgres
def test_postgresql_sources_give_the_same_findings(
    generated: tuple[Path, list[Finding]], postgres_databases: PostgresDatabases, tmp_path: Path
) -> None:
    _, on_sqlite = generated
    prefix_name = f"ndx_q_{uuid.uuid4().hex[:8]}_"
    admin = postgres_databases.admin_url
    postgres_databases.created.extend(prefix_name + n for n in NAMES)
    prefix = admin.set(database=prefix_name).render_as_string(hide_password=False)
    generate(out_dir=tmp_path, people=PEOPLE, seed=SEED, url_prefix=prefix)
    on_postgres = run({n: admin.set(database=prefix_name + n).render_as_string(hide_password=False) for n in NAMES})
    key = lambda f: (f.check, tuple(f.records), f.field)  # noqa: E731
    assert sorted(map(key, on_postgres)) == sorted(map(key, on_sqlite))


# The smallest population seen to make the old enterprise model's EM underflow (4,080 businesses).
ENTERPRISE_PEOPLE = 100_000
ENTERPRISE_SEED = 17


@pytest.fixture(scope="session")
def enough_businesses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated-100k")
    generate(out_dir=folder, people=ENTERPRISE_PEOPLE, seed=ENTERPRISE_SEED)
    return folder


def test_the_enterprise_model_is_trained_not_left_at_its_starting_values(
    enough_businesses: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """EM on look-alike names and on shared representatives converges: on blocks of province and trade it
    used to underflow, and the model fell back to its starting m values with a warning."""
    import duckdb

    from quality import staging
    from quality.duplicates import features
    from quality.duplicates.splink_model import MODELS, find_duplicates

    caplog.set_level(logging.WARNING)
    sources = Sources({n: f"sqlite:///{enough_businesses / (n + '.db')}" for n in NAMES}, timeout_s=600)
    duck = duckdb.connect()
    try:
        rows = staging.stage_table(sources, duck, "enterprise", "enterprise")
        clusters = find_duplicates(duck, features.enterprise_features(duck), MODELS["duplicate_enterprise"])
    finally:
        duck.close()
        sources.dispose()
    assert rows >= MIN_TRAINING_ROWS
    assert not [r.getMessage() for r in caplog.records if r.name == "ndx.quality" and r.levelno >= logging.WARNING]
    found = [Finding("duplicate_enterprise", tuple(record(ENT, k) for k in c.keys)) for c in clusters]
    truth = [f for f in read_findings(enough_businesses / "ground_truth.json") if f.check == "duplicate_enterprise"]
    assert score(found, truth)["duplicate_enterprise"].f1 >= 0.95

"""The generated sources against an independent checker (sqlcheck), on SQLite and on PostgreSQL.

One generation per backend (3,000 people, 3 % defects) serves every test in this module: the checker's
deterministic findings must equal the ground truth exactly, duplicate groups must really be one person or
business, look-alikes that are not duplicates must exist and stay out of the truth, and the data must
look like Viet Nam (surnames, middle names, ethnicities, proportions).
"""

from __future__ import annotations

import itertools
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.generator import GenerationSummary, generate
from ndx.textnorm import fold, same_name
from tests.conftest import BACKENDS, PostgresDatabases
from tests.connectors import sqlcheck

PEOPLE, SEED, RATE = 3_000, 11, 0.03
DETERMINISTIC = ("identity_mismatch", "unknown_reference", "activity_after_death", "invalid_value")


@dataclass
class Generated:
    summary: GenerationSummary
    urls: dict[str, str]
    src: sqlcheck.Sources
    truth: list[dict[str, Any]]

    def pairs(self, check: str) -> set[frozenset[str]]:
        return sqlcheck.duplicate_pairs(self.truth, check)


def postgres_prefix(dbs: PostgresDatabases) -> str:
    """A fresh prefix whose four databases are dropped with the test session's other databases."""
    stem = f"ndx_gen_{uuid.uuid4().hex[:10]}_"
    dbs.created.extend(f"{stem}{source}" for source in sqlcheck.TABLES)
    return dbs.admin_url.set(database=stem).render_as_string(hide_password=False)


def run_generation(backend: str, out: Path, request: pytest.FixtureRequest, **kwargs: Any) -> Generated:
    prefix = postgres_prefix(request.getfixturevalue("postgres_databases")) if backend == "postgresql" else None
    summary = generate(out_dir=out, url_prefix=prefix, **kwargs)
    urls = (
        {s: f"{prefix}{s}" for s in sqlcheck.TABLES}
        if prefix
        else {s: f"sqlite:///{out / f'{s}.db'}" for s in sqlcheck.TABLES}
    )
    return Generated(summary, urls, sqlcheck.load(urls), sqlcheck.truth(out / "ground_truth.json"))


@pytest.fixture(scope="module", params=BACKENDS)
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp(f"sources-{request.param}")
    return run_generation(request.param, out, request, people=PEOPLE, seed=SEED, defect_rate=RATE)


@pytest.mark.parametrize("check", DETERMINISTIC)
def test_checker_finds_exactly_the_injected_defects(generated: Generated, check: str) -> None:
    found = {f for f in sqlcheck.deterministic_findings(generated.src) if f[0] == check}
    truth = {sqlcheck.as_tuple(f) for f in generated.truth if f["check"] == check}
    assert truth, f"no {check} injected"
    assert found - truth == set(), "found but not injected"
    assert truth - found == set(), "injected but not found"


def test_every_check_is_injected_and_summarised(generated: Generated) -> None:
    counted = Counter(f["check"] for f in generated.truth)
    assert counted == generated.summary.defects
    assert all(counted[c] > 0 for c in generated.summary.defects)
    rows = {
        "population.citizen": len(generated.src.citizen),
        "insurance.insured_person": len(generated.src.insured),
        "insurance.contribution": len(generated.src.contribution),
        "land.parcel": len(generated.src.parcel),
        "land.land_right": len(generated.src.right),
        "enterprise.enterprise": len(generated.src.enterprise),
    }
    assert generated.summary.rows == rows
    assert all(
        f["confidence"] == 1.0 and set(f) == {"check", "records", "field", "confidence", "message"}
        for f in generated.truth
    )


def test_duplicate_citizens_are_one_person(generated: Generated) -> None:
    groups = [f["records"] for f in generated.truth if f["check"] == "duplicate_citizen"]
    assert any(len(g) == 3 for g in groups)
    for records in groups:
        rows = [generated.src.citizen[r["key"]] for r in records]
        for a in rows[1:]:
            b = rows[0]
            assert a["sex"] == b["sex"] and a["birth_province"] == b["birth_province"]
            assert sqlcheck.swapped(a["date_of_birth"], b["date_of_birth"])
            assert sqlcheck.similar_names(a["full_name"], b["full_name"]), (a["full_name"], b["full_name"])
    variants = Counter(f["message"].split(": ", 1)[1] for f in generated.truth if f["check"] == "duplicate_citizen")
    assert {"no diacritics", "day and month swapped", "other address", "decomposed Unicode"} <= set(variants)


def test_duplicate_insured_are_one_person(generated: Generated) -> None:
    for f in (f for f in generated.truth if f["check"] == "duplicate_insured"):
        a, b = (generated.src.insured[r["key"]] for r in f["records"])
        assert a["sex"] == b["sex"] and sqlcheck.swapped(a["date_of_birth"], b["date_of_birth"])
        assert sqlcheck.similar_names(a["full_name"], b["full_name"])
        assert b["citizen_id"] in (None, a["citizen_id"])


def test_duplicate_enterprises_are_one_business(generated: Generated) -> None:
    for f in (f for f in generated.truth if f["check"] == "duplicate_enterprise"):
        a, b = (generated.src.enterprise[r["key"]] for r in f["records"])
        assert sqlcheck.business_key(a["name"]) == sqlcheck.business_key(b["name"]), (a["name"], b["name"])
        assert a["name"] != b["name"]
        assert a["legal_rep_id"] == b["legal_rep_id"] or a["address"] == b["address"]


def test_no_accidental_lookalikes_outside_the_truth(generated: Generated) -> None:
    """Two records with one folded name and one birthday (swapped or not) are always an injected duplicate."""
    for check, rows, key in (
        ("duplicate_citizen", generated.src.citizen, sqlcheck.citizen_key),
        ("duplicate_insured", generated.src.insured, sqlcheck.citizen_key),
        ("duplicate_enterprise", generated.src.enterprise, lambda e: sqlcheck.business_key(e["name"])),
    ):
        pairs = generated.pairs(check)
        for members in sqlcheck.groups_by(rows, key):
            for a, b in itertools.pairwise(members):
                assert frozenset((a, b)) in pairs, f"{check}: {a} and {b} look alike but are not in the truth"


def test_hard_negatives_exist_and_are_not_in_the_truth(generated: Generated) -> None:
    citizens = generated.src.citizen
    pairs = generated.pairs("duplicate_citizen")
    similar = sqlcheck.similar_names

    def name(key: str) -> str:
        return str(citizens[key]["full_name"])

    # Twins: same household and birthday, names not alike, and no third record alike to both (their original).
    twins = [
        (a, b)
        for m in sqlcheck.groups_by(citizens, lambda c: (c["household_id"], c["date_of_birth"]))
        for a in m
        for b in m
        if a < b
        and citizens[a]["household_id"]
        and not similar(name(a), name(b))
        and not any(similar(name(c), name(a)) and similar(name(c), name(b)) for c in m)
    ]
    namesakes = [
        (a, b)
        for m in sqlcheck.groups_by(citizens, lambda c: (c["full_name"], c["date_of_birth"][:4]))
        for a in m
        for b in m
        if a < b and not sqlcheck.swapped(citizens[a]["date_of_birth"], citizens[b]["date_of_birth"])
    ]
    assert twins and namesakes
    assert all(frozenset(pair) not in pairs for pair in twins + namesakes)
    firms, firm_pairs = generated.src.enterprise, generated.pairs("duplicate_enterprise")
    words = {code: set(fold(e["name"]).split()) for code, e in firms.items()}
    same_ending = sqlcheck.groups_by(firms, lambda e: " ".join(fold(e["name"]).split()[-2:]))
    similar_names = [
        (a, b)
        for m in same_ending
        for a in m
        for b in m
        if a < b and len(words[a] ^ words[b]) <= 6 and frozenset((a, b)) not in firm_pairs
    ]
    assert similar_names, "no similar business names of different businesses (hard negatives)"
    assert all(
        firms[a]["legal_rep_id"] != firms[b]["legal_rep_id"] or firms[a]["address"] != firms[b]["address"]
        for a, b in similar_names
    )
    harmless = [
        ip
        for ip in generated.src.insured.values()
        if ip["citizen_id"] in citizens
        and ip["full_name"] != citizens[ip["citizen_id"]]["full_name"]
        and same_name(ip["full_name"], citizens[ip["citizen_id"]]["full_name"])
    ]
    assert harmless, "no insured name written differently but the same (hard negative for identity_mismatch)"
    dead_reps = [
        e
        for e in firms.values()
        if e["status"] == "dissolved" and citizens.get(e["legal_rep_id"], {}).get("status") == "deceased"
    ]
    assert dead_reps, "no dissolved business with a dead representative (hard negative for activity_after_death)"


def test_names_look_vietnamese(generated: Generated) -> None:
    citizens = list(generated.src.citizen.values())
    surnames = Counter(fold(c["full_name"]).split()[0] for c in citizens)
    assert 0.33 <= surnames["nguyen"] / len(citizens) <= 0.43
    assert {"tran", "le", "pham", "hoang", "phan", "vu", "dang", "bui", "do"} <= set(surnames)
    for c in citizens:
        words = unicodedata.normalize("NFC", c["full_name"]).casefold().split()
        middle = set(words[1:-1])
        assert ("thị" not in middle) if c["sex"] == "M" else ("văn" not in middle), c["full_name"]
    assert any("\u0300" <= ch <= "\u036f" for c in citizens for ch in unicodedata.normalize("NFD", c["full_name"]))
    ethnicity = Counter(c["ethnicity"] for c in citizens)
    assert 0.75 <= ethnicity["Kinh"] / len(citizens) <= 0.95
    assert {"Tày", "Thái", "Mường", "Khmer", "Hoa", "H'Mông"} <= set(ethnicity)


def test_proportions_per_thousand_people(generated: Generated) -> None:
    src, per = generated.src, 1000 / PEOPLE
    assert 450 <= len(src.insured) * per <= 650
    assert 2.4 <= len(src.contribution) / len(src.insured) <= 3.6
    assert 36 <= len(src.enterprise) * per <= 46
    assert len(src.parcel) * per == 300
    assert 320 <= len(src.right) * per <= 400
    deceased = sum(c["status"] == "deceased" for c in src.citizen.values()) / len(src.citizen)
    assert 0.015 <= deceased <= 0.05
    households = Counter(c["household_id"] for c in src.citizen.values() if c["household_id"])
    assert 2.8 <= sum(households.values()) / len(households) <= 4.0
    assert all(len(h) == 12 for h in households)
    ages = [2025 - int(c["date_of_birth"][:4]) for c in src.citizen.values() if c["date_of_birth"] < "2026"]
    assert min(ages) <= 1 and 85 <= max(ages) <= 96


def test_contributions_and_shares_follow_the_rules(generated: Generated) -> None:
    for c in generated.src.contribution:
        rate = 0.105 if c["employer_code"] else 0.22
        assert c["amount"] == round(c["salary_base"] * rate)
    by_parcel = Counter(r["parcel_id"] for r in generated.src.right)
    assert max(by_parcel.values()) >= 3
    kinds = Counter(r["holder_kind"] for r in generated.src.right)
    assert kinds["enterprise"] > 0 and kinds["citizen"] > kinds["enterprise"]


def test_defect_rate_is_roughly_respected(generated: Generated) -> None:
    people = sum(1 for f in generated.truth if f["check"] == "duplicate_citizen")
    assert people == round(RATE * PEOPLE)
    spoilt = {
        f["records"][0]["key"]
        for f in generated.truth
        if f["check"] == "invalid_value" and f["records"][0]["table"] == "population.citizen"
    }
    assert abs(len(spoilt) - RATE * PEOPLE) <= 2
    linked = sum(1 for ip in generated.src.insured.values() if ip["citizen_id"])
    dangling = sum(
        1
        for f in generated.truth
        if f["check"] == "unknown_reference" and f["records"][0]["table"] == "insurance.insured_person"
    )
    assert 0.7 * RATE <= dangling / linked <= 1.3 * RATE

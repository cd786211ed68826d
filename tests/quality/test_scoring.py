from __future__ import annotations

import pytest

from quality.findings import Finding, RecordRef, finding_id, merge
from quality.scoring import score


def dup(*keys: str) -> Finding:
    return Finding("duplicate_citizen", tuple(RecordRef("population.citizen", k) for k in keys))


def bad(key: str, field: str, table: str = "population.citizen") -> Finding:
    return Finding("invalid_value", (RecordRef(table, key),), field)


def test_duplicate_of_three_counts_three_pairs() -> None:
    scores = score([dup("a", "b")], [dup("a", "b", "c")])
    s = scores["duplicate_citizen"]
    assert (s.true_positives, s.false_positives, s.false_negatives) == (1, 0, 2)
    assert s.precision == 1.0
    assert s.recall == pytest.approx(1 / 3)


def test_other_checks_match_on_first_record_and_field() -> None:
    found = [bad("1", "citizen_id"), bad("2", "date_of_birth"), bad("3", "sex")]
    truth = [bad("1", "citizen_id"), bad("2", "citizen_id")]
    s = score(found, truth)["invalid_value"]
    assert (s.true_positives, s.false_positives, s.false_negatives) == (1, 2, 1)


def test_overall_is_micro_averaged() -> None:
    found = [dup("a", "b", "c"), bad("1", "citizen_id")]
    truth = [dup("a", "b", "c"), bad("1", "citizen_id"), bad("2", "sex")]
    overall = score(found, truth)["overall"]
    assert (overall.true_positives, overall.false_positives, overall.false_negatives) == (4, 0, 1)
    assert overall.f1 == pytest.approx(2 * 1 * 0.8 / 1.8)


def test_identity_ignores_record_order_and_merge_joins_messages() -> None:
    a = RecordRef("population.citizen", "1")
    b = RecordRef("population.citizen", "2")
    assert finding_id("duplicate_citizen", [a, b], None) == finding_id("duplicate_citizen", [b, a], None)
    assert finding_id("invalid_value", [a], "sex") != finding_id("invalid_value", [a], "citizen_id")
    merged = merge(
        [
            Finding("invalid_value", (a,), "citizen_id", 1.0, "x", message_vi="ex"),
            Finding("invalid_value", (a,), "citizen_id", 1.0, "y", message_vi="ét"),
        ]
    )
    assert len(merged) == 1
    assert (merged[0].message, merged[0].message_vi) == ("x; y", "ex; ét")

"""Score findings against a generator's ground truth, as shared/SOURCES.md lays down.

A duplicate finding of n records counts as its n(n-1)/2 unordered key pairs; any other finding is matched
on (check, first record, field). Precision, recall and F1 per check and overall (micro-averaged).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from quality.findings import DUPLICATE_CHECKS, Finding

Unit = tuple[object, ...]


@dataclass(frozen=True)
class Score:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        truth = self.true_positives + self.false_negatives
        return self.true_positives / truth if truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def units(finding: Finding) -> set[Unit]:
    """The units a finding is scored by: key pairs for duplicates, (check, first record, field) otherwise."""
    if finding.check in DUPLICATE_CHECKS:
        keys = sorted({(r.table, r.key) for r in finding.records})
        return {(finding.check, a, b) for a, b in combinations(keys, 2)}
    first = finding.records[0]
    return {(finding.check, (first.table, first.key), finding.field)}


def _by_check(findings: Iterable[Finding]) -> dict[str, set[Unit]]:
    result: dict[str, set[Unit]] = {}
    for f in findings:
        result.setdefault(f.check, set()).update(units(f))
    return result


def score(found: Iterable[Finding], truth: Iterable[Finding]) -> dict[str, Score]:
    """Scores per check plus ``"overall"`` (micro-averaged over every check's units)."""
    got, want = _by_check(found), _by_check(truth)
    scores: dict[str, Score] = {}
    for check in sorted(set(got) | set(want)):
        g, w = got.get(check, set()), want.get(check, set())
        scores[check] = Score(len(g & w), len(g - w), len(w - g))
    scores["overall"] = Score(
        sum(s.true_positives for s in scores.values()),
        sum(s.false_positives for s in scores.values()),
        sum(s.false_negatives for s in scores.values()),
    )
    return scores


def missed_and_extra(found: Iterable[Finding], truth: Iterable[Finding], check: str) -> tuple[set[Unit], set[Unit]]:
    """The units of one check that ground truth has and the findings lack, and the reverse (for debugging)."""
    got, want = _by_check(found).get(check, set()), _by_check(truth).get(check, set())
    return want - got, got - want

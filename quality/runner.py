"""One quality run over the configured sources: contract, staging, suites, cross-source checks, duplicates.

Plain functions with no platform database: ``run_checks`` returns findings; the CLI stores them
(quality.service), writes findings.json and the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connectors.contract import ContractError
from connectors.registry import Sources
from quality import crosscheck
from quality.findings import CHECKS, Finding, merge, record

if TYPE_CHECKING:
    import duckdb

    from quality.duplicates.splink_model import Cluster

Progress = Callable[[str, int, int], None]


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


@dataclass
class RunResult:
    findings: list[Finding]
    row_counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)


def parse_checks(value: str | None) -> list[str]:
    """``a,b`` -> the named checks; unknown names are an error that lists the known ones."""
    if not value:
        return list(CHECKS)
    names = [c.strip() for c in value.split(",") if c.strip()]
    unknown = [c for c in names if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    return names


def require_sources(sources: Sources) -> None:
    """Raise ContractError for the first source that is unreachable or misses a table or column."""
    for name in sources.urls:
        report = sources.check(name)
        if not report.ok:
            raise ContractError(report)


def run_checks(sources: Sources, checks: Iterable[str] | None = None, progress: Progress = _noop) -> RunResult:
    import duckdb

    from quality import staging

    wanted = set(checks or CHECKS)
    require_sources(sources)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        timings[name] = round(now - started, 2)
        started = now

    duck = duckdb.connect()
    duck.execute("SET threads TO 2")
    duck.execute("SET preserve_insertion_order = false")
    try:
        counts = staging.stage_all(sources, duck, progress)
        lap("stage")
        found: list[Finding] = []
        if "invalid_value" in wanted:
            from quality.gx import run_suites
            from quality.suites import load_suites

            found.extend(run_suites(sources, load_suites(), progress))
            found.extend(crosscheck.share_sums(duck))
            lap("invalid_value")
        if "identity_mismatch" in wanted:
            found.extend(crosscheck.identity_mismatch(duck))
        if "unknown_reference" in wanted:
            found.extend(crosscheck.unknown_reference(duck))
        if "activity_after_death" in wanted:
            found.extend(crosscheck.activity_after_death(duck))
        lap("cross-source")
        found.extend(_duplicates(duck, wanted, progress))
        lap("duplicates")
    finally:
        duck.close()
    return RunResult(merge(found), {f"{s}.{t}": n for (s, t), n in counts.items()}, timings)


def _duplicates(duck: duckdb.DuckDBPyConnection, wanted: set[str], progress: Progress) -> list[Finding]:
    from quality.duplicates import features
    from quality.duplicates.splink_model import MODELS, find_duplicates, merge_by_person

    findings: list[Finding] = []
    citizen_clusters: list[Cluster] = []
    if wanted & {"duplicate_citizen", "duplicate_insured"}:
        table = features.citizen_features(duck)
        citizen_clusters = find_duplicates(duck, table, MODELS["duplicate_citizen"], progress=progress)
        if "duplicate_citizen" in wanted:
            findings.extend(_as_findings("duplicate_citizen", "population.citizen", citizen_clusters))
    if "duplicate_insured" in wanted:
        table = features.insured_features(duck)
        clusters = find_duplicates(duck, table, MODELS["duplicate_insured"], progress=progress)
        # Records linked to one citizen, or resolved to one (quality.duplicates.features), are one person.
        links = duck.execute(f"SELECT unique_id, person_id FROM {table} WHERE person_id IS NOT NULL").fetchall()  # noqa: S608 (a constant's name)
        clusters = merge_by_person(clusters, citizen_clusters, links)
        findings.extend(_as_findings("duplicate_insured", "insurance.insured_person", clusters))
    if "duplicate_enterprise" in wanted:
        table = features.enterprise_features(duck)
        clusters = find_duplicates(duck, table, MODELS["duplicate_enterprise"], progress=progress)
        findings.extend(_as_findings("duplicate_enterprise", "enterprise.enterprise", clusters))
    return findings


# The notes of the duplicate guards (``quality.duplicates.guards``) in Vietnamese; a note without one stays English.
NOTES_VI = {
    "name with other or missing diacritics": "tên khác dấu hoặc thiếu dấu",
    "name spelt differently": "tên viết khác",
    "day and month of birth swapped": "ngày và tháng sinh bị đảo",
    "possibly twins: same household and birth date, names differ in their marks": (
        "có thể là sinh đôi: cùng hộ và ngày sinh, tên chỉ khác nhau ở dấu"
    ),
    "other address": "địa chỉ khác",
    "registered in another province": "đăng ký ở tỉnh khác",
    "name written differently": "tên viết khác",
    "another legal representative": "người đại diện theo pháp luật khác",
    "linked to one citizen": "gắn với cùng một công dân",
}


def _as_findings(check: str, table: str, clusters: Iterable[Cluster]) -> list[Finding]:
    noun, noun_vi = ("business", "doanh nghiệp") if check == "duplicate_enterprise" else ("person", "người")
    return [
        Finding(
            check,
            tuple(record(table, key) for key in cluster.keys),
            None,
            round(float(cluster.confidence), 4),
            f"same {noun} recorded {len(cluster.keys)} times"
            + (f": {'; '.join(cluster.notes)}" if cluster.notes else ""),
            message_vi=f"cùng một {noun_vi} được ghi {len(cluster.keys)} lần"
            + (f": {'; '.join(NOTES_VI.get(n, n) for n in cluster.notes)}" if cluster.notes else ""),
        )
        for cluster in clusters
    ]

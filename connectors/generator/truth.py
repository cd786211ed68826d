"""The ground truth: every injected defect, in the findings.json format of shared/SOURCES.md.

Findings name their records by (table, index) while defects are injected and are turned into primary
keys only at the end, so an identifier changed by a later defect can never leave a stale key behind.
The document is sorted, so the same seed gives the same bytes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connectors.contract import CHECKS

CITIZEN = "population.citizen"
INSURED = "insurance.insured_person"
CONTRIBUTION = "insurance.contribution"
PARCEL = "land.parcel"
RIGHT = "land.land_right"
ENTERPRISE = "enterprise.enterprise"


@dataclass(frozen=True)
class Finding:
    check: str
    records: tuple[tuple[str, int], ...]
    field: str | None
    message: str


class GroundTruth:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, check: str, records: list[tuple[str, int]], field: str | None = None, message: str = "") -> None:
        assert check in CHECKS, check
        self.findings.append(Finding(check, tuple(records), field, message))

    def counts(self) -> dict[str, int]:
        counted = Counter(f.check for f in self.findings)
        return {check: counted[check] for check in CHECKS}

    def document(self, keys: Mapping[str, Callable[[int], str]]) -> dict[str, list[dict[str, object]]]:
        """findings.json with primary keys; ``keys`` turns a table's record index into its key."""
        entries: list[tuple[tuple[str, list[tuple[str, str]], str, str], dict[str, object]]] = []
        for f in self.findings:
            records = [(table, keys[table](index)) for table, index in f.records]
            row: dict[str, object] = {
                "check": f.check,
                "records": [{"table": table, "key": key} for table, key in records],
                "field": f.field,
                "confidence": 1.0,
                "message": f.message,
            }
            entries.append(((f.check, records, f.field or "", f.message), row))
        entries.sort(key=lambda entry: entry[0])
        return {"findings": [row for _, row in entries]}

    def to_json(self, keys: Mapping[str, Callable[[int], str]]) -> str:
        """The document with one finding per line: valid JSON that diffs well."""
        lines = [json.dumps(row, ensure_ascii=False) for row in self.document(keys)["findings"]]
        return '{"findings": [\n' + ",\n".join(lines) + "\n]}\n" if lines else '{"findings": []}\n'

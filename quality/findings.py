"""Findings: what a quality run reports, in the findings.json format of shared/SOURCES.md.

A finding names a check, its records (``source.table`` + primary key as a string), the field at fault
(None for duplicates and activity after death), a confidence and a message (in English, as findings.json
carries it, and in Vietnamese for the pages and the report, ``message_vi``). Its identity is a hash of
the check, the sorted record keys and the field, so a re-run finds the same finding again and the
steward's decision on it is kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.contract import CHECKS as CHECKS  # re-exported: the check codes of the findings format
from connectors.contract import DUPLICATE_CHECKS as DUPLICATE_CHECKS

# The catalog dataset of each source table: a finding belongs to the dataset of its first record.
DATASETS: dict[str, str] = {
    "population.citizen": "population-citizen",
    "insurance.insured_person": "insurance-insured-person",
    "insurance.contribution": "insurance-contribution",
    "land.parcel": "land-parcel",
    "land.land_right": "land-land-right",
    "enterprise.enterprise": "enterprise-enterprise",
}


@dataclass(frozen=True, order=True)
class RecordRef:
    """One record of a source table: ``population.citizen`` and its primary key as a string."""

    table: str
    key: str

    def as_dict(self) -> dict[str, str]:
        return {"table": self.table, "key": self.key}


@dataclass(frozen=True)
class Finding:
    check: str
    records: tuple[RecordRef, ...]
    field: str | None = None
    confidence: float = 1.0
    message: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)
    message_vi: str = ""  # the message in Vietnamese (not in findings.json, whose format is fixed)

    @property
    def id(self) -> str:
        return finding_id(self.check, self.records, self.field)

    @property
    def dataset(self) -> str:
        return DATASETS.get(self.records[0].table, self.records[0].table)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "records": [r.as_dict() for r in self.records],
            "field": self.field,
            "confidence": round(self.confidence, 4),
            "message": self.message,
        }


def finding_id(check: str, records: Iterable[RecordRef], field: str | None) -> str:
    """Stable identity: the same check over the same records and field is the same finding on every run."""
    keys = sorted(f"{r.table}:{r.key}" for r in records)
    raw = "\x1f".join([check, *keys, field or ""])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def record(table: str, key: object) -> RecordRef:
    return RecordRef(table, str(key))


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per identity: a record breaking two rules of one column is one finding on that column.

    Messages of merged findings are joined; the highest confidence wins. Order is stable (first seen).
    """
    merged: dict[str, Finding] = {}
    for f in findings:
        seen = merged.get(f.id)
        if seen is None:
            merged[f.id] = f
        elif f.message and f.message not in seen.message:
            merged[f.id] = Finding(
                seen.check,
                seen.records,
                seen.field,
                max(seen.confidence, f.confidence),
                f"{seen.message}; {f.message}" if seen.message else f.message,
                seen.extra,
                message_vi="; ".join(m for m in (seen.message_vi, f.message_vi) if m),
            )
    return list(merged.values())


def to_document(findings: Iterable[Finding]) -> dict[str, Any]:
    return {"findings": [f.as_dict() for f in findings]}


def write_findings(path: Path, findings: Iterable[Finding]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        json.dump(to_document(findings), fh, ensure_ascii=False, indent=1)
        fh.write("\n")


def from_document(doc: dict[str, Any]) -> list[Finding]:
    return [
        Finding(
            check=str(item["check"]),
            records=tuple(record(r["table"], r["key"]) for r in item["records"]),
            field=item.get("field"),
            confidence=float(item.get("confidence", 1.0)),
            message=str(item.get("message", "")),
        )
        for item in doc.get("findings", [])
    ]


def read_findings(path: Path) -> list[Finding]:
    with path.open(encoding="utf-8") as fh:
        return from_document(json.load(fh))

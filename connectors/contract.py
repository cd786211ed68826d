"""Does a database meet the source contract? Reachability, tables and columns, named when missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from connectors.schema import SOURCES

# The checks of the findings format (shared/SOURCES.md), in its order: the generator's ground truth and the
# quality engine's findings speak the same codes.
CHECKS: tuple[str, ...] = (
    "duplicate_citizen",
    "duplicate_insured",
    "duplicate_enterprise",
    "identity_mismatch",
    "unknown_reference",
    "activity_after_death",
    "invalid_value",
)
DUPLICATE_CHECKS = frozenset(c for c in CHECKS if c.startswith("duplicate_"))


@dataclass
class SourceReport:
    """What ``ndx sources check`` says of one source."""

    source: str
    url: str
    reachable: bool
    error: str | None = None
    missing_tables: list[str] = field(default_factory=list)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.reachable and not self.missing_tables and not self.missing_columns

    def problems(self) -> list[str]:
        """One line per problem, naming the table and column."""
        if not self.reachable:
            return [f"unreachable: {self.error}"]
        lines = [f"missing table {self.source}.{t}" for t in self.missing_tables]
        for table, columns in self.missing_columns.items():
            lines.extend(f"missing column {self.source}.{table}.{c}" for c in columns)
        return lines


class ContractError(Exception):
    """A source is unreachable or does not meet the contract; the message names what is wrong."""

    def __init__(self, report: SourceReport) -> None:
        super().__init__(f"source {report.source}: " + "; ".join(report.problems()))
        self.report = report


def check_source(source: str, engine: Engine, url: str) -> SourceReport:
    """Inspect one source database against the contract's tables and columns (extra ones are fine)."""
    report = SourceReport(source=source, url=url, reachable=True)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            present = set(inspector.get_table_names())
            for name, table in SOURCES[source].tables.items():
                if name not in present:
                    report.missing_tables.append(name)
                    continue
                have = {col["name"].lower() for col in inspector.get_columns(name)}
                missing = [c.name for c in table.columns if c.name not in have]
                if missing:
                    report.missing_columns[name] = missing
    except SQLAlchemyError as exc:
        report.reachable = False
        report.error = (str(getattr(exc, "orig", None) or exc).splitlines() or ["unreachable"])[0]
    return report


def require_source(source: str, engine: Engine, url: str) -> None:
    """Raise ContractError unless the source is reachable and meets the contract."""
    report = check_source(source, engine, url)
    if not report.ok:
        raise ContractError(report)

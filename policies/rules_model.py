"""The declarative dataset policy files (``policies/rules/datasets/*.yaml``), as validated models.

One file per dataset says who owns it, how it is classified, each field's sensitivity and masking, which
columns a query may filter on, the purposes that may be requested, and which roles approve. The catalog
reads titles, descriptions and sensitivities from here; ``policies.decide`` reads the rest.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from policies.rules_files import RULES_DIR, RulesError, load_rules

Classification = Literal["open", "internal", "restricted"]
Sensitivity = Literal["public", "personal", "sensitive-personal"]
PurposeKind = Literal["query", "verify"]
Role = Literal["developer", "steward", "admin"]
SLUG = r"^[a-z0-9][a-z0-9-]{0,79}$"


class Text(BaseModel):
    """A text in Vietnamese and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Mask(BaseModel):
    """Show the first ``keep_start`` and last ``keep_end`` characters, star the rest: ``0790*****345``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_start: int = Field(default=0, ge=0, le=20)
    keep_end: int = Field(default=0, ge=0, le=20)
    char: str = Field(default="*", min_length=1, max_length=1)

    def apply(self, value: str) -> str:
        if len(value) <= self.keep_start + self.keep_end:
            return self.char * len(value)
        hidden = len(value) - self.keep_start - self.keep_end
        return value[: self.keep_start] + self.char * hidden + (value[-self.keep_end :] if self.keep_end else "")


class FieldRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sensitivity: Sensitivity
    description: Text
    mask: Mask | None = None


class Purpose(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=SLUG)
    kind: PurposeKind
    description: Text


class RateRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_minute: int = Field(default=600, ge=1)
    rows_per_day: int = Field(default=100_000, ge=1)


class DatasetRule(BaseModel):
    """Everything the platform declares about one source table published as a dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SLUG)
    source: Literal["population", "insurance", "land", "enterprise"]
    table: str
    owner: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    classification: Classification
    title: Text
    description: Text
    tags: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    license: str = "other-closed"
    update_frequency: Literal["continuous", "daily", "weekly", "monthly", "annual", "irregular"] = "daily"
    spatial: str = "VN"
    primary_key: str
    subject_column: str | None = None
    filter_columns: list[str]
    approvers: list[Role] = Field(default=["steward"])
    fields: dict[str, FieldRule]
    purposes: list[Purpose] = Field(default_factory=list)
    rate: RateRule = Field(default_factory=RateRule)

    @model_validator(mode="after")
    def _columns_are_fields(self) -> DatasetRule:
        known = set(self.fields)
        for what, cols in (
            ("filter_columns", self.filter_columns),
            ("primary_key", [self.primary_key]),
            ("subject_column", [self.subject_column] if self.subject_column else []),
        ):
            unknown = [c for c in cols if c not in known]
            if unknown:
                raise ValueError(f"{what} names columns that are not fields: {', '.join(unknown)}")
        codes = [p.code for p in self.purposes]
        if len(codes) != len(set(codes)):
            raise ValueError("purpose codes must be unique")
        return self

    def purpose(self, code: str) -> Purpose | None:
        return next((p for p in self.purposes if p.code == code), None)


DATASETS_DIR = RULES_DIR / "datasets"


def load_dataset_rules(folder: Path | None = None) -> dict[str, DatasetRule]:
    """Every dataset rule file of ``folder``, by dataset name; RulesError names the file and line at fault."""
    folder = folder or DATASETS_DIR
    rules: dict[str, DatasetRule] = {}
    for path in sorted(folder.glob("*.yaml")):
        rule = load_rules(path, DatasetRule)
        if rule.name in rules:
            raise RulesError(f"{path}: dataset {rule.name!r} is declared twice")
        rules[rule.name] = rule
    return rules


@cache
def dataset_rules() -> dict[str, DatasetRule]:
    """The shipped rules, loaded once per process (``policies reload`` clears this cache)."""
    return load_dataset_rules()

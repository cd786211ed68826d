"""The real rules of Vietnamese identifiers (shared/SOURCES.md): validation and construction.

Pure functions, no I/O: the generator builds identifiers with them, quality checks and verification check
with them, so both sides share one reading of the rules.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

_PROVINCES_CSV = Path(__file__).parent / "data" / "provinces.csv"
ENTERPRISE_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_CITIZEN_ID = re.compile(r"^0\d{11}$")
_TEN_DIGITS = re.compile(r"^\d{10}$")
_PARCEL_ID = re.compile(r"^(\d{2})-(\d{5})-(\d{1,5})-(\d{1,6})$")


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    region: str


@cache
def provinces() -> dict[str, Province]:
    """The 63 province codes used in identity numbers, by code."""
    with _PROVINCES_CSV.open(encoding="utf-8") as fh:
        return {row["code"]: Province(row["code"], row["name"], row["region"]) for row in csv.DictReader(fh)}


def century_sex_digit(born: date, sex: str) -> int:
    """0/1 for men/women born 1900-1999, 2/3 for 2000-2099 (and so on by century)."""
    century = (born.year - 1900) // 100
    return century * 2 + (1 if sex == "F" else 0)


def make_citizen_id(birth_province: str, born: date, sex: str, serial: int) -> str:
    return f"0{birth_province}{century_sex_digit(born, sex)}{born.year % 100:02d}{serial:06d}"


def citizen_id_problems(
    citizen_id: str, *, birth_province: str | None = None, born: date | None = None, sex: str | None = None
) -> list[str]:
    """What is wrong with a citizen_id, alone or against the record's birth province, birth date and sex."""
    if not _CITIZEN_ID.match(citizen_id or ""):
        return ["not 12 digits starting with 0"]
    problems: list[str] = []
    province = citizen_id[1:3]
    if province not in provinces():
        problems.append(f"unknown province code {province}")
    elif birth_province is not None and province != birth_province:
        problems.append(f"province digits {province} differ from birth province {birth_province}")
    if born is not None and sex in {"M", "F"}:
        expected = f"{century_sex_digit(born, sex)}{born.year % 100:02d}"
        if citizen_id[3:6] != expected:
            problems.append(f"century/sex/year digits {citizen_id[3:6]} contradict {born.isoformat()} {sex}")
    return problems


def enterprise_check_digit(first_nine: str) -> int | None:
    """The 10th digit for these nine, or None when the remainder is 0 (such codes are never issued)."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, ENTERPRISE_WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return None
    return (10 - remainder) % 10 if remainder == 10 else 10 - remainder


def enterprise_code_problems(code: str) -> list[str]:
    if not _TEN_DIGITS.match(code or ""):
        return ["not 10 digits"]
    problems = []
    if code[:2] not in provinces():
        problems.append(f"unknown province code {code[:2]}")
    check = enterprise_check_digit(code[:9])
    if check is None or check != int(code[9]):
        problems.append("wrong check digit")
    return problems


def insurance_id_problems(insurance_id: str) -> list[str]:
    if not _TEN_DIGITS.match(insurance_id or ""):
        return ["not 10 digits"]
    if insurance_id[:2] not in provinces():
        return [f"unknown province code {insurance_id[:2]}"]
    return []


def parcel_id_problems(parcel_id: str) -> list[str]:
    match = _PARCEL_ID.match(parcel_id or "")
    if not match:
        return ["not <province 2>-<ward 5>-<map sheet>-<parcel no>"]
    if match.group(1) not in provinces():
        return [f"unknown province code {match.group(1)}"]
    return []

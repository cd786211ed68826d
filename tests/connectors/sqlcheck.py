"""An independent checker of generated sources: plain SQL and simple Python over the written databases.

It knows nothing of the generator's bookkeeping: it reads the six tables back through plain ``SELECT``s,
re-implements the identifier rules of shared/SOURCES.md from their text (not from connectors.identifiers),
and derives every deterministic finding (identity_mismatch, unknown_reference, activity_after_death,
invalid_value). The tests compare these with the ground truth for equality; duplicates, which are a
matter of judgement, are checked for plausibility instead.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from ndx.textnorm import fold, same_name

Row = dict[str, Any]
Record = tuple[str, str]
Finding = tuple[str, tuple[Record, ...], str | None]
PROVINCES = {
    row["code"]
    for row in csv.DictReader(
        (Path(__file__).parents[2] / "connectors" / "data" / "provinces.csv").open(encoding="utf-8")
    )
}
WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
CIT, INS, CON, PAR, RIG, ENT = (
    "population.citizen",
    "insurance.insured_person",
    "insurance.contribution",
    "land.parcel",
    "land.land_right",
    "enterprise.enterprise",
)
TABLES = {
    "population": ["citizen"],
    "insurance": ["insured_person", "contribution"],
    "land": ["parcel", "land_right"],
    "enterprise": ["enterprise"],
}


def _plain(value: Any) -> Any:
    """Dates as ISO text and numbers as float, whichever backend answered."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if type(value).__name__ == "Decimal":
        return float(value)
    return value


@dataclass
class Sources:
    citizen: dict[str, Row]
    insured: dict[str, Row]
    contribution: list[Row]
    parcel: dict[str, Row]
    right: list[Row]
    enterprise: dict[str, Row]


def load(urls: dict[str, str]) -> Sources:
    rows: dict[str, list[Row]] = {}
    for source, tables in TABLES.items():
        engine = create_engine(urls[source])
        with engine.connect() as conn:
            for table in tables:
                result = conn.execute(text(f"SELECT * FROM {table}"))
                rows[table] = [{k: _plain(v) for k, v in r._mapping.items()} for r in result]
        engine.dispose()
    return Sources(
        citizen={r["citizen_id"]: r for r in rows["citizen"]},
        insured={r["insurance_id"]: r for r in rows["insured_person"]},
        contribution=rows["contribution"],
        parcel={r["parcel_id"]: r for r in rows["parcel"]},
        right=rows["land_right"],
        enterprise={r["enterprise_code"]: r for r in rows["enterprise"]},
    )


def digest(urls: dict[str, str]) -> str:
    """A hash of every row of every table, in primary-key order: equal for identical databases."""
    sha = hashlib.sha256()
    for source, tables in TABLES.items():
        engine = create_engine(urls[source])
        with engine.connect() as conn:
            for table in tables:
                key = next(iter(conn.execute(text(f"SELECT * FROM {table} LIMIT 0")).keys()))
                for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}")):
                    sha.update(repr(tuple(_plain(v) for v in row)).encode())
        engine.dispose()
    return sha.hexdigest()


def truth(path: Path) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["findings"]
    return findings


def as_tuple(finding: dict[str, Any]) -> Finding:
    return finding["check"], tuple((r["table"], r["key"]) for r in finding["records"]), finding["field"]


# --- the identifier rules, from the text of SOURCES.md --------------------------------------------------


def citizen_id_ok(cid: str, birth_province: str | None = None, born: str | None = None, sex: str | None = None) -> bool:
    if not re.fullmatch(r"0\d{11}", cid or "") or cid[1:3] not in PROVINCES:
        return False
    if birth_province is not None and cid[1:3] != birth_province:
        return False
    if born is not None and sex is not None:
        year = int(born[:4])
        digit = (year - 1900) // 100 * 2 + (1 if sex == "F" else 0)
        if cid[3] != str(digit) or cid[4:6] != f"{year % 100:02d}":
            return False
    return True


def enterprise_code_ok(code: str) -> bool:
    if not re.fullmatch(r"\d{10}", code or "") or code[:2] not in PROVINCES:
        return False
    remainder = sum(int(d) * w for d, w in zip(code[:9], WEIGHTS, strict=True)) % 11
    return remainder != 0 and int(code[9]) == (10 - remainder) % 10


def ten_digits_known_province(value: str) -> bool:
    return bool(re.fullmatch(r"\d{10}", value or "")) and value[:2] in PROVINCES


def parcel_id_ok(value: str) -> bool:
    match = re.fullmatch(r"(\d{2})-\d{5}-\d{1,5}-\d{1,6}", value or "")
    return match is not None and match.group(1) in PROVINCES


# --- the deterministic checks ----------------------------------------------------------------------------


def deterministic_findings(src: Sources, today: date | None = None) -> set[Finding]:
    now = (today or date.today()).isoformat()
    out: set[Finding] = set()

    def add(check: str, records: tuple[Record, ...], field: str | None = None) -> None:
        out.add((check, records, field))

    def invalid(table: str, key: str, field: str) -> None:
        add("invalid_value", ((table, key),), field)

    def linked_person(table: str, key: str, field: str, cid: str | None) -> Row | None:
        """The citizen a reference points at; records invalid_value / unknown_reference when there is none."""
        if cid is None:
            return None
        if not citizen_id_ok(cid):
            invalid(table, key, field)
            return None
        if cid not in src.citizen:
            add("unknown_reference", ((table, key),), field)
            return None
        return src.citizen[cid]

    for cid, c in src.citizen.items():
        if not citizen_id_ok(cid, c["birth_province"], c["date_of_birth"], c["sex"]):
            invalid(CIT, cid, "citizen_id")
        for field in ("date_of_birth", "date_of_death", "updated_at"):
            if c[field] is not None and c[field][:10] > now:
                invalid(CIT, cid, field)
        for field in ("province_code", "birth_province"):
            if c[field] not in PROVINCES:
                invalid(CIT, cid, field)

    for iid, ip in src.insured.items():
        if not ten_digits_known_province(iid):
            invalid(INS, iid, "insurance_id")
        if ip["province_code"] not in PROVINCES:
            invalid(INS, iid, "province_code")
        for field in ("date_of_birth", "registered_on"):
            if ip[field] > now:
                invalid(INS, iid, field)
        person = linked_person(INS, iid, "citizen_id", ip["citizen_id"])
        if person is not None:
            if not same_name(ip["full_name"], person["full_name"]):
                add("identity_mismatch", ((INS, iid), (CIT, ip["citizen_id"])), "full_name")
            for field in ("date_of_birth", "sex"):
                if ip[field] != person[field]:
                    add("identity_mismatch", ((INS, iid), (CIT, ip["citizen_id"])), field)

    for c in src.contribution:
        key = str(c["contribution_id"])
        assert c["insurance_id"] in src.insured, f"contribution {key}: broken foreign key"
        if c["period"] > now[:7]:
            invalid(CON, key, "period")
        employer = c["employer_code"]
        if employer is not None and not enterprise_code_ok(employer):
            invalid(CON, key, "employer_code")
        elif employer is not None and employer not in src.enterprise:
            add("unknown_reference", ((CON, key),), "employer_code")
        cid = src.insured[c["insurance_id"]]["citizen_id"]
        person = src.citizen.get(cid) if cid else None
        if person and person["status"] == "deceased" and c["period"] > person["date_of_death"][:7]:
            add("activity_after_death", ((CON, key), (CIT, cid)))

    for pid, p in src.parcel.items():
        if not parcel_id_ok(pid):
            invalid(PAR, pid, "parcel_id")
        if p["province_code"] not in PROVINCES:
            invalid(PAR, pid, "province_code")
        if not re.fullmatch(r"\d{5}", p["ward_code"]):
            invalid(PAR, pid, "ward_code")
        if p["area_m2"] <= 0:
            invalid(PAR, pid, "area_m2")

    shares: dict[str, list[Row]] = defaultdict(list)
    for r in src.right:
        key = str(r["right_id"])
        assert r["parcel_id"] in src.parcel, f"land right {key}: broken foreign key"
        shares[r["parcel_id"]].append(r)
        if r["issued_on"] > now:
            invalid(RIG, key, "issued_on")
        if r["holder_kind"] == "citizen":
            person = linked_person(RIG, key, "holder_id", r["holder_id"])
            if person is not None and not same_name(r["holder_name"], person["full_name"]):
                add("identity_mismatch", ((RIG, key), (CIT, r["holder_id"])), "holder_name")
        elif not enterprise_code_ok(r["holder_id"]):
            invalid(RIG, key, "holder_id")
        elif r["holder_id"] not in src.enterprise:
            add("unknown_reference", ((RIG, key),), "holder_id")
    for rows in shares.values():
        if round(sum(round(float(r["share"]), 4) for r in rows), 4) != 1:
            for r in rows:
                invalid(RIG, str(r["right_id"]), "share")

    for code, e in src.enterprise.items():
        if not enterprise_code_ok(code):
            invalid(ENT, code, "enterprise_code")
        if e["province_code"] not in PROVINCES:
            invalid(ENT, code, "province_code")
        if e["registered_on"] > now:
            invalid(ENT, code, "registered_on")
        person = linked_person(ENT, code, "legal_rep_id", e["legal_rep_id"])
        if person is not None:
            if not same_name(e["legal_rep_name"], person["full_name"]):
                add("identity_mismatch", ((ENT, code), (CIT, e["legal_rep_id"])), "legal_rep_name")
            if e["status"] == "active" and person["status"] == "deceased":
                add("activity_after_death", ((ENT, code), (CIT, e["legal_rep_id"])))
    return out


# --- duplicates: plausibility, accidental look-alikes, hard negatives ---------------------------------------


def swapped(a: str, b: str) -> bool:
    return a == b or (a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7])


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def similar_names(a: str, b: str) -> bool:
    fa, fb = fold(a).split(), fold(b).split()
    dropped = len(fa) == len(fb) + 1 and any(fa[:i] + fa[i + 1 :] == fb for i in range(len(fa)))
    dropped |= len(fb) == len(fa) + 1 and any(fb[:i] + fb[i + 1 :] == fa for i in range(len(fb)))
    return dropped or edit_distance(" ".join(fa), " ".join(fb)) <= 2


_SHORT = [
    ("trach nhiem huu han", "tnhh"),
    ("mot thanh vien", ""),
    ("mtv", ""),
    ("cong ty", "cty"),
    ("co phan", "cp"),
    ("doanh nghiep tu nhan", "dntn"),
    ("thuong mai", "tm"),
    ("dich vu", "dv"),
    ("xay dung", "xd"),
    ("san xuat", "sx"),
    ("dau tu", "dt"),
    ("van tai", "vt"),
    ("hop danh", "hd"),
    ("cong nghe thong tin", "cntt"),
    ("cong nghe", "cn"),
    ("xuat nhap khau", "xnk"),
    ("bat dong san", "bds"),
]


def business_key(name: str) -> str:
    """A business name with legal form and trade words abbreviated, folded: equal for one business's spellings."""
    key = f" {fold(name.replace('-', ' '))} "
    for long, short in _SHORT:
        key = key.replace(f" {long} ", f" {short} ")
    return " ".join(key.split())


def citizen_key(c: Row) -> tuple[str, str, str]:
    """Folded name, birth year, and birth day and month in either order."""
    dob = c["date_of_birth"]
    return fold(unicodedata.normalize("NFC", c["full_name"])), dob[:4], "".join(sorted((dob[5:7], dob[8:10])))


def duplicate_pairs(findings: list[dict[str, Any]], check: str) -> set[frozenset[str]]:
    pairs: set[frozenset[str]] = set()
    for f in findings:
        if f["check"] == check:
            keys = [r["key"] for r in f["records"]]
            pairs.update(frozenset(p) for p in combinations(keys, 2))
    return pairs


def groups_by(rows: dict[str, Row], key: Any) -> list[list[str]]:
    found: dict[Any, list[str]] = defaultdict(list)
    for k, row in rows.items():
        found[key(row)].append(k)
    return [members for members in found.values() if len(members) > 1]

"""Every check over small hand-made sources with one known defect of each kind, on SQLite and PostgreSQL."""

from __future__ import annotations

from quality.findings import Finding
from tests.quality import handmade as hm

CIT = "population.citizen"
INS = "insurance.insured_person"
CON = "insurance.contribution"
ENT = "enterprise.enterprise"
LR = "land.land_right"
PAR = "land.parcel"

EXPECTED = {
    ("duplicate_citizen", ((CIT, hm.HUNG), (CIT, hm.HUNG_DUP)), None),
    ("duplicate_insured", ((INS, hm.INS_HUNG), (INS, hm.INS_HUNG_2)), None),
    ("duplicate_enterprise", ((ENT, hm.E1), (ENT, hm.E1_DUP)), None),
    ("identity_mismatch", ((INS, hm.INS_LAN), (CIT, hm.LAN)), "date_of_birth"),
    ("identity_mismatch", ((LR, "2"), (CIT, hm.LAN)), "holder_name"),
    ("unknown_reference", ((INS, hm.INS_GHOST),), "citizen_id"),
    ("unknown_reference", ((ENT, hm.E_UNKNOWN_REP),), "legal_rep_id"),
    ("unknown_reference", ((LR, "5"),), "holder_id"),
    ("unknown_reference", ((CON, "10"),), "employer_code"),
    ("activity_after_death", ((CON, "3"), (CIT, hm.DEAD)), None),
    ("activity_after_death", ((ENT, hm.E_DEAD_REP), (CIT, hm.DEAD)), None),
    ("invalid_value", ((ENT, hm.E_BAD),), "enterprise_code"),
    ("invalid_value", ((PAR, hm.P_NEG),), "area_m2"),
    ("invalid_value", ((CIT, hm.BAD_DIGITS),), "citizen_id"),
    ("invalid_value", ((CIT, hm.FUTURE),), "citizen_id"),
    ("invalid_value", ((CIT, hm.FUTURE),), "date_of_birth"),
    ("invalid_value", ((LR, "3"),), "share"),
    ("invalid_value", ((LR, "4"),), "share"),
}


def as_tuples(findings: list[Finding]) -> set[tuple[str, tuple[tuple[str, str], ...], str | None]]:
    return {(f.check, tuple((r.table, r.key) for r in f.records), f.field) for f in findings}


def test_every_check_finds_its_defect_and_nothing_else(handmade_findings: list[Finding]) -> None:
    """Twins, namesakes, an upper-case name, the other tone placement ('Thủy'/'Thuỷ'), a contribution in
    the month of death and a similar business name with another owner are all left alone."""
    assert as_tuples(handmade_findings) == EXPECTED


def test_findings_carry_confidence_and_message(handmade_findings: list[Finding]) -> None:
    for f in handmade_findings:
        assert 0 < f.confidence <= 1
        assert f.message
    mismatch = next(f for f in handmade_findings if f.field == "date_of_birth" and f.check == "identity_mismatch")
    assert mismatch.message == "1990-05-02 here, 1990-05-20 in population"

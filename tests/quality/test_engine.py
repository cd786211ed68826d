"""Every check over small hand-made sources with one known defect of each kind, on SQLite and PostgreSQL."""

from __future__ import annotations

from quality.findings import Finding
from quality.runner import NOTES_VI
from tests.quality import handmade as hm

CIT = "population.citizen"
INS = "insurance.insured_person"
CON = "insurance.contribution"
ENT = "enterprise.enterprise"
LR = "land.land_right"
PAR = "land.parcel"

EXPECTED = {
    ("duplicate_citizen", ((CIT, hm.HUNG), (CIT, hm.HUNG_DUP)), None),
    ("duplicate_citizen", ((CIT, hm.HA), (CIT, hm.HA_DUP)), None),
    ("duplicate_citizen", ((CIT, hm.TWIN_HUNG), (CIT, hm.TWIN_HUNG_2)), None),
    ("duplicate_insured", ((INS, hm.INS_HUNG), (INS, hm.INS_HUNG_2)), None),
    ("duplicate_insured", ((INS, hm.INS_LAN), (INS, hm.INS_LAN_LEGACY)), None),
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
    ("invalid_value", ((CIT, hm.NEXT_MONTH),), "date_of_birth"),
    ("invalid_value", ((LR, "3"),), "share"),
    ("invalid_value", ((LR, "4"),), "share"),
}


def as_tuples(findings: list[Finding]) -> set[tuple[str, tuple[tuple[str, str], ...], str | None]]:
    return {(f.check, tuple((r.table, r.key) for r in f.records), f.field) for f in findings}


def test_every_check_finds_its_defect_and_nothing_else(handmade_findings: list[Finding]) -> None:
    """Twins, namesakes, strangers one letter apart ('Tâm'/'Lâm') born the same day, an upper-case name, the
    other tone placement ('Thủy'/'Thuỷ', with a doubled space too), a contribution in the month of death and
    a similar business name with another owner are all left alone; a name missing one diacritic at another
    address, and a legacy insurance record in capitals without diacritics, are the same person."""
    assert as_tuples(handmade_findings) == EXPECTED


def test_findings_carry_confidence_and_message(handmade_findings: list[Finding]) -> None:
    for f in handmade_findings:
        assert 0 < f.confidence <= 1
        assert f.message
    mismatch = next(f for f in handmade_findings if f.field == "date_of_birth" and f.check == "identity_mismatch")
    assert mismatch.message == "1990-05-02 here, 1990-05-20 in population"
    assert mismatch.message_vi == "1990-05-02 ở đây, 1990-05-20 trong CSDL dân cư"
    untranslated = [(f.check, f.message) for f in handmade_findings if not f.message_vi]
    assert untranslated == []  # every check, suite and note says it in Vietnamese too


def test_duplicate_findings_say_how_the_records_differ(handmade_findings: list[Finding]) -> None:
    by_first = {f.records[0].key: f.message for f in handmade_findings if f.check.startswith("duplicate_")}
    assert by_first[hm.HA] == "same person recorded 2 times: name with other or missing diacritics; other address"
    assert by_first[hm.HUNG] == (
        "same person recorded 2 times: day and month of birth swapped; name with other or missing diacritics; "
        "other address"
    )
    assert "possibly twins" in by_first[hm.TWIN_HUNG]
    in_vietnamese = {f.records[0].key: f.message_vi for f in handmade_findings if f.check.startswith("duplicate_")}
    assert in_vietnamese[hm.HA] == "cùng một người được ghi 2 lần: tên khác dấu hoặc thiếu dấu; địa chỉ khác"
    assert "có thể là sinh đôi" in in_vietnamese[hm.TWIN_HUNG]
    duplicates = [f.message for f in handmade_findings if f.check.startswith("duplicate_") and ": " in f.message]
    said = {note for m in duplicates for note in m.split(": ", 1)[1].split("; ")}
    assert said and said <= set(NOTES_VI)  # every note the guards wrote has its Vietnamese
    assert by_first[hm.INS_LAN] == "same person recorded 2 times: linked to one citizen"

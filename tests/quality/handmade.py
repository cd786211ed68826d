"""Small hand-made sources with one known defect of each kind (and hard negatives), for fast tests.

Some cases are written the way real registers differ and the generator does not: a name missing one
diacritic on one syllable of a record at another address, a doubled space together with the other
tone placement, a legacy insurance record in capitals without diacritics, strangers whose names are one
letter apart, a birth date a few weeks after today."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from connectors.engines import source_engine
from connectors.identifiers import enterprise_check_digit, make_citizen_id
from connectors.schema import SOURCES, citizen, contribution, enterprise_table, insured_person, land_right, parcel


def ent_code(province: str, seq: int) -> str:
    while True:
        first = f"{province}{seq:07d}"
        check = enterprise_check_digit(first)
        if check is not None:
            return f"{first}{check}"
        seq += 1


def cid(province: str, born: date, sex: str, serial: int) -> str:
    return make_citizen_id(province, born, sex, serial)


def person(citizen_id: str, name: str, born: date, sex: str, **kw: Any) -> dict[str, Any]:
    row = {
        "citizen_id": citizen_id,
        "full_name": name,
        "date_of_birth": born,
        "sex": sex,
        "ethnicity": "Kinh",
        "birth_province": citizen_id[1:3],
        "province_code": citizen_id[1:3],
        "address": "Số 12 ngõ 4, Phường Láng Hạ, Quận Đống Đa",
        "household_id": f"HH{citizen_id[-10:]}",
        "status": "alive",
        "date_of_death": None,
        "updated_at": datetime(2025, 1, 1),
    }
    row.update(kw)
    return row


# Keys of the defects these sources hold.
HUNG = cid("01", date(1985, 3, 7), "M", 1)
HUNG_DUP = cid("01", date(1985, 3, 7), "M", 901)
LAN = cid("79", date(1990, 5, 20), "F", 2)
DEAD = cid("48", date(1950, 1, 1), "M", 3)
TWIN_A = cid("01", date(2001, 9, 9), "M", 4)
TWIN_B = cid("01", date(2001, 9, 9), "M", 5)
NAMESAKE_A = cid("31", date(1978, 2, 1), "F", 6)
NAMESAKE_B = cid("31", date(1978, 11, 23), "F", 7)
BAD_DIGITS = "001185000008"  # says female, person is male
FUTURE = cid("01", date(1999, 4, 4), "F", 9)
THUY = cid("01", date(1992, 8, 8), "F", 10)
HA = cid("01", date(1988, 12, 1), "F", 11)
HA_DUP = cid("01", date(1988, 12, 1), "F", 911)  # one diacritic missing, another address, no household
TAM = cid("01", date(1971, 2, 16), "M", 12)
LAM = cid("01", date(1971, 2, 16), "M", 13)  # 'Lâm', one letter from 'Tâm', same day: a stranger elsewhere
SOON = date.today() + timedelta(days=40)
NEXT_MONTH = cid("01", SOON, "M", 14)
# Twins given names that differ only in their marks: the data cannot tell them from one person re-keyed, so
# they are reported, with a note that says it may be twins (a steward dismisses it once; re-runs keep that).
TWIN_HUNG = cid("01", date(2005, 6, 1), "M", 15)
TWIN_HUNG_2 = cid("01", date(2005, 6, 1), "M", 16)  # born after today: a future date, whatever year the test runs


def people() -> list[dict[str, Any]]:
    rows = [
        person(HUNG, "Nguyễn Văn Hùng", date(1985, 3, 7), "M"),
        person(HUNG_DUP, "Nguyen Van Hung", date(1985, 7, 3), "M", address="Thôn 3, Xã Tân Lập"),
        person(LAN, "Trần Thị Lan", date(1990, 5, 20), "F"),
        person(DEAD, "Lê Văn Tám", date(1950, 1, 1), "M", status="deceased", date_of_death=date(2020, 6, 15)),
        person(TWIN_A, "Phạm Minh Khoa", date(2001, 9, 9), "M", household_id="HH0000000001"),
        person(TWIN_B, "Phạm Minh Khang", date(2001, 9, 9), "M", household_id="HH0000000001"),
        person(NAMESAKE_A, "Nguyễn Thị Mai", date(1978, 2, 1), "F"),
        person(NAMESAKE_B, "Nguyễn Thị Mai", date(1978, 11, 23), "F", address="Thôn 1, Xã An Bình"),
        person(BAD_DIGITS, "Đỗ Văn Bình", date(1985, 1, 1), "M"),
        person(FUTURE, "Vũ Thị Hoa", date(2099, 4, 4), "F"),
        person(THUY, "Hoàng Thị Thủy", date(1992, 8, 8), "F"),
        person(HA, "Lý Thị Thu Hà", date(1988, 12, 1), "F"),
        person(
            HA_DUP,
            "Lý Thị Thu Ha",
            date(1988, 12, 1),
            "F",
            address="Tổ 5, Phường Quang Trung, Quận Hà Đông",
            household_id=None,
        ),
        person(TAM, "Nguyễn Văn Tâm", date(1971, 2, 16), "M", address="Xóm 1, Xã Vạn Phúc, Huyện Thanh Trì"),
        person(LAM, "Nguyễn Văn Lâm", date(1971, 2, 16), "M", address="Thôn Đình, Xã Tân Lập, Huyện Đan Phượng"),
        person(NEXT_MONTH, "Đặng Văn Sớm", SOON, "M"),
        person(TWIN_HUNG, "Lê Văn Hùng", date(2005, 6, 1), "M", household_id="HH0000000002"),
        person(TWIN_HUNG_2, "Lê Văn Hưng", date(2005, 6, 1), "M", household_id="HH0000000002"),
    ]
    for i in range(40):  # background people, all different
        born = date(1960 + i, 1 + i % 12, 1 + i % 27)
        rows.append(person(cid("01", born, "M", 100 + i), f"Bùi Văn Người{i}", born, "M"))
    return rows


E1 = ent_code("01", 1)
E1_DUP = ent_code("01", 2)
E_OTHER = ent_code("01", 3)
E_DEAD_REP = ent_code("48", 4)
E_BAD = "0100000001"  # wrong check digit
E_UNKNOWN_REP = ent_code("79", 5)


def enterprises() -> list[dict[str, Any]]:
    base = {
        "legal_form": "TNHH2TV",
        "province_code": "01",
        "address": "Số 5 phố Huế, Phường Phạm Đình Hổ, Quận Hai Bà Trưng",
        "industry_code": "4690",
        "charter_capital": 1_000_000_000,
        "legal_rep_id": LAN,
        "legal_rep_name": "Trần Thị Lan",
        "registered_on": date(2015, 1, 1),
        "status": "active",
    }
    return [
        {**base, "enterprise_code": E1, "name": "CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ AN PHÁT"},
        {**base, "enterprise_code": E1_DUP, "name": "CTY TNHH TM DV AN PHAT"},
        {
            **base,
            "enterprise_code": E_OTHER,
            "name": "CÔNG TY CỔ PHẦN AN PHÁT",
            "legal_form": "CP",
            "legal_rep_id": HUNG,
            "legal_rep_name": "Nguyễn Văn Hùng",
            "address": "Thôn 9, Xã Yên Thường, Huyện Gia Lâm",
        },
        {
            **base,
            "enterprise_code": E_DEAD_REP,
            "name": "DOANH NGHIỆP TƯ NHÂN TÁM",
            "legal_rep_id": DEAD,
            "legal_rep_name": "Lê Văn Tám",
            "address": "Tổ 2, Phường Hòa Khánh",
        },
        {
            **base,
            "enterprise_code": E_BAD,
            "name": "CÔNG TY TNHH XÂY DỰNG MINH ĐỨC",
            "legal_rep_id": THUY,
            "legal_rep_name": "Hoàng Thị Thuỷ",  # other tone placement: the same name
            "address": "Số 1 Tràng Tiền",
        },
        {
            **base,
            "enterprise_code": E_UNKNOWN_REP,
            "name": "CÔNG TY TNHH SẢN XUẤT BÌNH MINH",
            "legal_rep_id": "079088999999",
            "legal_rep_name": "Ngô Văn Sáu",
            "address": "Số 99 Lê Lợi",
        },
    ]


INS_HUNG = "0100000001"
INS_HUNG_2 = "0100000002"
INS_LAN = "7900000003"
INS_DEAD = "4800000004"
INS_GHOST = "0100000005"
INS_THUY = "0100000006"
INS_LAN_LEGACY = "7900000007"


def insured() -> list[dict[str, Any]]:
    def row(iid: str, citizen_id: str | None, name: str, born: date, sex: str) -> dict[str, Any]:
        return {
            "insurance_id": iid,
            "citizen_id": citizen_id,
            "full_name": name,
            "date_of_birth": born,
            "sex": sex,
            "province_code": iid[:2],
            "registered_on": date(2010, 1, 1),
        }

    return [
        row(INS_HUNG, HUNG, "NGUYỄN VĂN HÙNG", date(1985, 3, 7), "M"),  # upper case: same name
        row(INS_HUNG_2, HUNG_DUP, "Nguyen Van Hung", date(1985, 7, 3), "M"),
        row(INS_LAN, LAN, "Trần Thị Lan", date(1990, 5, 2), "F"),  # date_of_birth mismatch
        row(INS_DEAD, DEAD, "Lê Văn Tám", date(1950, 1, 1), "M"),
        row(INS_GHOST, "001099123456", "Đinh Văn Ma", date(1999, 1, 1), "M"),  # unknown citizen
        row(INS_THUY, THUY, "Hoàng  Thị Thuỷ", date(1992, 8, 8), "F"),  # doubled space, other tone placement
        row(INS_LAN_LEGACY, None, "TRAN THI LAN", date(1990, 5, 20), "F"),  # legacy: Lan's second number
    ]


def contributions() -> list[dict[str, Any]]:
    rows = []
    for i, period in enumerate(["2020-05", "2020-06", "2020-07"]):
        rows.append(
            {
                "contribution_id": i + 1,
                "insurance_id": INS_DEAD,
                "employer_code": E1,
                "period": period,
                "salary_base": 5_000_000,
                "amount": 1_000_000,
            }
        )
    rows.append(
        {
            "contribution_id": 10,
            "insurance_id": INS_LAN,
            "employer_code": ent_code("01", 777),
            "period": "2021-01",
            "salary_base": 5_000_000,
            "amount": 1_000_000,
        }
    )
    return rows


P1 = "01-00001-1-1"
P2 = "01-00001-1-2"
P_NEG = "01-00001-1-3"


def parcels() -> list[dict[str, Any]]:
    base = {"province_code": "01", "ward_code": "00001", "map_sheet": 1, "land_use": "ODT", "address": "Hà Nội"}
    return [
        {**base, "parcel_id": P1, "parcel_no": 1, "area_m2": 100.0},
        {**base, "parcel_id": P2, "parcel_no": 2, "area_m2": 80.0},
        {**base, "parcel_id": P_NEG, "parcel_no": 3, "area_m2": -5.0},
    ]


def land_rights() -> list[dict[str, Any]]:
    def row(rid: int, pid: str, kind: str, holder: str, name: str, share: float) -> dict[str, Any]:
        return {
            "right_id": rid,
            "parcel_id": pid,
            "certificate_no": f"CS {rid:05d}",
            "holder_kind": kind,
            "holder_id": holder,
            "holder_name": name,
            "share": share,
            "issued_on": date(2012, 1, 1),
        }

    return [
        row(1, P1, "citizen", HUNG, "Nguyễn Văn Hùng", 0.5),
        row(2, P1, "citizen", LAN, "Tran Thi Lan", 0.5),  # no diacritics: identity_mismatch holder_name
        row(3, P2, "enterprise", E1, "CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ AN PHÁT", 0.6),
        row(4, P2, "citizen", THUY, "Hoàng Thị Thủy", 0.3),  # shares sum to 0.9
        row(5, P_NEG, "enterprise", ent_code("01", 555), "CÔNG TY MA", 1.0),  # unknown enterprise
    ]


def write_sources(urls: dict[str, str]) -> None:
    """Create the four sources at these URLs (empty databases) and fill them."""
    data = {
        "population": [(citizen, people())],
        "insurance": [(insured_person, insured()), (contribution, contributions())],
        "land": [(parcel, parcels()), (land_right, land_rights())],
        "enterprise": [(enterprise_table, enterprises())],
    }
    for source, tables in data.items():
        engine = source_engine(urls[source], writable=True)
        SOURCES[source].create_all(engine)
        with engine.begin() as conn:
            for table, rows in tables:
                conn.execute(insert(table), rows)
        engine.dispose()

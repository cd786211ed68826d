"""The generator's pure parts, without any database: names, spellings, identifiers, dates, the map."""

from __future__ import annotations

import json
import unicodedata

import numpy as np
import pytest

from connectors.generator import dates, firm_names, ids, names, places, variants
from connectors.generator.truth import CITIZEN, GroundTruth
from connectors.identifiers import (
    citizen_id_problems,
    enterprise_check_digit,
    enterprise_code_problems,
    make_citizen_id,
    provinces,
)
from ndx.textnorm import same_name
from tests.connectors import sqlcheck

SAMPLE_NAMES = ["Nguyễn Thị Thu Hòa", "Trần Văn Quý", "Lê Thị Thủy", "Phạm Minh Hoàng", "Kim Minh Nam", "Đỗ Đức Đạt"]


def test_name_lists_are_nfc_and_sex_appropriate() -> None:
    for word in names.SURNAMES + names.MIDDLES + names.GIVENS:
        assert unicodedata.is_normalized("NFC", word), word
    rng = np.random.default_rng(0)
    kinh = np.zeros(2000, dtype=np.int64)
    for sex, forbidden in ((0, "Thị"), (1, "Văn")):
        for young in (False, True):
            drawn = names.draw_middles(rng, np.full(2000, sex), np.full(2000, young), kinh)
            assert not any(forbidden in names.MIDDLES[m].split() for m in drawn.tolist())


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_harmless_spellings_are_the_same_name_and_real_ones_are_not(name: str) -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        variant = variants.harmless(name, rng)
        assert variant != name and same_name(variant, name)
        assert not same_name(variants.change_tone(name, rng), name)
        assert not same_name(variants.typo(name, rng), name)
    dropped = variants.drop_middle(name, rng)
    assert dropped is not None and len(dropped.split()) == len(name.split()) - 1


def test_tone_placement_moves_both_ways() -> None:
    assert variants.move_tone("Lê Thị Hòa") == "Lê Thị Hoà"
    assert variants.move_tone("Lê Thị Hoà") == "Lê Thị Hòa"
    assert variants.move_tone("Phan Thị Thủy") == "Phan Thị Thuỷ"
    assert variants.move_tone("Trần Văn Quý") is None  # 'qu' + 'y': the mark never moves
    assert variants.move_tone("Phạm Minh Hoàng") is None  # closed syllable
    assert variants.strip_marks("Đỗ Đức Đạt") == "Do Duc Dat"


def test_check_digits_follow_the_rule_and_skip_remainder_zero() -> None:
    first_nine = np.arange(10_000_000, 10_200_000, 13, dtype=np.int64)
    for value, digit in zip(first_nine.tolist(), ids.check_digits(first_nine).tolist(), strict=True):
        expected = enterprise_check_digit(f"{value:09d}")
        assert digit == (-1 if expected is None else expected)
    codes = ids.enterprise_codes(np.random.default_rng(2), ids.IdPool(), np.full(500, 79, dtype=np.int64))
    assert len(set(codes.tolist())) == 500
    assert all(enterprise_code_problems(f"{c:010d}") == [] for c in codes.tolist())


def test_citizen_ids_encode_province_sex_and_year() -> None:
    born = np.array(["1995-03-07", "2004-12-31", "1930-01-01"], dtype="datetime64[D]")
    female = np.array([0, 1, 1])
    year = dates.ymd(born)[0]
    prefix = ids.citizen_prefix(np.array([79, 1, 96]), ids.century_sex(year, female), year)
    pool = ids.IdPool()
    drawn = pool.draw(np.random.default_rng(3), prefix, 1_000_000)
    for cid, day, sex, prov in zip(drawn.tolist(), born.tolist(), "MFF", ("79", "01", "96"), strict=True):
        text = f"{cid:012d}"
        assert citizen_id_problems(text, birth_province=prov, born=day, sex=sex) == []
        assert text[:6] == make_citizen_id(prov, day, sex, 0)[:6]
        assert cid in pool


def test_id_pool_never_hands_out_an_id_twice() -> None:
    pool, rng = ids.IdPool(), np.random.default_rng(4)
    base = np.zeros(5000, dtype=np.int64)
    batch = pool.draw(rng, base, 20_000)
    singles = [int(pool.draw(rng, base[:1], 20_000)[0]) for _ in range(5000)]
    everything = batch.tolist() + singles
    assert len(set(everything)) == len(everything) == 10_000


def test_dates_clamp_and_future_typos_stay_far_ahead() -> None:
    feb = dates.from_ymd(np.array([2023]), np.array([2]), np.array([29]))
    assert str(feb[0]) == "2023-02-28"
    days = np.array(["1985-03-07", "2019-06-30", "2012-02-29", "1999-12-31"], dtype="datetime64[D]")
    future = dates.future_of(days)
    assert [str(d) for d in future] == ["2085-03-07", "2091-06-30", "2112-02-29", "2099-12-31"]
    assert dates.age_years(np.array(["2000-12-31"], dtype="datetime64[D]"))[0] == 25


def test_the_map_covers_the_contract_provinces() -> None:
    geo = places.geography()
    assert set(geo.codes) == set(provinces()) == set(places.POPULATION_M)
    assert not set(places.UNKNOWN_PROVINCES) & set(provinces())
    assert len(set(geo.ward_code.tolist())) == len(geo.ward_code) and geo.ward_code.max() < 100_000
    assert geo.weights[geo.index("79")] > 10 * geo.weights[geo.index("06")]


def test_business_name_rewrites_stay_one_business() -> None:
    rng = np.random.default_rng(5)
    name = "CÔNG TY TNHH MỘT THÀNH VIÊN THƯƠNG MẠI DỊCH VỤ AN PHÁT"
    seen = set()
    for _ in range(60):
        rewritten, how = firm_names.rewrite(name, "AN PHÁT", rng)
        assert rewritten != name and sqlcheck.business_key(rewritten) == sqlcheck.business_key(name), how
        seen.add(rewritten)
    assert "CTY TNHH MTV TM DV AN PHÁT" in seen and "CÔNG TY TNHH MỘT THÀNH VIÊN TM-DV AN PHAT" in seen


def test_ground_truth_document_is_sorted_json() -> None:
    truth = GroundTruth()
    assert json.loads(truth.to_json({})) == {"findings": []}
    truth.add("invalid_value", [(CITIZEN, 2)], "citizen_id", "b")
    truth.add("duplicate_citizen", [(CITIZEN, 1), (CITIZEN, 0)], None, "a")
    doc = json.loads(truth.to_json({CITIZEN: lambda i: f"{i:012d}"}))
    assert [f["check"] for f in doc["findings"]] == ["duplicate_citizen", "invalid_value"]
    assert doc["findings"][0]["records"][1] == {"table": CITIZEN, "key": "000000000000"}
    assert truth.counts()["invalid_value"] == 1

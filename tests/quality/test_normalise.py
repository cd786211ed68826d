from __future__ import annotations

from quality.duplicates.normalise import enterprise_name, person_name


def test_person_name_parts_fold_diacritics_and_d_bar() -> None:
    name = person_name("Đặng  Thị Thu Hà")
    assert (name.family, name.middle, name.given) == ("dang", "thi thu", "ha")
    assert person_name("NGUYỄN VĂN HÙNG").key == person_name("Nguyễn Văn Hùng").key
    assert person_name("Nguyễn Văn Hưng").key != person_name("Nguyễn Văn Hùng").key
    assert person_name("Hoàng Thị Thuỷ").given_key == person_name("Hoàng Thị Thủy").given_key


def test_enterprise_abbreviations_expand_to_the_same_name() -> None:
    full = enterprise_name("CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ AN PHÁT")
    short = enterprise_name("Cty TNHH TM-DV An Phat")
    assert full.full == short.full
    assert full.core == short.core == "an phat"
    assert enterprise_name("CÔNG TY CỔ PHẦN XÂY DỰNG AN PHÁT").core == "an phat"
    assert enterprise_name("DNTN SX Bình Minh").trade == "san xuat"

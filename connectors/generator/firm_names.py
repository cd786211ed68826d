"""Business names as Vietnamese registers write them, and the ways one business's name gets rewritten.

A name is a legal-form prefix, an industry phrase and a two-syllable trade name, sometimes with a place
('CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ AN PHÁT', 'CÔNG TY CỔ PHẦN XÂY DỰNG HƯNG THỊNH SÀI GÒN'). The law
forbids two businesses the same name, so base names are unique even without diacritics; a business
registered twice shows up as 'CTY TNHH TM DV AN PHÁT' or 'CÔNG TY TNHH TM-DV AN PHAT'.
"""

from __future__ import annotations

import numpy as np

from connectors.generator.listing import items, weighted
from connectors.generator.variants import strip_marks
from ndx.textnorm import fold

LEGAL_FORMS = ("TNHH1TV", "TNHH2TV", "CP", "DNTN", "HD")
LEGAL_FORM_P = (0.45, 0.20, 0.25, 0.09, 0.01)
PREFIXES = items("CÔNG TY TNHH MỘT THÀNH VIÊN, CÔNG TY TNHH, CÔNG TY CỔ PHẦN, DOANH NGHIỆP TƯ NHÂN, CÔNG TY HỢP DANH")
# Industry phrase, its VSIC 2018 class, its weight.
INDUSTRIES = tuple(
    (" ".join(words[:-1]), words[-1], weight)
    for phrase, weight in weighted(
        "THƯƠNG MẠI DỊCH VỤ 4690 14, THƯƠNG MẠI 4669 8, DỊCH VỤ 8299 5, XÂY DỰNG 4100 9, ĐẦU TƯ XÂY DỰNG 4100 5,"
        "XÂY DỰNG THƯƠNG MẠI 4299 3, SẢN XUẤT THƯƠNG MẠI 2599 4, VẬN TẢI 4933 4, LOGISTICS 5229 2, CÔNG NGHỆ 6201 3,"
        "CÔNG NGHỆ THÔNG TIN 6201 2, THỰC PHẨM 1079 3, NÔNG SẢN 4620 2, THỦY SẢN 1020 2, MAY MẶC 1410 2,"
        "BẤT ĐỘNG SẢN 6810 3, DU LỊCH 7912 2, NỘI THẤT 3100 2, CƠ KHÍ 2592 2, ĐIỆN 4321 2, DƯỢC PHẨM 4649 1,"
        "GIÁO DỤC 8559 1, TƯ VẤN 7020 2, KẾ TOÁN 6920 1, IN ẤN 1811 1, VẬT LIỆU XÂY DỰNG 4663 2, XUẤT NHẬP KHẨU 4690 3"
    ).items()
    for words in [phrase.split()]
)
_TRADE = items(
    "AN, PHÁT, THỊNH, HƯNG, MINH, LONG, PHÚ, QUÝ, TÀI, LỘC, VIỆT, HOÀNG, GIA, BẢO, ĐẠI, TÂN, THÀNH, TRƯỜNG, HẢI, NAM,"
    "BẮC, ĐÔNG, SAO, MAI, KIM, NGỌC, THIÊN, PHƯỚC, HÒA, BÌNH, KHANG, THUẬN, ĐỨC, TIẾN, ÁNH, DƯƠNG, HỒNG, QUANG,"
    "TRUNG, NHẬT, SEN, SƠN, LÂM, PHONG, VĨNH, THÁI, CƯỜNG, KHẢI, NGUYÊN, TÍN, NGHĨA, ĐẠT, VINH, ÂU, LẠC, TRÍ, UY,"
    "HUY, HẠNH, PHÚC, THỌ, VƯỢNG, MỸ, CÁT, TƯỜNG, HIỆP, LỢI, TOÀN, THẮNG, ĐỊNH, HOÀN, CẦU, KHÁNH, LINH, NHÂN,"
    "PHƯƠNG, QUỐC, SÁNG, TÚ, VẠN, XUÂN, YÊN, ĐĂNG, HÀO, KIỆT, LAM, MẠNH, NGÂN, QUÂN, TRÂN, TUẤN, VIÊN, BÁCH, CHÂU,"
    "DUY, HOA, THANH"
)
TRADE_WORDS = tuple({fold(w): w for w in _TRADE}.values())  # one spelling per folded syllable
SUFFIXES = items("SÀI GÒN, HÀ NỘI, VIỆT NAM, MIỀN TRUNG, MIỀN NAM, QUỐC TẾ, GROUP, TÂY NGUYÊN")
ABBREVIATIONS = tuple(
    (long, short)
    for long, short in (
        pair.split(" = ")
        for pair in items(
            "CÔNG TY = CTY, MỘT THÀNH VIÊN = MTV, CỔ PHẦN = CP, DOANH NGHIỆP TƯ NHÂN = DNTN, THƯƠNG MẠI = TM,"
            "DỊCH VỤ = DV, XÂY DỰNG = XD, SẢN XUẤT = SX, ĐẦU TƯ = ĐT, VẬN TẢI = VT, CÔNG NGHỆ THÔNG TIN = CNTT,"
            "CÔNG NGHỆ = CN, XUẤT NHẬP KHẨU = XNK, BẤT ĐỘNG SẢN = BĐS, HỢP DANH = HD"
        )
    )
)
_INDUSTRY_ABBREVIATIONS = ABBREVIATIONS[4:]


def compose(prefix: int, industry: int, trade1: int, trade2: int, suffix: int) -> str:
    """The registered name; ``suffix`` -1 for none, past the SUFFIXES a number ('AN PHÁT 68')."""
    parts = [PREFIXES[prefix], INDUSTRIES[industry][0], TRADE_WORDS[trade1], TRADE_WORDS[trade2]]
    if suffix >= len(SUFFIXES):
        parts.append(str(suffix - len(SUFFIXES) + 2))
    elif suffix >= 0:
        parts.append(SUFFIXES[suffix])
    return " ".join(parts)


def _abbreviate(text: str, table: tuple[tuple[str, str], ...]) -> str:
    for long, short in table:
        text = text.replace(long, short)
    return text


def rewrite(name: str, trade: str, rng: np.random.Generator) -> tuple[str, str]:
    """Another registration's spelling of the same business name, and how it was rewritten."""
    industry_part = name.removesuffix(trade).strip()
    options = [
        (_abbreviate(name, ABBREVIATIONS), "abbreviated"),
        (f"{_abbreviate(industry_part, _INDUSTRY_ABBREVIATIONS)} {strip_marks(trade)}", "abbreviated, no diacritics"),
        (name.replace("TNHH", "TRÁCH NHIỆM HỮU HẠN", 1), "legal form spelled out"),
        (strip_marks(name), "no diacritics"),
        (name.replace(" MỘT THÀNH VIÊN", "", 1), "legal form shortened"),
    ]
    hyphened = _abbreviate(industry_part, _INDUSTRY_ABBREVIATIONS)
    for short in ("TM DV", "XD TM", "SX TM"):
        hyphened = hyphened.replace(short, short.replace(" ", "-"))
    options.append((f"{hyphened} {strip_marks(trade)}", "abbreviated with hyphen, no diacritics"))
    usable = [(text, how) for text, how in options if text != name]
    return usable[int(rng.integers(len(usable)))]

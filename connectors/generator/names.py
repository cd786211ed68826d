"""Vietnamese personal names: real surname frequencies, sex- and era-appropriate middle and given names.

A name is three indices (surname, middle, given) into the tuples below, so a million names cost a few
megabytes until a chunk is written. Surname shares follow the usual estimates for Kinh people (Nguyễn
about 38 %, Trần 11 %, Lê 9.5 %, Phạm 7 %, Hoàng/Huỳnh 5 %, ...); a few ethnic groups draw from their own
surnames (H'Mông Giàng, Vàng, Sùng; Khmer Thạch, Sơn, Danh; Hoa Lý, Trương, Lâm; ...), the rest from
the Kinh lists. Men never get 'Thị', women never get 'Văn', and people born since 1985 less often get
either: tests assert that. Base names use the traditional tone placement ('Hòa', 'Thủy') so that the
new placement can be injected as a harmless variant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from connectors.generator.listing import items, weighted
from ndx.textnorm import fold

IntArray = npt.NDArray[np.int64]

_KINH_SURNAMES = weighted(
    "Nguyễn 44, Trần 11, Lê 9.5, Phạm 7, Hoàng 3.2, Huỳnh 1.8, Phan 4, Vũ 2.4, Võ 1.6, Đặng 2, Bùi 2, Đỗ 1.4, Hồ 1.3,"
    "Ngô 1.3, Dương 1, Lý 0.5, Đinh 0.7, Trương 0.6, Đào 0.6, Đoàn 0.6, Mai 0.5, Trịnh 0.5, Lâm 0.4, Cao 0.4,"
    "Lương 0.4, Hà 0.4, Tạ 0.3, Lưu 0.3, Tô 0.2, Châu 0.2, Chu 0.2, Phùng 0.2, Vương 0.2, Triệu 0.2, Lại 0.2,"
    "Thái 0.2, Quách 0.1, Kiều 0.1, Tăng 0.1, Tống 0.1, Khúc 0.1, Mạc 0.1, Nghiêm 0.1, Âu 0.05, Ninh 0.05"
)
_MEN_MIDDLE_OLD = weighted(
    "Văn 45, Hữu 7, Đức 7, Minh 6, Quang 6, Công 5, Xuân 4, Thành 4, Đình 4, Quốc 4, Ngọc 2, Tiến 2, Thanh 2,"
    "Trọng 2, Mạnh 1, Duy 1"
)
_MEN_MIDDLE_NEW = weighted(
    "Văn 18, Minh 14, Đức 10, Quang 8, Hoàng 6, Gia 6, Quốc 6, Thành 5, Hữu 5, Bảo 5, Anh 4, Tuấn 4, Nhật 4,"
    "Trung 3, Đăng 3, Duy 3, Hải 2, Khánh 2"
)
_WOMEN_MIDDLE_OLD = weighted(
    "Thị 68, Ngọc 5, Thu 4, Thanh 4, Kim 4, Thị Thu 4, Thị Ngọc 3, Thị Thanh 3, Hồng 3, Thị Kim 2, Thị Hồng 2,"
    "Mỹ 2, Bích 1"
)
_WOMEN_MIDDLE_NEW = weighted(
    "Thị 28, Ngọc 10, Thu 6, Thanh 5, Phương 5, Bảo 5, Minh 5, Khánh 4, Thùy 3, Gia 3, Thị Thu 3, Thị Ngọc 3,"
    "Hải 3, Quỳnh 3, Mai 3, Hoài 2, Diệu 2, Tường 1"
)
_MEN_GIVEN = items(
    "Hùng, Dũng, Tuấn, Minh, Nam, Hải, Long, Huy, Phong, Quân, Thắng, Sơn, Tùng, Cường, Khánh, Hiếu, Trung, Đức,"
    "Hưng, Thành, Hoàng, Vinh, Phúc, Bình, An, Bảo, Khoa, Đạt, Duy, Tâm, Toàn, Thịnh, Lâm, Kiên, Lộc, Tài, Nghĩa,"
    "Quang, Hòa, Thuận, Tiến, Vũ, Việt, Hậu, Hiển, Nhân, Trí, Tú, Hoan, Chiến, Lực, Tân, Công, Định, Dương, Đông,"
    "Giang, Hào, Kiệt, Mạnh, Nguyên, Phát, Quý, Sang, Thái, Thông, Triết, Trọng, Trường, Tuyên, Vĩnh, Khải,"
    "Khang, Luân, Quyết, Nhật, Phú, Lợi, Thụy, Hoài, Bách"
)
_WOMEN_GIVEN = items(
    "Hà, Lan, Hương, Linh, Trang, Huyền, Thảo, Ngọc, Mai, Hằng, Nga, Thủy, Thúy, Hạnh, Hoa, Hồng, Yến, Nhung,"
    "Dung, Phương, Oanh, Loan, Vân, Anh, Chi, Trinh, Diệp, Nhi, My, Uyên, Vy, Quỳnh, Hiền, Thu, Hòa, Xuân, Liên,"
    "Tuyết, Hoài, Giang, Ngân, Thanh, Lệ, Thư, Tâm, Hạ, Khuê, Diễm, Bích, Nhàn, Sương, Thoa, Duyên, Ly, Châu,"
    "Tiên, Như, Ánh, Kiều, Nhã, Thơ, Huệ, Trâm, Hân, Vi, Ngà, Lụa, Xoan, Hậu, Hiên"
)
# Given names drawn more often than the rest, as in real registers.
_COMMON_MEN = weighted("Hùng 6, Dũng 5, Tuấn 6, Minh 6, Nam 5, Hải 4, Long 4, Huy 4")
_COMMON_WOMEN = weighted("Hà 4, Lan 5, Hương 5, Linh 6, Trang 5, Huyền 4, Thảo 4, Ngọc 4")

_GROUP_SURNAMES: dict[str, dict[str, float]] = {
    "hmong": weighted("Giàng 5, Vàng 5, Sùng 4, Thào 4, Lầu 3, Hạng 2, Mùa 2, Lý 2, Vừ 2"),
    "khmer": weighted("Thạch 6, Sơn 5, Kim 4, Danh 4, Lâm 2, Châu 2, Lý 1, Trần 1"),
    "hoa": weighted("Lý 4, Trương 4, Lâm 4, Quách 2, Mã 2, Hứa 2, Tăng 2, Huỳnh 2, Lưu 2"),
    "tay": weighted("Hoàng 5, Nông 4, Lương 3, Hà 2, Triệu 2, Vi 2, Ma 2, Đàm 1, Bế 1"),
    "thai": weighted("Lò 5, Cầm 4, Lường 3, Quàng 3, Tòng 2, Vì 2, Hà 2, Điêu 1, Lù 1"),
    "muong": weighted("Bùi 6, Đinh 4, Quách 2, Hà 2, Xa 1, Bạch 1, Cao 1"),
}
_HMONG_MEN_GIVEN = items("Páo, Sính, Chứ, Dế, Pó, Sử, Tồng, Chống, Lử, Vảng, Sình, Chư")
_HMONG_WOMEN_GIVEN = items("Mỷ, Sua, Dợ, Pà, Chở, Súa, Già, Máy, Mai, Lan, Dính, Chía")

NAME_GROUPS = ("kinh", "hmong", "khmer", "hoa", "tay", "thai", "muong")


def _unique(*lists: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for words in lists:
        for word in words:
            seen.setdefault(word, None)
    return tuple(seen)


SURNAMES = _unique(_KINH_SURNAMES, *(_GROUP_SURNAMES.values()))
MIDDLES = _unique(_MEN_MIDDLE_OLD, _MEN_MIDDLE_NEW, _WOMEN_MIDDLE_OLD, _WOMEN_MIDDLE_NEW, ["A"])
GIVENS = _unique(_MEN_GIVEN, _WOMEN_GIVEN, _HMONG_MEN_GIVEN, _HMONG_WOMEN_GIVEN)


def _fold_ids(words: tuple[str, ...]) -> IntArray:
    """Equal ids for words equal without diacritics ('Hùng', 'Hưng'): duplicate keys compare these."""
    ids: dict[str, int] = {}
    return np.array([ids.setdefault(fold(w), len(ids)) for w in words], dtype=np.int64)


SURNAME_FOLD = _fold_ids(SURNAMES)
MIDDLE_FOLD = _fold_ids(MIDDLES)
GIVEN_FOLD = _fold_ids(GIVENS)


@dataclass(frozen=True)
class Choice:
    """A weighted choice over indices of one of the tuples above."""

    index: IntArray
    p: npt.NDArray[np.float64]

    @classmethod
    def of(cls, universe: tuple[str, ...], weights: dict[str, float] | tuple[str, ...]) -> Choice:
        table = weights if isinstance(weights, dict) else dict.fromkeys(weights, 1.0)
        index = np.array([universe.index(w) for w in table], dtype=np.int64)
        p = np.array(list(table.values()), dtype=np.float64)
        return cls(index, p / p.sum())

    def draw(self, rng: np.random.Generator, size: int) -> IntArray:
        return self.index[rng.choice(len(self.index), size=size, p=self.p)]


def _given(names: tuple[str, ...], common: dict[str, float]) -> dict[str, float]:
    return {n: common.get(n, 1.5) for n in names}


_SURNAME_CHOICE = {g: Choice.of(SURNAMES, _GROUP_SURNAMES.get(g, _KINH_SURNAMES)) for g in NAME_GROUPS}
# (sex, born since 1985) -> middle names; H'Mông men take 'A', women 'Thị'.
_MIDDLE_CHOICE = {
    (0, False): Choice.of(MIDDLES, _MEN_MIDDLE_OLD),
    (0, True): Choice.of(MIDDLES, _MEN_MIDDLE_NEW),
    (1, False): Choice.of(MIDDLES, _WOMEN_MIDDLE_OLD),
    (1, True): Choice.of(MIDDLES, _WOMEN_MIDDLE_NEW),
}
_HMONG_MIDDLE = {0: Choice.of(MIDDLES, ("A",)), 1: Choice.of(MIDDLES, ("Thị",))}
_GIVEN_CHOICE = {
    0: Choice.of(GIVENS, _given(_MEN_GIVEN, _COMMON_MEN)),
    1: Choice.of(GIVENS, _given(_WOMEN_GIVEN, _COMMON_WOMEN)),
}
_HMONG_GIVEN = {0: Choice.of(GIVENS, _HMONG_MEN_GIVEN), 1: Choice.of(GIVENS, _HMONG_WOMEN_GIVEN)}
_HMONG = NAME_GROUPS.index("hmong")


def draw_surnames(rng: np.random.Generator, group: IntArray) -> IntArray:
    """One surname per entry of ``group`` (indices into NAME_GROUPS)."""
    out = np.zeros(len(group), dtype=np.int64)
    for g, name in enumerate(NAME_GROUPS):
        mask = group == g
        if mask.any():
            out[mask] = _SURNAME_CHOICE[name].draw(rng, int(mask.sum()))
    return out


def draw_middles(rng: np.random.Generator, sex: IntArray, young: npt.NDArray[np.bool_], group: IntArray) -> IntArray:
    out = np.zeros(len(sex), dtype=np.int64)
    hmong = group == _HMONG
    for (s, y), choice in _MIDDLE_CHOICE.items():
        mask = (sex == s) & (young == y) & ~hmong
        if mask.any():
            out[mask] = choice.draw(rng, int(mask.sum()))
    for s, choice in _HMONG_MIDDLE.items():
        mask = hmong & (sex == s)
        if mask.any():
            out[mask] = choice.draw(rng, int(mask.sum()))
    return out


def draw_givens(rng: np.random.Generator, sex: IntArray, group: IntArray) -> IntArray:
    out = np.zeros(len(sex), dtype=np.int64)
    hmong = group == _HMONG
    for s in (0, 1):
        for mask, choice in (((sex == s) & ~hmong), _GIVEN_CHOICE[s]), (((sex == s) & hmong), _HMONG_GIVEN[s]):
            if mask.any():
                out[mask] = choice.draw(rng, int(mask.sum()))
    return out


def other_given(rng: np.random.Generator, given: int, sex: int) -> int:
    """A given name of the same sex that differs from ``given`` even without diacritics."""
    choice = _GIVEN_CHOICE[sex]
    while True:
        candidate = int(choice.draw(rng, 1)[0])
        if GIVEN_FOLD[candidate] != GIVEN_FOLD[given]:
            return candidate


def compose(surname: IntArray, middle: IntArray, given: IntArray) -> list[str]:
    """Full names in NFC, 'Nguyễn Thị Thu Hà': surname, middle name(s), given name."""
    s, m, g = SURNAMES, MIDDLES, GIVENS
    return [f"{s[a]} {m[b]} {g[c]}" for a, b, c in zip(surname.tolist(), middle.tolist(), given.tolist(), strict=True)]

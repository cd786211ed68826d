"""The map the generator draws on: provinces weighted by population, their districts and wards, addresses.

Province weights are rounded 2023 population figures (millions), so Hà Nội (01) and Thành phố Hồ Chí
Minh (79) are drawn some fifteen times as often as Bắc Kạn. Districts and wards are invented but shaped
like the real ones (five-digit ward codes numbered through the provinces in order, 'Phường' in cities,
'Xã' and 'Thị trấn' in the countryside). The map is built from a fixed seed, so every generation seed
shares the same wards: ward codes in parcel ids and ward names in addresses agree across runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from connectors.generator.listing import items, weighted
from connectors.identifiers import provinces

IntArray = npt.NDArray[np.int64]

POPULATION_M = weighted(
    "01 8.4, 02 0.9, 04 0.54, 06 0.32, 08 0.8, 10 0.76, 11 0.63, 12 0.48, 14 1.3, 15 0.84, 17 0.87, 19 1.33, 20 0.8,"
    "22 1.35, 24 1.9, 25 1.5, 26 1.2, 27 1.5, 30 1.95, 31 2.1, 33 1.3, 34 1.9, 35 0.88, 36 1.88, 37 1.0, 38 3.7,"
    "40 3.4, 42 1.3, 44 0.9, 45 0.65, 46 1.16, 48 1.22, 49 1.52, 51 1.25, 52 1.5, 54 0.88, 56 1.25, 58 0.6, 60 1.25,"
    "62 0.58, 64 1.6, 66 1.9, 67 0.67, 68 1.33, 70 1.0, 72 1.19, 74 2.8, 75 3.3, 77 1.2, 79 9.4, 80 1.72, 82 1.8,"
    "83 1.3, 84 1.01, 86 1.03, 87 1.6, 89 1.9, 91 1.75, 92 1.25, 93 0.73, 94 1.2, 95 0.92, 96 1.2"
)
# Centrally governed cities (share of their districts that are urban 'Quận').
CITIES = {"01": 0.5, "79": 0.8, "48": 0.85, "31": 0.5, "92": 0.7}
# Two-digit codes that are no province's, for invalid_value defects.
UNKNOWN_PROVINCES = items(
    "03, 05, 07, 09, 13, 16, 18, 21, 23, 28, 29, 32, 39, 41, 43, 47, 50, 53, 55, 57, 59, 61, 63, 65, 69, 71, 73, 76,"
    "78, 81, 85, 88, 90, 97, 98, 99"
)
PLACE_NAMES = items(
    "An Phú, An Khánh, An Lạc, Bình An, Bình Thạnh, Bình Hòa, Bình Trị, Đông Hòa, Đông Hưng, Tân Phú, Tân Bình,"
    "Tân Định, Tân Lập, Tân Thành, Phú Mỹ, Phú Lợi, Phú Thọ, Phước Long, Phước Hòa, Thạnh Mỹ, Thạnh Lộc, Hòa Khánh,"
    "Hòa Bình, Hòa Hiệp, Long Biên, Long Thạnh, Minh Khai, Quang Trung, Thanh Xuân, Xuân Phương, Yên Hòa, Trung Hòa,"
    "Đại Kim, Định Công, Vĩnh Tuy, Vĩnh Phúc, Cửa Nam, Hưng Long, Hưng Lợi, Kim Long, Kim Sơn, Lạc Hồng, Mỹ Đức,"
    "Mỹ Thuận, Nam Sơn, Ninh Hòa, Phong Điền, Phú Xuân, Quảng Phú, Tam Hiệp, Tây Sơn, Thái Hòa, Thiện Tân,"
    "Thịnh Lang, Thuận An, Thủy Nguyên, Tiên Lữ, Trường Xuân, Tứ Liên, Văn Lâm, Việt Hưng, Xuân La, Yên Sở, Đồng Tâm,"
    "Hồng Hà, Hải Châu, Thanh Khê, Cẩm Lệ, Ngũ Hành Sơn, Gia Lộc, Hợp Tiến, Kiến An, Mai Động, Nghĩa Đô, Ngọc Thụy,"
    "Phúc Diễn, Quang Minh, Tân Mai, Thạch Bàn, Thượng Thanh, Trung Sơn, Vạn Phúc, Xuân Đỉnh, Yên Nghĩa, Bình Chánh,"
    "Hiệp Phước, Long Hải"
)
STREETS = items(
    "Lê Lợi, Trần Hưng Đạo, Nguyễn Trãi, Hai Bà Trưng, Lý Thường Kiệt, Quang Trung, Phan Chu Trinh, Điện Biên Phủ,"
    "Cách Mạng Tháng Tám, Nguyễn Văn Linh, Võ Văn Kiệt, Lê Duẩn, Nguyễn Huệ, Hùng Vương, Trần Phú, Phan Đình Phùng,"
    "Bà Triệu, Lê Thánh Tông, Nguyễn Du, Hoàng Văn Thụ, Lạc Long Quân, Âu Cơ, Lê Hồng Phong, Nguyễn Thị Minh Khai,"
    "Võ Thị Sáu, Trường Chinh, Phạm Văn Đồng, Tôn Đức Thắng, Ngô Quyền, Đinh Tiên Hoàng, Lý Thái Tổ,"
    "Trần Quang Khải, Nguyễn Chí Thanh, Kim Mã, Giải Phóng, Xuân Thủy, Cầu Giấy, Nguyễn Văn Cừ, Bạch Đằng,"
    "Chu Văn An, Phan Bội Châu, Nguyễn Thái Học, Lê Văn Sỹ, Nam Kỳ Khởi Nghĩa, 3 Tháng 2, 30 Tháng 4, Hoàng Diệu,"
    "Yersin, Nguyễn Tất Thành, Phạm Ngũ Lão, Bùi Thị Xuân, Mạc Đĩnh Chi, Nguyễn Đình Chiểu, Trần Nhân Tông, Lê Lai,"
    "Quốc lộ 1A, Tỉnh lộ 10, Nguyễn Văn Trỗi"
)
HAMLET_WORDS = items("Đông, Tây, Nam, Bắc, Trung, Thượng, Hạ, Đình, Chùa, Mới, Giữa, Bến")
MOUNTAIN_WORDS = items("Nà Sản, Phiêng Lanh, Co Mạ, Huổi Một, Pá Khoang, Nà Tấu, Bó Mười, Khau Vai")
NORTH, MOUNTAIN, CENTRAL, HIGHLANDS, SOUTHEAST, MEKONG = range(6)
REGIONS = (
    "Đồng bằng sông Hồng",
    "Trung du và miền núi phía Bắc",
    "Bắc Trung Bộ và duyên hải miền Trung",
    "Tây Nguyên",
    "Đông Nam Bộ",
    "Đồng bằng sông Cửu Long",
)


@dataclass(frozen=True)
class Geography:
    """Provinces (by index into ``codes``) and their wards; ward arrays are indexed by ward number."""

    codes: tuple[str, ...]
    weights: npt.NDArray[np.float64]
    region: IntArray
    ward_start: IntArray
    ward_count: IntArray
    ward_code: IntArray
    ward_urban: npt.NDArray[np.bool_]
    ward_label: tuple[str, ...]  # 'Phường Tân Định, Quận Bình Thạnh'

    def index(self, code: str) -> int:
        return self.codes.index(code)

    def draw_provinces(self, rng: np.random.Generator, size: int) -> IntArray:
        return rng.choice(len(self.codes), size=size, p=self.weights)

    def draw_wards(self, rng: np.random.Generator, province: IntArray) -> IntArray:
        offset = np.floor(rng.random(len(province)) * self.ward_count[province]).astype(np.int64)
        return self.ward_start[province] + offset


@cache
def geography() -> Geography:
    """The shared map: about 10,600 wards spread over the 63 provinces by population."""
    rng = np.random.default_rng(20_240_101)
    known = provinces()
    codes = tuple(sorted(known))
    assert set(codes) == set(POPULATION_M), "POPULATION_M must list exactly the contract's provinces"
    weights = np.array([POPULATION_M[c] for c in codes], dtype=np.float64)
    region = np.array([REGIONS.index(known[c].region) for c in codes], dtype=np.int64)
    counts = np.maximum(40, np.round(10_600 * weights / weights.sum())).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    labels: list[str] = []
    urban: list[bool] = []
    for code, count in zip(codes, counts.tolist(), strict=True):
        city_share = CITIES.get(code)
        province_name = known[code].name.removeprefix("Thành phố ")
        district_no = 0
        while count > 0:
            size = min(count, int(rng.integers(8, 18)))
            count -= size
            district_no += 1
            name = PLACE_NAMES[int(rng.integers(len(PLACE_NAMES)))]
            if city_share is not None:
                is_urban = district_no <= max(1, round(12 * city_share))
                district = (
                    (f"Quận {district_no}" if code == "79" and district_no <= 12 else f"Quận {name}")
                    if is_urban
                    else f"Huyện {name}"
                )
            else:
                is_urban = district_no == 1
                district = (
                    f"Thành phố {province_name}"
                    if is_urban
                    else (f"Thị xã {name}" if district_no % 5 == 0 else f"Huyện {name}")
                )
            for w in range(size):
                ward_name = PLACE_NAMES[int(rng.integers(len(PLACE_NAMES)))]
                if is_urban:
                    ward = f"Phường {w + 1}" if code == "79" and w % 2 == 0 else f"Phường {ward_name}"
                else:
                    ward = f"Thị trấn {ward_name}" if w == 0 else f"Xã {ward_name}"
                labels.append(f"{ward}, {district}")
                urban.append(is_urban)
    gaps = rng.integers(1, 4, size=len(labels))
    return Geography(
        codes=codes,
        weights=weights / weights.sum(),
        region=region,
        ward_start=starts,
        ward_count=counts,
        ward_code=np.cumsum(gaps).astype(np.int64),
        ward_urban=np.array(urban),
        ward_label=tuple(labels),
    )


def street_part(region: int, house: int, alley: int, street: int) -> str:
    """'Số 12 Lê Lợi', or with an alley written the way the region writes it (ngõ, kiệt, hẻm)."""
    if alley == 0:
        return f"Số {house} {STREETS[street]}"
    if region in (NORTH, MOUNTAIN):
        return f"Số {house} ngõ {alley} {STREETS[street]}"
    if region == CENTRAL:
        return f"Số {house} kiệt {alley} {STREETS[street]}"
    return f"Số {house}/{alley} {STREETS[street]}"


def hamlet_part(region: int, pick: int) -> str:
    """'Thôn Đông', 'Xóm 5', 'Bản Nà Sản', 'Ấp Bình Thạnh', 'Buôn 3' by region."""
    number = pick % 12 + 1
    if region == MOUNTAIN and pick % 3 == 0:
        return f"Bản {MOUNTAIN_WORDS[pick % len(MOUNTAIN_WORDS)]}"
    if region in (SOUTHEAST, MEKONG):
        return f"Ấp {PLACE_NAMES[pick % len(PLACE_NAMES)]}" if pick % 2 else f"Ấp {number}"
    if region == HIGHLANDS and pick % 4 == 0:
        return f"Buôn {number}"
    if pick % 3 == 0:
        return f"Xóm {number}"
    return f"Thôn {HAMLET_WORDS[pick % len(HAMLET_WORDS)]}" if pick % 2 else f"Thôn {number}"


def addresses(rng: np.random.Generator, ward: IntArray, *, business: bool = False) -> list[str]:
    """One address per ward index: street address in towns (always for businesses), hamlet elsewhere."""
    geo = geography()
    n = len(ward)
    province = np.searchsorted(geo.ward_start, ward, side="right") - 1
    region = geo.region[province].tolist()
    urban = (geo.ward_urban[ward] | business).tolist()
    house = rng.integers(1, 400, size=n).tolist()
    alley = np.where(rng.random(n) < 0.35, rng.integers(1, 200, size=n), 0).tolist()
    street = rng.integers(0, len(STREETS), size=n).tolist()
    pick = rng.integers(0, 10_000, size=n).tolist()
    labels = geo.ward_label
    return [
        f"{street_part(r, h, a, s) if u else hamlet_part(r, p)}, {labels[w]}"
        for w, r, u, h, a, s, p in zip(ward.tolist(), region, urban, house, alley, street, pick, strict=True)
    ]


def province_of_ward(ward: IntArray) -> IntArray:
    geo = geography()
    return (np.searchsorted(geo.ward_start, ward, side="right") - 1).astype(np.int64)

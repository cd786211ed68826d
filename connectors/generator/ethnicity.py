"""Ethnic groups with realistic shares per region (Kinh about 85 % nationally), and whose names they carry.

Shares are rounded from the 2019 census by region: the northern uplands are about half Kinh with Tày,
Thái, H'Mông, Mường, Nùng and Dao; the Central Highlands have Gia Rai, Ê Đê, Ba Na; the Mekong delta
has the Khmer; Hoa live mostly around Thành phố Hồ Chí Minh. A household shares one ethnicity.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connectors.generator.listing import items, weighted
from connectors.generator.names import NAME_GROUPS

IntArray = npt.NDArray[np.int64]

ETHNICITIES = items(
    "Kinh, Tày, Thái, Mường, Khmer, Hoa, Nùng, H'Mông, Dao, Gia Rai, Ê Đê, Ba Na, Chăm, Sán Dìu, Cơ Ho, Xơ Đăng, Hrê,"
    "Raglai, Mnông, Thổ, Stiêng, Khơ Mú, Cơ Tu"
)
# Region (places.REGIONS order) -> {ethnicity: percent}.
_SHARES = (
    weighted("Kinh 98.4, Mường 0.5, Tày 0.3, Hoa 0.3, Nùng 0.2, Sán Dìu 0.2, Thái 0.1"),
    weighted("Kinh 48, Tày 14, Thái 12, H'Mông 9, Mường 7, Nùng 5.5, Dao 4, Sán Dìu 0.3, Khơ Mú 0.2"),
    weighted("Kinh 93, Thái 2, Mường 1.5, Hrê 1, Chăm 0.8, Cơ Tu 0.7, Raglai 0.5, Thổ 0.4, Ba Na 0.1"),
    weighted(
        "Kinh 65, Gia Rai 10, Ê Đê 8, Ba Na 5, Cơ Ho 4, Tày 2.5, Nùng 2.5, Xơ Đăng 1, Thái 1, H'Mông 0.5, Mnông 0.5"
    ),
    weighted("Kinh 93.5, Hoa 4, Khmer 1, Nùng 0.5, Tày 0.4, Chăm 0.3, Stiêng 0.3"),
    weighted("Kinh 91.5, Khmer 7, Hoa 1.2, Chăm 0.3"),
)
_NAME_GROUP = {
    "H'Mông": "hmong",
    "Khmer": "khmer",
    "Hoa": "hoa",
    "Tày": "tay",
    "Nùng": "tay",
    "Thái": "thai",
    "Mường": "muong",
}
NAME_GROUP_OF = np.array([NAME_GROUPS.index(_NAME_GROUP.get(e, "kinh")) for e in ETHNICITIES], dtype=np.int64)


def draw_ethnicities(rng: np.random.Generator, region: IntArray) -> IntArray:
    """One ethnicity (index into ETHNICITIES) per entry of ``region``."""
    out = np.zeros(len(region), dtype=np.int64)
    for r, shares in enumerate(_SHARES):
        mask = region == r
        if not mask.any():
            continue
        index = np.array([ETHNICITIES.index(e) for e in shares], dtype=np.int64)
        p = np.array(list(shares.values()))
        out[mask] = index[rng.choice(len(index), size=int(mask.sum()), p=p / p.sum())]
    return out

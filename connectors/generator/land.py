"""Land: about 300 parcels and 350 land-use rights per 1,000 people.

Parcels lie in a ward of their province; their use follows the ward (towns: mostly urban residential ODT,
countryside: rural residential ONT, rice LUC, perennial crops CLN), their area the use. Most parcels have
one holder; about one in seven is held jointly by a married couple (shares 0.5/0.5), a few by three or
four heirs (0.3333/0.3333/0.3334, 0.25 each): a parcel's shares always sum to exactly 1. Business and
commercial land (SKC, TMD) is mostly held by businesses, under their registered name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from connectors.generator import dates
from connectors.generator.dates import SNAPSHOT
from connectors.generator.enterprises import Enterprises
from connectors.generator.people import COPY, HEAD, SPOUSE, Population
from connectors.generator.places import addresses, geography

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
USES = ("ODT", "ONT", "LUC", "CLN", "SKC", "TMD")
_URBAN_P = (0.70, 0.0, 0.08, 0.05, 0.07, 0.10)
_RURAL_P = (0.0, 0.45, 0.30, 0.20, 0.03, 0.02)
_AREA_MEDIAN = (80.0, 250.0, 1200.0, 2500.0, 8000.0, 600.0)
SHARES = {1: (1.0,), 2: (0.5, 0.5), 3: (0.3333, 0.3333, 0.3334), 4: (0.25, 0.25, 0.25, 0.25)}
SERIES = ("CS", "CH", "CT", "BA", "BĐ", "BX", "DA", "DB", "AK", "AM")


@dataclass
class Parcels:
    province: IntArray
    ward: IntArray
    sheet: IntArray
    number: IntArray
    area: npt.NDArray[np.float64]
    use: IntArray
    address: list[str]
    overrides: dict[str, dict[int, object]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.province)

    def parcel_id(self, i: int) -> str:
        geo = geography()
        return f"{geo.codes[self.province[i]]}-{self.ward_code(i)}-{self.sheet[i]}-{self.number[i]}"

    def ward_code(self, i: int) -> str:
        return f"{geography().ward_code[self.ward[i]]:05d}"


@dataclass
class Rights:
    parcel: IntArray
    enterprise: BoolArray  # holder_kind
    holder: IntArray  # person index or enterprise index
    share: npt.NDArray[np.float64]
    certificate: IntArray  # series index * 1e6 + number
    issued: npt.NDArray[np.datetime64]
    overrides: dict[str, dict[int, object]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.parcel)


def build_parcels(rng: np.random.Generator, count: int) -> Parcels:
    geo = geography()
    province = geo.draw_provinces(rng, count)
    ward = geo.draw_wards(rng, province)
    sheet = rng.integers(1, 81, count)
    number = rng.integers(1, 1500, count)
    for _ in range(100):  # parcel ids are primary keys
        key = (ward * 100 + sheet) * 10_000 + number
        _, first = np.unique(key, return_index=True)
        clash = np.ones(count, dtype=bool)
        clash[first] = False
        if not clash.any():
            break
        number[clash] = rng.integers(1, 10_000, int(clash.sum()))
    urban = geo.ward_urban[ward]
    use = np.where(urban, rng.choice(6, size=count, p=_URBAN_P), rng.choice(6, size=count, p=_RURAL_P))
    area = np.exp(rng.normal(np.log(np.array(_AREA_MEDIAN)[use]), 0.6))
    street = addresses(rng, ward)
    geo_label = geo.ward_label
    address = [
        s if u == 0 else f"Thửa đất số {no}, tờ bản đồ số {sh}, {geo_label[w]}"
        for s, u, no, sh, w in zip(street, use.tolist(), number.tolist(), sheet.tolist(), ward.tolist(), strict=True)
    ]
    return Parcels(province, ward, sheet, number, np.round(np.maximum(area, 20.0), 1), use, address)


def _spouse_pairs(pop: Population) -> tuple[IntArray, IntArray]:
    """(head, spouse) person indices of couples who are both adults and both referable."""
    role = pop.role
    head = np.flatnonzero((role[:-1] == HEAD) & (role[1:] == SPOUSE))
    adult = dates.age_years(pop.dob) >= 18
    ok = adult[head] & adult[head + 1] & pop.referable[head] & pop.referable[head + 1]
    return head[ok], head[ok] + 1


def build_rights(rng: np.random.Generator, pop: Population, parcels: Parcels, firms: Enterprises) -> Rights:
    n = parcels.n
    holders = np.select([rng.random(n) < 0.84, rng.random(n) < 0.85], [1, 2], 0)
    holders = np.where(holders == 0, rng.choice([3, 4], size=n, p=[0.7, 0.3]), holders)
    business_land = parcels.use >= 4
    usable_firms = np.flatnonzero(firms.referable) if firms.n else np.empty(0, dtype=np.int64)
    by_firm = (rng.random(n) < np.where(business_land, 0.7, 0.02)) & (len(usable_firms) > 0)
    holders = np.where(by_firm, 1, holders)
    heads, spouses = _spouse_pairs(pop)
    holders = np.where((holders == 2) & (len(heads) == 0), 1, holders)
    adults = np.flatnonzero(pop.referable & (pop.role != COPY) & (dates.age_years(pop.dob) >= 18))
    if not len(adults):
        holders, by_firm = np.where(by_firm, 1, 0), by_firm
    parcel = np.repeat(np.arange(n, dtype=np.int64), holders)
    slot = np.arange(len(parcel)) - np.repeat(np.cumsum(holders) - holders, holders)
    size = holders[parcel]
    holder = np.zeros(len(parcel), dtype=np.int64)
    firm_rows = by_firm[parcel]
    if firm_rows.any():
        holder[firm_rows] = rng.choice(usable_firms, size=int(firm_rows.sum()))
    couple = (size == 2) & ~firm_rows
    if couple.any():
        pick = rng.integers(0, len(heads), n)[parcel[couple]]
        holder[couple] = np.where(slot[couple] == 0, heads[pick], spouses[pick])
    single = ~firm_rows & ~couple
    if single.any():
        holder[single] = _nearby(rng, pop, adults, parcels.province[parcel[single]])
    _distinct_co_holders(rng, adults, parcel, holder, single & (size > 2))
    share = np.concatenate([[0.0], *(SHARES[k] for k in range(1, 5))])
    offsets = {1: 1, 2: 2, 3: 4, 4: 7}
    share_of = share[np.array([offsets.get(k, 1) for k in range(5)])[size] + slot] if len(size) else share[:0]
    series = rng.integers(0, len(SERIES), len(parcel))
    certificate = series * 1_000_000 + rng.integers(1, 1_000_000, len(parcel))
    return Rights(parcel, firm_rows, holder, share_of, certificate, _issued(rng, pop, firms, firm_rows, holder))


def _nearby(rng: np.random.Generator, pop: Population, adults: IntArray, province: IntArray) -> IntArray:
    """An adult living in the parcel's province (anyone when the province has nobody)."""
    order = adults[np.argsort(pop.province[adults], kind="stable")]
    sorted_prov = pop.province[order]
    start = np.searchsorted(sorted_prov, province, side="left")
    stop = np.searchsorted(sorted_prov, province, side="right")
    span = stop - start
    local = order[np.minimum(start + np.floor(rng.random(len(province)) * span).astype(np.int64), len(order) - 1)]
    anywhere = adults[rng.integers(0, len(adults), len(province))]
    return np.where((span > 0) & (rng.random(len(province)) < 0.9), local, anywhere)


def _distinct_co_holders(
    rng: np.random.Generator, adults: IntArray, parcel: IntArray, holder: IntArray, rows: BoolArray
) -> None:
    """Heirs of one parcel are different people."""
    for _ in range(100):
        key = parcel * 10_000_000_000 + holder
        _, first = np.unique(key, return_index=True)
        clash = np.ones(len(key), dtype=bool)
        clash[first] = False
        clash &= rows
        if not clash.any():
            return
        holder[clash] = adults[rng.integers(0, len(adults), int(clash.sum()))]


def _issued(
    rng: np.random.Generator, pop: Population, firms: Enterprises, firm_rows: BoolArray, holder: IntArray
) -> npt.NDArray[np.datetime64]:
    """After the holder came of age (or the business registered), before the holder died, from 1994 on."""
    person = np.where(firm_rows, 0, holder)
    earliest = np.datetime64("1994-01-01")
    low = np.maximum(dates.add_years(pop.dob[person], 18), earliest)
    high = np.where(pop.deceased[person], pop.dod[person], SNAPSHOT)
    if firm_rows.any():
        firm = np.where(firm_rows, holder, 0)
        low = np.where(firm_rows, np.maximum(firms.registered[firm], earliest), low)
        high = np.where(firm_rows, SNAPSHOT, high)
    return dates.days_between(rng, low, high)

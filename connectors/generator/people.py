"""The population: households of one to six people, their names, births, deaths and citizen ids.

Everyone belongs to a household (mean size about 3.5, as in the 2019 census): a head, usually a spouse
of the other sex, children 20-42 years younger who carry their father's surname, sometimes a grandparent.
About 3 % of people are deceased, more of them old. A citizen_id encodes the province of birth
registration, the century/sex digit and the year of birth, followed by a unique random serial; the
household_id is the province code and ten random digits.

Columns are numpy arrays indexed by person; the few values defects change into something no array can
hold (a misspelt name, an unknown province code) live in ``overrides`` and win when a chunk is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import numpy.typing as npt

from connectors.generator import dates, lookalikes
from connectors.generator.dates import SNAPSHOT
from connectors.generator.ethnicity import NAME_GROUP_OF, draw_ethnicities
from connectors.generator.ids import IdPool, century_sex, citizen_prefix
from connectors.generator.names import compose, draw_givens, draw_middles, draw_surnames
from connectors.generator.places import addresses, geography

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
HEAD, SPOUSE, CHILD, ELDER, COPY = range(5)
_SIZES = np.array([1, 2, 3, 4, 5, 6])
_SIZE_P = np.array([0.10, 0.18, 0.22, 0.26, 0.14, 0.10])


@dataclass
class Households:
    hh_id: IntArray  # 12 digits
    province: IntArray  # index into geography().codes
    ward: IntArray
    address: list[str]


@dataclass
class Population:
    """One entry per citizen record (people first, then any duplicate records appended by defects)."""

    surname: IntArray
    middle: IntArray
    given: IntArray
    sex: IntArray  # 0 man, 1 woman
    dob: npt.NDArray[np.datetime64]
    ethnicity: IntArray
    birth_province: IntArray
    province: IntArray
    household: IntArray  # index into households, -1 for none
    home: IntArray  # index of the household whose address the record carries
    deceased: BoolArray
    dod: npt.NDArray[np.datetime64]
    cid: IntArray
    updated: npt.NDArray[np.datetime64]  # datetime64[s]
    role: IntArray
    referable: BoolArray  # may other sources point at this record?
    households: Households = field(repr=False)
    overrides: dict[str, dict[int, object]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.cid)

    def names(self, idx: IntArray) -> list[str]:
        """Full names as written in the population database (overrides included)."""
        out = compose(self.surname[idx], self.middle[idx], self.given[idx])
        changed = self.overrides.get("full_name")
        if changed:
            for pos, i in enumerate(idx.tolist()):
                if i in changed:
                    out[pos] = str(changed[i])
        return out

    def name(self, i: int) -> str:
        return self.names(np.array([i]))[0]

    def override(self, column: str, i: int, value: object) -> None:
        self.overrides.setdefault(column, {})[i] = value

    def append(self, source: IntArray, **changes: npt.NDArray[np.generic]) -> IntArray:
        """Append copies of the records ``source``, with some columns replaced; returns the new indices."""
        start = self.n
        for f in fields(self):
            if f.name in ("households", "overrides"):
                continue
            column = getattr(self, f.name)
            added = changes.get(f.name, column[source])
            setattr(self, f.name, np.concatenate([column, added]))
        return np.arange(start, self.n, dtype=np.int64)


def _households(rng: np.random.Generator, n: int, pool: IdPool) -> tuple[IntArray, Households]:
    sizes = rng.choice(_SIZES, size=n // 2 + 2, p=_SIZE_P)
    total = np.cumsum(sizes)
    count = int(np.searchsorted(total, n)) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(total[count - 1]) - n
    geo = geography()
    province = geo.draw_provinces(rng, count)
    ward = geo.draw_wards(rng, province)
    code = np.array([int(c) for c in geo.codes], dtype=np.int64)
    hh_id = pool.draw(rng, code[province] * 10_000_000_000, 10_000_000_000)
    return sizes, Households(hh_id, province, ward, addresses(rng, ward))


def build_population(rng: np.random.Generator, n: int, cid_pool: IdPool, hh_pool: IdPool) -> Population:
    sizes, households = _households(rng, n, hh_pool)
    count = len(sizes)
    hh = np.repeat(np.arange(count), sizes)
    pos = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    has_spouse = (sizes >= 2) & (rng.random(count) < 0.85)
    has_elder = (sizes >= 4) & (rng.random(count) < 0.2)
    role = np.full(n, CHILD, dtype=np.int64)
    role[pos == 0] = HEAD
    role[(pos == 1) & has_spouse[hh]] = SPOUSE
    role[(pos == sizes[hh] - 1) & has_elder[hh] & (pos >= 2)] = ELDER

    head_female = rng.random(count) < np.where(sizes == 1, 0.5, 0.27)
    single_age = np.where(rng.random(count) < 0.5, rng.integers(18, 36, count), rng.integers(55, 93, count))
    head_age = np.where(sizes == 1, single_age, np.clip(np.round(rng.normal(46, 12, count)), 22, 88))
    age_of_head = head_age[hh].astype(np.int64)
    sex = np.where(rng.random(n) < np.where(role == ELDER, 0.6, 0.49), 1, 0)
    sex = np.where(role == HEAD, head_female[hh], np.where(role == SPOUSE, ~head_female[hh], sex)).astype(np.int64)
    spouse_gap = np.where(head_female[hh], 2, -2) + np.round(rng.normal(0, 3, n)).astype(np.int64)
    child_gap = 20 + np.floor(rng.random(n) * (np.minimum(42, age_of_head) - 19)).astype(np.int64)
    age = np.select(
        [role == HEAD, role == SPOUSE, role == CHILD],
        [age_of_head, np.clip(age_of_head + spouse_gap, 18, 95), age_of_head - child_gap],
        np.minimum(95, age_of_head + rng.integers(20, 33, n)),
    )
    age = np.clip(age, 0, 95)
    offset = np.round(age * 365.2425).astype(np.int64) + rng.integers(0, 365, n)
    dob = SNAPSHOT - offset.astype("timedelta64[D]")
    twins = lookalikes.make_twins(rng, role, hh, dob)

    geo = geography()
    ethnicity_h = draw_ethnicities(rng, geo.region[households.province])
    ethnicity = ethnicity_h[hh]
    group = NAME_GROUP_OF[ethnicity]
    paternal = (role == CHILD) | (sex == 0)
    surname = np.where(paternal, draw_surnames(rng, NAME_GROUP_OF[ethnicity_h])[hh], draw_surnames(rng, group))
    young = dates.ymd(dob)[0] >= 1985
    middle = draw_middles(rng, sex, young, group)
    given = draw_givens(rng, sex, group)
    lookalikes.make_namesakes(rng, surname, middle, given, sex, hh, dob, exclude=twins)
    lookalikes.keep_apart(rng, surname, middle, given, sex, group, dob)

    years = dates.age_years(dob)
    p_death = np.minimum(0.5, 0.006 + 0.0045 * np.maximum(years - 40, 0))
    deceased = rng.random(n) < p_death
    lived = (SNAPSHOT - dob).astype(np.int64)
    dod = SNAPSHOT - np.floor(rng.random(n) * np.minimum(lived, 9 * 365)).astype("timedelta64[D]")
    dod = np.where(deceased, dod, dates.NAT)

    province = households.province[hh]
    birth_province = np.where(rng.random(n) < np.where(role == CHILD, 0.93, 0.8), province, geo.draw_provinces(rng, n))
    code = np.array([int(c) for c in geo.codes], dtype=np.int64)
    year = dates.ymd(dob)[0]
    cid = cid_pool.draw(rng, citizen_prefix(code[birth_province], century_sex(year, sex), year), 1_000_000)
    return Population(
        surname=surname,
        middle=middle,
        given=given,
        sex=sex,
        dob=dob,
        ethnicity=ethnicity,
        birth_province=birth_province,
        province=province,
        household=hh.astype(np.int64),
        home=hh.astype(np.int64),
        deceased=deceased,
        dod=dod,
        cid=cid,
        updated=updated_at(rng, dob, dod),
        role=role,
        referable=np.ones(n, dtype=bool),
        households=households,
    )


def updated_at(
    rng: np.random.Generator, dob: npt.NDArray[np.datetime64], dod: npt.NDArray[np.datetime64]
) -> npt.NDArray[np.datetime64]:
    """When the record last changed: within the last four years, after birth and after death."""
    low = np.maximum(dob, SNAPSHOT - np.timedelta64(1460, "D"))
    low = np.where(np.isnat(dod), low, np.maximum(low, dod))
    day = dates.days_between(rng, low, np.full(len(dob), SNAPSHOT))
    seconds = rng.integers(6 * 3600, 22 * 3600, len(dob)).astype("timedelta64[s]")
    stamp: npt.NDArray[np.datetime64] = day.astype("datetime64[s]") + seconds
    return stamp

"""Social insurance: about 550 insured people per 1,000 citizens, about three monthly contributions each.

Working-age people (18-60) are insured four times in five, people aged 61-75 (pensioners, late payers)
about two in five. Four in a hundred records are legacy ones never linked to a citizen (citizen_id
NULL). An insured record repeats the citizen's name, date of birth and sex. Contributions are
consecutive months ending at most two years before the snapshot or, for the dead, in the month of death
at the latest; the employer is a business four times in five (10.5 % of the salary base: 8 % pension,
1.5 % health, 1 % unemployment), otherwise the person pays alone (22 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from connectors.generator import dates
from connectors.generator.dates import SNAPSHOT
from connectors.generator.enterprises import Enterprises, employer_weights
from connectors.generator.ids import IdPool
from connectors.generator.people import COPY, Population
from connectors.generator.places import geography

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
LEGACY_SHARE = 0.04
EMPLOYEE_RATE, SELF_PAID_RATE = 0.105, 0.22


@dataclass
class Insured:
    insurance_id: IntArray
    person: IntArray  # the citizen this record belongs to (always known to the generator)
    linked: BoolArray  # citizen_id written (False: legacy record, NULL)
    province: IntArray
    registered: npt.NDArray[np.datetime64]
    overrides: dict[str, dict[int, object]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.insurance_id)

    def append(self, source: IntArray, **changes: npt.NDArray[np.generic]) -> IntArray:
        start = self.n
        for name in ("insurance_id", "person", "linked", "province", "registered"):
            column = getattr(self, name)
            setattr(self, name, np.concatenate([column, changes.get(name, column[source])]))
        return np.arange(start, self.n, dtype=np.int64)


@dataclass
class Contributions:
    insured: IntArray  # index into Insured
    month: IntArray  # months since 1970-01
    employer: IntArray  # index into Enterprises, -1 self-paid
    salary: IntArray
    amount: IntArray
    overrides: dict[str, dict[int, object]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.insured)


def insurance_ids(rng: np.random.Generator, pool: IdPool, province_code: IntArray) -> IntArray:
    """Two digits of province, then eight random digits."""
    return pool.draw(rng, province_code * 100_000_000, 100_000_000, low=0)


def build_insured(rng: np.random.Generator, pop: Population, pool: IdPool) -> Insured:
    until = np.where(pop.deceased, pop.dod, SNAPSHOT)
    age = dates.age_years(pop.dob, until)
    p = np.where((age >= 18) & (age <= 60), 0.79, np.where((age > 60) & (age <= 75), 0.42, 0.0))
    p = np.where(pop.deceased, p * 0.8, p)
    person = np.flatnonzero((rng.random(pop.n) < p) & pop.referable & (pop.role != COPY))
    n = len(person)
    geo = geography()
    province = np.where(rng.random(n) < 0.9, pop.province[person], geo.draw_provinces(rng, n))
    code_int = np.array([int(c) for c in geo.codes], dtype=np.int64)
    low = np.maximum(dates.add_years(pop.dob[person], 18), np.datetime64("1995-01-01"))
    high = np.where(pop.deceased[person], pop.dod[person], SNAPSHOT - np.timedelta64(31, "D"))
    return Insured(
        insurance_id=insurance_ids(rng, pool, code_int[province]),
        person=person,
        linked=rng.random(n) >= LEGACY_SHARE,
        province=province,
        registered=dates.days_between(rng, low, high),
    )


def last_month(pop: Population, insured: Insured) -> IntArray:
    """The last month anyone may contribute for: the snapshot month, or the month of death."""
    person = insured.person
    end = np.where(pop.deceased[person], pop.dod[person], SNAPSHOT)
    return dates.month_index(end)


def build_contributions(
    rng: np.random.Generator, pop: Population, insured: Insured, firms: Enterprises
) -> Contributions:
    n = insured.n
    limit = last_month(pop, insured)
    first = np.minimum(dates.month_index(insured.registered), limit)  # a mistyped future registration pays now
    lag = np.where(pop.deceased[insured.person], rng.integers(0, 4, n), rng.geometric(0.15, n) - 1)
    end = np.maximum(first, limit - np.minimum(lag, 24))
    wanted = np.minimum(1 + rng.poisson(2.0, n), 12)
    count = np.minimum(wanted, end - first + 1)
    owner = np.repeat(np.arange(n, dtype=np.int64), count)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    month = (end - count + 1)[owner] + step
    weights = employer_weights(firms)
    has_employer = (rng.random(n) < 0.8) & (weights.sum() > 0)
    employer = np.full(n, -1, dtype=np.int64)
    if has_employer.any():
        employer[has_employer] = rng.choice(firms.n, size=int(has_employer.sum()), p=weights)
    salary = np.maximum(np.round(np.exp(rng.normal(np.log(8.5e6), 0.45, n)) / 1e4) * 1e4, 3_450_000)
    salary = salary.astype(np.int64)
    raise_ = (rng.random(len(owner)) < 0.05) & (step > 0)
    base = salary[owner] + np.where(raise_, 500_000, 0)
    rate = np.where(employer[owner] >= 0, EMPLOYEE_RATE, SELF_PAID_RATE)
    return Contributions(
        insured=owner,
        month=month.astype(np.int64),
        employer=employer[owner],
        salary=base.astype(np.int64),
        amount=np.round(base * rate).astype(np.int64),
    )

"""The enterprise register: about 40 businesses per 1,000 people, each with a living adult representative.

Codes carry the province, a seven-digit sequence and a correct check digit (sequences whose remainder is 0
are skipped, as the tax office does). The representative lives in the business's province five times in
six; the business registered after he or she turned twenty. A few dissolved businesses keep a
representative who has since died: that is no defect (only an *active* business with a dead
representative is), and a checker that flags it is wrong. About 3 % of businesses share their trade name
with another business in another trade, owned by someone else at another address (hard negatives).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from connectors.generator import dates, firm_names
from connectors.generator.dates import SNAPSHOT
from connectors.generator.ids import IdPool, enterprise_codes
from connectors.generator.people import COPY, Population
from connectors.generator.places import addresses, geography

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ACTIVE, SUSPENDED, DISSOLVED = 0, 1, 2
STATUSES = ("active", "suspended", "dissolved")
SIMILAR_SHARE = 0.03


@dataclass
class Enterprises:
    code: IntArray
    name: list[str]
    trade: list[str]  # the trade-name part of the name, 'AN PHÁT'
    form: IntArray
    province: IntArray
    address: list[str]
    industry: IntArray
    capital: IntArray
    rep: IntArray  # person index
    registered: npt.NDArray[np.datetime64]
    status: IntArray
    referable: BoolArray
    overrides: dict[str, dict[int, object]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.code)

    def append(self, source: IntArray, **changes: Any) -> IntArray:
        """Append copies of the businesses ``source`` with some columns replaced; returns the new indices."""
        start = self.n
        for name in (
            "code",
            "name",
            "trade",
            "form",
            "province",
            "address",
            "industry",
            "capital",
            "rep",
            "registered",
            "status",
            "referable",
        ):
            column = getattr(self, name)
            added = changes.get(name)
            if isinstance(column, list):
                column.extend(added if added is not None else [column[i] for i in source.tolist()])
            else:
                setattr(self, name, np.concatenate([column, added if added is not None else column[source]]))
        return np.arange(start, self.n, dtype=np.int64)


def living_adults(pop: Population, min_age: int = 22) -> IntArray:
    """Referable people alive on the snapshot day and at least ``min_age`` years old."""
    ok = pop.referable & ~pop.deceased & (pop.role != COPY) & (dates.age_years(pop.dob) >= min_age)
    return np.flatnonzero(ok)


def _unique_names(
    rng: np.random.Generator, prefix: IntArray, industry: IntArray, t1: IntArray, t2: IntArray, suffix: IntArray
) -> None:
    """Draw trade names again until no two businesses share one name; the last resort is a number."""
    words, places = len(firm_names.TRADE_WORDS), len(firm_names.SUFFIXES)
    form = np.where(prefix == 0, 1, prefix)  # 'TNHH MỘT THÀNH VIÊN' and 'TNHH' would be confusingly alike
    for attempt in range(200):
        same = t1 == t2
        t2[same] = (t1[same] + rng.integers(1, words, int(same.sum()))) % words
        key = (((form * 64 + industry) * words + t1) * words + t2) * 128 + suffix + 1
        _, first = np.unique(key, return_index=True)
        clash = np.ones(len(key), dtype=bool)
        clash[first] = False
        if not clash.any():
            return
        k = int(clash.sum())
        if attempt < 30:
            t1[clash], t2[clash] = rng.integers(0, words, k), rng.integers(0, words, k)
            suffix[clash] = np.where(rng.random(k) < 0.3, rng.integers(0, places, k), -1)
        else:
            suffix[clash] = places + rng.integers(0, 98, k)
    raise RuntimeError("could not make business names unique")


def build_enterprises(rng: np.random.Generator, pop: Population, count: int, pool: IdPool) -> Enterprises:
    adults = living_adults(pop)
    count = count if len(adults) else 0
    rep = rng.choice(adults, size=count, replace=count > len(adults)) if count else adults[:0]
    geo = geography()
    province = np.where(rng.random(count) < 0.85, pop.province[rep], geo.draw_provinces(rng, count))
    code_int = np.array([int(c) for c in geo.codes], dtype=np.int64)
    form = rng.choice(len(firm_names.LEGAL_FORMS), size=count, p=firm_names.LEGAL_FORM_P)
    prefix = np.select(
        [form == 0, form == 1, form == 2, form == 3], [np.where(rng.random(count) < 0.4, 0, 1), 1, 2, 3], 4
    )
    weights = np.array([w for _, _, w in firm_names.INDUSTRIES], dtype=np.float64)
    industry = rng.choice(len(weights), size=count, p=weights / weights.sum())
    words = len(firm_names.TRADE_WORDS)
    t1, t2 = rng.integers(0, words, count), rng.integers(0, words, count)
    suffix = np.where(rng.random(count) < 0.12, rng.integers(0, len(firm_names.SUFFIXES), count), -1)
    similar = rng.choice(count, size=min(count // 2, max(2, round(SIMILAR_SHARE * count))), replace=False)
    if count > 1 and len(similar):
        model = rng.integers(0, count, len(similar))
        t1[similar], t2[similar], suffix[similar] = t1[model], t2[model], suffix[model]
        form[similar], prefix[similar] = form[model], prefix[model]
        industry[similar] = (industry[model] + rng.integers(1, len(weights), len(similar))) % len(weights)
    _unique_names(rng, prefix, industry, t1, t2, suffix)
    names = [
        firm_names.compose(*parts)
        for parts in zip(prefix.tolist(), industry.tolist(), t1.tolist(), t2.tolist(), suffix.tolist(), strict=True)
    ]
    trade = [
        n.removeprefix(f"{firm_names.PREFIXES[p]} {firm_names.INDUSTRIES[i][0]} ")
        for n, p, i in zip(names, prefix.tolist(), industry.tolist(), strict=True)
    ]
    capital = np.exp(rng.normal(np.log(2e9), 1.3, count)) * np.where(form == 3, 0.3, 1.0)
    capital = (np.clip(np.round(capital / 1e7) * 1e7, 1e8, 5e12)).astype(np.int64)
    status = rng.choice(3, size=count, p=[0.74, 0.10, 0.16])
    low = np.maximum(dates.add_years(pop.dob[rep], 20), np.datetime64("1995-01-01"))
    registered = dates.days_between(rng, low, np.full(count, SNAPSHOT - np.timedelta64(30, "D")))
    firms = Enterprises(
        code=enterprise_codes(rng, pool, code_int[province]),
        name=names,
        trade=trade,
        form=form,
        province=province,
        address=addresses(rng, geo.draw_wards(rng, province), business=True),
        industry=industry,
        capital=capital,
        rep=rep,
        registered=registered,
        status=status,
        referable=np.ones(count, dtype=bool),
    )
    _dead_reps_of_dissolved(rng, pop, firms)
    return firms


def _dead_reps_of_dissolved(rng: np.random.Generator, pop: Population, firms: Enterprises) -> None:
    """One dissolved business in ten keeps a representative who died after registering it (no defect)."""
    lived = (pop.dod - pop.dob).astype(np.int64)
    dead = np.flatnonzero(pop.referable & pop.deceased & (pop.role != COPY) & (lived > 23 * 366))
    dissolved = np.flatnonzero(firms.status == DISSOLVED)
    if not len(dead) or not len(dissolved):
        return
    chosen = np.sort(rng.choice(dissolved, size=max(1, round(0.1 * len(dissolved))), replace=False))
    rep = rng.choice(dead, size=len(chosen))
    firms.rep[chosen] = rep
    low = np.maximum(dates.add_years(pop.dob[rep], 20), np.datetime64("1995-01-01"))
    firms.registered[chosen] = dates.days_between(rng, low, pop.dod[rep] - np.timedelta64(1, "D"))


def employer_weights(firms: Enterprises) -> npt.NDArray[np.float64]:
    """Bigger businesses employ more people: weight by the square root of charter capital."""
    w: npt.NDArray[np.float64] = np.sqrt(firms.capital.astype(np.float64)) * firms.referable
    w = w * (firms.status != DISSOLVED)
    return w / w.sum() if w.sum() > 0 else w

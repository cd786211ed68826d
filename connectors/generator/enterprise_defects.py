"""Defects of the enterprise register, injected before insurance and land refer to businesses.

invalid_value: a wrong check digit, a code with an unknown province, an unknown province_code, a
registration date decades ahead; such businesses employ nobody and hold no land, so no other record
carries the bad code. identity_mismatch: the representative's name misspelt against the population.
unknown_reference: a representative's citizen_id with a wrong serial that matches nobody.
activity_after_death: an active business whose representative (a real, dead citizen) died after
registering it. duplicate_enterprise: the same business registered again under a rewritten name, by the
same representative (at the same or another address) or at the same address by another one.
Hard negatives: the representative's name in capitals, decomposed or with the other tone placement.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connectors.generator import dates, firm_names, variants
from connectors.generator.dates import SNAPSHOT
from connectors.generator.defects import HARMLESS_SHARE, Picker, how_many, misspell, split
from connectors.generator.enterprises import ACTIVE, DISSOLVED, Enterprises, living_adults
from connectors.generator.ids import IdPool, check_digits, enterprise_codes, unknown_citizen_id
from connectors.generator.people import COPY, Population
from connectors.generator.places import UNKNOWN_PROVINCES, addresses, geography
from connectors.generator.truth import CITIZEN, ENTERPRISE, GroundTruth

IntArray = npt.NDArray[np.int64]
_INVALID_KINDS = {"check digit": 0.4, "code province": 0.15, "province": 0.25, "future registration": 0.2}


def inject(
    rng: np.random.Generator,
    pop: Population,
    firms: Enterprises,
    truth: GroundTruth,
    rate: float,
    code_pool: IdPool,
    cid_pool: IdPool,
) -> None:
    picker = Picker(rng, np.ones(firms.n, dtype=bool))
    _invalid(rng, firms, picker, truth, rate, code_pool)
    for row in picker.take(how_many(rate, firms.n)).tolist():
        rep = int(firms.rep[row])
        name, how = misspell(pop, rep, rng)
        firms.overrides.setdefault("legal_rep_name", {})[row] = name
        truth.add(
            "identity_mismatch",
            [(ENTERPRISE, row), (CITIZEN, rep)],
            "legal_rep_name",
            f"'{name}' here, '{pop.name(rep)}' in population ({how})",
        )
    keep_dead_reps = (firms.status == DISSOLVED) & pop.deceased[firms.rep]  # hard negatives: leave them whole
    for row in picker.take(how_many(rate, firms.n), ~keep_dead_reps).tolist():
        wrong = unknown_citizen_id(rng, cid_pool, int(pop.cid[firms.rep[row]]))
        firms.overrides.setdefault("legal_rep_id", {})[row] = wrong
        truth.add("unknown_reference", [(ENTERPRISE, row)], "legal_rep_id", f"no citizen {wrong}")
    _dead_representatives(rng, pop, firms, picker, truth, rate)
    _duplicates(rng, pop, firms, picker, truth, rate, code_pool)
    for row in picker.take(how_many(HARMLESS_SHARE, firms.n)).tolist():
        firms.overrides.setdefault("legal_rep_name", {})[row] = variants.harmless(pop.name(int(firms.rep[row])), rng)


def _invalid(
    rng: np.random.Generator, firms: Enterprises, picker: Picker, truth: GroundTruth, rate: float, code_pool: IdPool
) -> None:
    chosen = picker.take(how_many(rate, firms.n))
    firms.referable[chosen] = False
    kinds = split(rng, len(chosen), _INVALID_KINDS)
    bounds = np.cumsum([kinds[k] for k in ("check digit", "code province", "province")])
    check, code_province, province, future = np.split(chosen, bounds)
    for row in check.tolist():
        code = int(firms.code[row])
        right = code % 10
        wrong = (right + int(rng.integers(1, 10))) % 10
        firms.code[row] = code - right + wrong
        truth.add("invalid_value", [(ENTERPRISE, row)], "enterprise_code", f"check digit {wrong}, should be {right}")
    unknown = np.array([int(c) for c in UNKNOWN_PROVINCES], dtype=np.int64)
    bad = unknown[rng.integers(0, len(unknown), len(code_province))]
    firms.code[code_province] = enterprise_codes(rng, code_pool, bad)
    for row in code_province.tolist():
        truth.add(
            "invalid_value",
            [(ENTERPRISE, row)],
            "enterprise_code",
            f"unknown province code {int(firms.code[row]) // 100_000_000:02d} in the code",
        )
    for row in province.tolist():
        unknown_code = UNKNOWN_PROVINCES[int(rng.integers(len(UNKNOWN_PROVINCES)))]
        firms.overrides.setdefault("province_code", {})[row] = unknown_code
        truth.add("invalid_value", [(ENTERPRISE, row)], "province_code", f"unknown province code {unknown_code}")
    firms.registered[future] = dates.future_of(firms.registered[future])
    for row in future.tolist():
        truth.add("invalid_value", [(ENTERPRISE, row)], "registered_on", f"{firms.registered[row]} is in the future")
    assert (check_digits(firms.code[code_province] // 10) >= 0).all()


def _dead_representatives(
    rng: np.random.Generator, pop: Population, firms: Enterprises, picker: Picker, truth: GroundTruth, rate: float
) -> None:
    lived = (pop.dod - pop.dob).astype(np.int64)
    dead = np.flatnonzero(pop.referable & pop.deceased & (pop.role != COPY) & (lived > 23 * 366))
    active = firms.status == ACTIVE
    rows = picker.take(min(len(dead), how_many(rate, int(active.sum()))), active)
    if not len(rows):
        return
    rep = rng.choice(dead, size=len(rows), replace=len(rows) > len(dead))
    firms.rep[rows] = rep
    low = np.maximum(dates.add_years(pop.dob[rep], 20), np.datetime64("1995-01-01"))
    firms.registered[rows] = dates.days_between(rng, low, pop.dod[rep] - np.timedelta64(1, "D"))
    for row, person in zip(rows.tolist(), rep.tolist(), strict=True):
        truth.add(
            "activity_after_death",
            [(ENTERPRISE, row), (CITIZEN, person)],
            None,
            f"active, but the legal representative died on {pop.dod[person]}",
        )


def _duplicates(
    rng: np.random.Generator,
    pop: Population,
    firms: Enterprises,
    picker: Picker,
    truth: GroundTruth,
    rate: float,
    code_pool: IdPool,
) -> None:
    alive_rep = ~pop.deceased[firms.rep] & (firms.status != DISSOLVED) & firms.referable
    source = picker.take(how_many(rate, firms.n), alive_rep)
    if not len(source):
        return
    k = len(source)
    adults = living_adults(pop)
    same_rep = (rng.random(k) < 0.7) | (len(adults) == 0)
    same_address = ~same_rep | (rng.random(k) < 0.5)
    rep = firms.rep[source].copy()
    rep[~same_rep] = adults[rng.integers(0, len(adults), int((~same_rep).sum()))]
    geo = geography()
    fresh = addresses(rng, geo.draw_wards(rng, firms.province[source]), business=True)
    address = [
        firms.address[s] if same else a
        for s, same, a in zip(source.tolist(), same_address.tolist(), fresh, strict=True)
    ]
    rewritten = [firm_names.rewrite(firms.name[s], firms.trade[s], rng) for s in source.tolist()]
    low = np.maximum(dates.add_years(pop.dob[rep], 20), np.datetime64("1995-01-01"))
    code_int = np.array([int(c) for c in geo.codes], dtype=np.int64)
    added = firms.append(
        source,
        code=enterprise_codes(rng, code_pool, code_int[firms.province[source]]),
        name=[name for name, _ in rewritten],
        address=address,
        rep=rep,
        registered=dates.days_between(rng, low, np.full(k, SNAPSHOT - np.timedelta64(30, "D"))),
        status=rng.choice(3, size=k, p=[0.6, 0.15, 0.25]),
        referable=np.zeros(k, dtype=bool),
    )
    for s, new, (_, how), same, at in zip(
        source.tolist(), added.tolist(), rewritten, same_rep.tolist(), same_address.tolist(), strict=True
    ):
        shared = " and ".join(w for w, yes in (("representative", same), ("address", at)) if yes)
        truth.add(
            "duplicate_enterprise",
            [(ENTERPRISE, s), (ENTERPRISE, new)],
            None,
            f"registered twice: name {how}, same {shared}",
        )

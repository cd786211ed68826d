"""Defects of the insurance database: insured people first, then their contributions.

invalid_value: an insurance_id whose province digits are no province, an unknown province_code, a
registration date decades ahead. identity_mismatch: name (really misspelt), date of birth (day and month
swapped, or a few days off in the same year) or sex differing from the citizen's. unknown_reference: a
citizen_id whose serial matches nobody (still consistent with the record's birth year and sex).
duplicate_insured: the same person under a second insurance number, either unlinked (citizen_id NULL,
name perhaps without diacritics, in capitals or mistyped, birthday perhaps swapped) or linked to the same
citizen under the same name; it has its own contributions. Contributions: an employer_code matching no
business; a contribution for a month after the insured citizen's death (the last one moved past it).
Hard negatives: linked records whose name is the citizen's, written in capitals, decomposed, with a
doubled space or the other tone placement; legacy unlinked records without diacritics.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connectors.generator import dates, variants
from connectors.generator.dates import SNAPSHOT
from connectors.generator.defects import (
    HARMLESS_SHARE,
    Picker,
    how_many,
    misspell,
    nearby_birthday,
    other_birthday,
    split,
    swapped_birthday,
)
from connectors.generator.enterprises import Enterprises
from connectors.generator.ids import IdPool, enterprise_codes, unknown_citizen_id
from connectors.generator.insurance import Contributions, Insured, insurance_ids, last_month
from connectors.generator.lookalikes import Lookalikes
from connectors.generator.people import COPY, Population
from connectors.generator.places import UNKNOWN_PROVINCES, geography
from connectors.generator.truth import CITIZEN, CONTRIBUTION, INSURED, GroundTruth

IntArray = npt.NDArray[np.int64]
_INVALID_KINDS = {"insurance_id": 0.35, "province_code": 0.35, "registered_on": 0.3}
_MISMATCH_KINDS = {"full_name": 0.6, "date_of_birth": 0.3, "sex": 0.1}
LEGACY_PLAIN_SHARE = 0.25


def inject_insured(
    rng: np.random.Generator,
    pop: Population,
    ins: Insured,
    truth: GroundTruth,
    rate: float,
    id_pool: IdPool,
    cid_pool: IdPool,
) -> None:
    picker = Picker(rng, np.ones(ins.n, dtype=bool))
    linked = ins.linked.copy()
    guard = Lookalikes(pop.surname, pop.middle, pop.given, pop.dob, pop.role != COPY)
    _invalid(rng, ins, picker.take(how_many(rate, ins.n)), truth, id_pool)
    _mismatches(rng, pop, ins, picker.take(how_many(rate, int(linked.sum())), linked), truth, guard)
    for row in picker.take(how_many(rate, int(linked.sum())), linked).tolist():
        wrong = unknown_citizen_id(rng, cid_pool, int(pop.cid[ins.person[row]]))
        ins.overrides.setdefault("citizen_id", {})[row] = wrong
        truth.add("unknown_reference", [(INSURED, row)], "citizen_id", f"no citizen {wrong}")
    _duplicates(rng, pop, ins, picker.take(how_many(rate, int(linked.sum())), linked), truth, id_pool, guard)
    names = ins.overrides.setdefault("full_name", {})
    for row in picker.take(how_many(HARMLESS_SHARE, int(linked.sum())), linked).tolist():
        names[row] = variants.harmless(pop.name(int(ins.person[row])), rng)
    legacy = np.flatnonzero(~linked & picker.free)
    for row in legacy[rng.random(len(legacy)) < LEGACY_PLAIN_SHARE].tolist():
        names[row] = variants.strip_marks(pop.name(int(ins.person[row])))


def _invalid(rng: np.random.Generator, ins: Insured, chosen: IntArray, truth: GroundTruth, id_pool: IdPool) -> None:
    kinds = split(rng, len(chosen), _INVALID_KINDS)
    bad_id, bad_province, future = np.split(chosen, np.cumsum([kinds["insurance_id"], kinds["province_code"]]))
    unknown = np.array([int(c) for c in UNKNOWN_PROVINCES], dtype=np.int64)
    ins.insurance_id[bad_id] = insurance_ids(rng, id_pool, unknown[rng.integers(0, len(unknown), len(bad_id))])
    for row in bad_id.tolist():
        code = int(ins.insurance_id[row]) // 100_000_000
        truth.add("invalid_value", [(INSURED, row)], "insurance_id", f"unknown province code {code:02d}")
    for row in bad_province.tolist():
        province = UNKNOWN_PROVINCES[int(rng.integers(len(UNKNOWN_PROVINCES)))]
        ins.overrides.setdefault("province_code", {})[row] = province
        truth.add("invalid_value", [(INSURED, row)], "province_code", f"unknown province code {province}")
    ins.registered[future] = dates.future_of(ins.registered[future])
    for row in future.tolist():
        truth.add("invalid_value", [(INSURED, row)], "registered_on", f"{ins.registered[row]} is in the future")


def _mismatches(
    rng: np.random.Generator, pop: Population, ins: Insured, chosen: IntArray, truth: GroundTruth, guard: Lookalikes
) -> None:
    """Name, birthday or sex differ from the citizen's; never so that the record looks like someone else's."""
    kinds = split(rng, len(chosen), _MISMATCH_KINDS)
    names, births, sexes = np.split(chosen, np.cumsum([kinds["full_name"], kinds["date_of_birth"]]))
    over = ins.overrides
    for row in names.tolist():
        person = int(ins.person[row])
        name, how = misspell(pop, person, rng)
        while not guard.accept(name, pop.dob[person], person):
            name, how = misspell(pop, person, rng)
        over.setdefault("full_name", {})[row] = name
        truth.add(
            "identity_mismatch",
            [(INSURED, row), (CITIZEN, person)],
            "full_name",
            f"'{name}' here, '{pop.name(person)}' in population ({how})",
        )
    for row in births.tolist():
        person = int(ins.person[row])
        born = other_birthday(pop.dob[person], rng)
        while not guard.accept(pop.name(person), born, person):
            born = nearby_birthday(pop.dob[person], rng)
        over.setdefault("date_of_birth", {})[row] = str(born)
        truth.add(
            "identity_mismatch",
            [(INSURED, row), (CITIZEN, person)],
            "date_of_birth",
            f"{born} here, {pop.dob[person]} in population",
        )
    for row in sexes.tolist():
        person = int(ins.person[row])
        sex, real = ("F", "M") if pop.sex[person] == 0 else ("M", "F")
        over.setdefault("sex", {})[row] = sex
        truth.add("identity_mismatch", [(INSURED, row), (CITIZEN, person)], "sex", f"{sex} here, {real} in population")


def _duplicates(
    rng: np.random.Generator,
    pop: Population,
    ins: Insured,
    source: IntArray,
    truth: GroundTruth,
    id_pool: IdPool,
    guard: Lookalikes,
) -> None:
    if not len(source):
        return
    k = len(source)
    geo = geography()
    code_int = np.array([int(c) for c in geo.codes], dtype=np.int64)
    province = np.where(rng.random(k) < 0.5, ins.province[source], geo.draw_provinces(rng, k))
    person = ins.person[source]
    low = np.maximum(dates.add_years(pop.dob[person], 18), np.datetime64("1995-01-01"))
    high = np.where(pop.deceased[person], pop.dod[person], SNAPSHOT - np.timedelta64(31, "D"))
    linked = rng.random(k) < 0.4
    added = ins.append(
        source,
        insurance_id=insurance_ids(rng, id_pool, code_int[province]),
        linked=linked,
        province=province,
        registered=dates.days_between(rng, low, high),
    )
    over = ins.overrides
    for s, new, p, is_linked in zip(source.tolist(), added.tolist(), person.tolist(), linked.tolist(), strict=True):
        name = pop.name(p)
        how = "linked to the same citizen"
        if is_linked:
            if rng.random() < 0.3:
                over.setdefault("full_name", {})[new] = variants.harmless(name, rng)
        else:
            pick = int(rng.choice(5, p=[0.3, 0.25, 0.15, 0.2, 0.1]))
            spelt = (name, variants.strip_marks(name), name.upper(), variants.typo(name, rng), variants.nfd(name))[pick]
            how = (
                "unlinked",
                "unlinked, no diacritics",
                "unlinked, capitals",
                "unlinked, typo",
                "unlinked, decomposed Unicode",
            )[pick]
            if not guard.accept(spelt, pop.dob[p], p):  # a typo that happens to be someone else's name
                spelt, how = name, "unlinked"
            if spelt != name:
                over.setdefault("full_name", {})[new] = spelt
            born = swapped_birthday(pop.dob[p]) if rng.random() < 0.2 else None
            if born is not None:
                over.setdefault("date_of_birth", {})[new] = str(born)
                how += ", day and month swapped"
        truth.add("duplicate_insured", [(INSURED, s), (INSURED, new)], None, f"second insurance number: {how}")


def inject_contributions(
    rng: np.random.Generator,
    pop: Population,
    ins: Insured,
    paid: Contributions,
    firms: Enterprises,
    truth: GroundTruth,
    rate: float,
    code_pool: IdPool,
) -> None:
    picker = Picker(rng, np.ones(paid.n, dtype=bool))
    with_employer = paid.employer >= 0
    rows = picker.take(how_many(rate, int(with_employer.sum())), with_employer)
    if len(rows):
        codes = enterprise_codes(rng, code_pool, firms.code[paid.employer[rows]] // 100_000_000)
        for row, code in zip(rows.tolist(), codes.tolist(), strict=True):
            paid.overrides.setdefault("employer_code", {})[row] = f"{code:010d}"
            truth.add("unknown_reference", [(CONTRIBUTION, row)], "employer_code", f"no business {code:010d}")
    # The last contribution of each insured record whose citizen link resolves and who died before the snapshot.
    last = np.full(ins.n, -1, dtype=np.int64)
    np.maximum.at(last, paid.insured, np.arange(paid.n, dtype=np.int64))  # rows run in month order
    death_month = last_month(pop, ins)
    resolves = ins.linked & ~np.isin(np.arange(ins.n), list(ins.overrides.get("citizen_id", {})))
    room = dates.month_index(np.array([SNAPSHOT]))[0] - death_month
    ok = resolves & pop.deceased[ins.person] & (room > 0) & (last >= 0)
    ok[ok] &= picker.free[last[ok]]
    owners = np.flatnonzero(ok)
    owners = np.sort(rng.choice(owners, size=how_many(rate, len(owners)), replace=False)) if len(owners) else owners
    for owner in owners.tolist():
        row = int(last[owner])
        picker.block(np.array([row]))
        paid.month[row] = death_month[owner] + int(rng.integers(1, min(6, int(room[owner])) + 1))
        person = int(ins.person[owner])
        period = str(np.datetime64(int(paid.month[row]), "M"))
        truth.add(
            "activity_after_death",
            [(CONTRIBUTION, row), (CITIZEN, person)],
            None,
            f"contribution for {period}, died on {pop.dod[person]}",
        )

"""Defects of the population database: duplicate citizens and invalid citizen values.

Both are injected before the other sources are built, and their records are made unreferable: nobody is
insured, holds land or represents a business under an invalid or a duplicate citizen record, so these
defects cannot spill into identity_mismatch or activity_after_death findings the truth does not list.

duplicate_citizen: a second record (new, valid citizen_id) of the same person, one group in ten with a
third, spelt without diacritics, in capitals, with one tone changed, a middle name dropped, a typo, in
decomposed Unicode, with day and month of birth swapped, or at another address. No variant may look
like a third, different person (same folded name and birthday): such variants are drawn again.
invalid_value: citizen_id digits contradicting the sex/century, the year, the birth province or any
province; a date of birth a century ahead (two findings: date_of_birth and citizen_id); an unknown
province of residence.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connectors.generator import dates, variants
from connectors.generator.defects import Picker, how_many, split, swapped_birthday
from connectors.generator.ids import IdPool, century_sex, citizen_prefix
from connectors.generator.lookalikes import Lookalikes
from connectors.generator.people import COPY, Population, updated_at
from connectors.generator.places import UNKNOWN_PROVINCES, geography
from connectors.generator.truth import CITIZEN, GroundTruth

IntArray = npt.NDArray[np.int64]
_CODE = np.array([int(c) for c in geography().codes], dtype=np.int64)
_DUPLICATE_KINDS = {
    "no diacritics": 0.2,
    "upper case": 0.1,
    "another tone": 0.12,
    "middle name dropped": 0.12,
    "typo": 0.16,
    "decomposed Unicode": 0.08,
    "day and month swapped": 0.25,  # drawn again when the day is above 12
    "other address": 0.1,
}
_INVALID_KINDS = {
    "sex digit": 0.25,
    "year digits": 0.15,
    "province digits": 0.15,
    "unknown province digits": 0.1,
    "future birth": 0.15,
    "unknown province": 0.2,
}


def inject_invalid(
    rng: np.random.Generator, pop: Population, picker: Picker, truth: GroundTruth, rate: float, pool: IdPool
) -> None:
    year, _, _ = dates.ymd(pop.dob)
    chosen = picker.take(how_many(rate, pop.n), ~pop.deceased)
    pop.referable[chosen] = False
    kinds = split(rng, len(chosen), _INVALID_KINDS)
    future_ok = (year[chosen] >= 1940) & (year[chosen] <= 1999)
    future = chosen[future_ok][: kinds["future birth"]]
    rest = np.setdiff1d(chosen, future)
    rng.shuffle(rest)
    bounds = np.cumsum([kinds[k] for k in ("sex digit", "year digits", "province digits", "unknown province digits")])
    sex_digit, year_digits, province_digits, unknown_digits, unknown_home = np.split(rest, bounds)
    serial = pop.cid % 1_000_000
    born_prov = _CODE[pop.birth_province]
    cs = century_sex(year, pop.sex)

    def recode(rows: IntArray, prefix: IntArray, what: str) -> None:
        ids = pool.claim(rng, prefix + serial[rows], prefix, 1_000_000)
        for row, new in zip(rows.tolist(), ids.tolist(), strict=True):
            old = int(pop.cid[row])
            pop.cid[row] = new
            truth.add("invalid_value", [(CITIZEN, row)], "citizen_id", f"{new:012d}: {what} (was {old:012d})")

    recode(
        sex_digit, citizen_prefix(born_prov[sex_digit], cs[sex_digit] ^ 1, year[sex_digit]), "sex digit contradicts sex"
    )
    shifted = year[year_digits] + rng.integers(1, 9, len(year_digits))
    recode(
        year_digits,
        citizen_prefix(born_prov[year_digits], cs[year_digits], shifted),
        "year digits contradict date of birth",
    )
    other = (pop.birth_province[province_digits] + rng.integers(1, len(_CODE), len(province_digits))) % len(_CODE)
    recode(
        province_digits,
        citizen_prefix(_CODE[other], cs[province_digits], year[province_digits]),
        "province digits differ from birth province",
    )
    unknown = np.array([int(c) for c in UNKNOWN_PROVINCES], dtype=np.int64)
    bad = unknown[rng.integers(0, len(unknown), len(unknown_digits))]
    recode(
        unknown_digits,
        citizen_prefix(bad, cs[unknown_digits], year[unknown_digits]),
        "unknown province code in citizen_id",
    )
    for row in future.tolist():
        old = pop.dob[row]
        pop.dob[row] = dates.future_of(np.array([old]))[0]
        truth.add("invalid_value", [(CITIZEN, row)], "date_of_birth", f"{pop.dob[row]} is in the future")
        truth.add(
            "invalid_value",
            [(CITIZEN, row)],
            "citizen_id",
            f"century/year digits contradict date of birth {pop.dob[row]}",
        )
    for row in unknown_home.tolist():
        code = UNKNOWN_PROVINCES[int(rng.integers(len(UNKNOWN_PROVINCES)))]
        pop.override("province_code", row, code)
        truth.add("invalid_value", [(CITIZEN, row)], "province_code", f"unknown province code {code}")


def _variant(pop: Population, person: int, kind: str, rng: np.random.Generator) -> str | None:
    name = pop.name(person)
    if kind == "no diacritics":
        return variants.strip_marks(name)
    if kind == "upper case":
        return name.upper()
    if kind == "another tone":
        return variants.change_tone(name, rng)
    if kind == "middle name dropped":
        return variants.drop_middle(name, rng)
    if kind == "typo":
        return variants.typo(name, rng)
    if kind == "decomposed Unicode":
        return variants.nfd(name)
    return None  # same name: the birthday or the address differs


def inject_duplicates(
    rng: np.random.Generator, pop: Population, picker: Picker, truth: GroundTruth, rate: float, pool: IdPool
) -> None:
    originals = picker.take(how_many(rate, pop.n))
    if not len(originals):
        return
    guard = Lookalikes(pop.surname, pop.middle, pop.given, pop.dob, pop.role != COPY)
    third = rng.random(len(originals)) < 0.1
    source = np.concatenate([originals, originals[third]])
    kind_names = list(_DUPLICATE_KINDS)
    p = np.array(list(_DUPLICATE_KINDS.values()))
    names: list[str | None] = []
    dob = pop.dob[source].copy()
    other_home = np.zeros(len(source), dtype=bool)
    labels: list[str] = []
    for pos, person in enumerate(source.tolist()):
        for _ in range(10):
            kind = kind_names[int(rng.choice(len(p), p=p / p.sum()))]
            name = _variant(pop, person, kind, rng)
            dob[pos] = pop.dob[person]
            if kind == "day and month swapped":
                swapped = swapped_birthday(pop.dob[person])
                if swapped is None:
                    continue
                dob[pos] = swapped
            if guard.accept(pop.name(person) if name is None else name, dob[pos], person):
                break
        else:
            kind, name, dob[pos] = "no diacritics", variants.strip_marks(pop.name(person)), pop.dob[person]
            guard.accept(name, dob[pos], person)  # folds like the person's own name: always free
        names.append(name)
        other_home[pos] = kind == "other address"
        labels.append(kind)
    year = dates.ymd(dob)[0]
    prefix = citizen_prefix(_CODE[pop.birth_province[source]], century_sex(year, pop.sex[source]), year)
    homes = pop.home[source].copy()
    homes[other_home] = rng.integers(0, len(pop.households.hh_id), int(other_home.sum()))
    household = np.where(rng.random(len(source)) < 0.7, pop.household[source], -1)
    household[other_home] = -1
    added = pop.append(
        source,
        dob=dob,
        cid=pool.draw(rng, prefix, 1_000_000),
        home=homes,
        household=household,
        province=np.where(other_home, pop.households.province[homes], pop.province[source]),
        updated=updated_at(rng, dob, pop.dod[source]),
        role=np.full(len(source), COPY),
        referable=np.zeros(len(source), dtype=bool),
    )
    groups: dict[int, list[int]] = {}
    how: dict[int, list[str]] = {}
    for new, person, name, kind in zip(added.tolist(), source.tolist(), names, labels, strict=True):
        if name is not None:
            pop.override("full_name", new, name)
        groups.setdefault(person, [person]).append(new)
        how.setdefault(person, []).append(kind)
    for person, members in groups.items():
        truth.add(
            "duplicate_citizen",
            [(CITIZEN, m) for m in members],
            None,
            "same person recorded again: " + ", ".join(how[person]),
        )

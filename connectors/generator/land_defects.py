"""Defects of the land database.

invalid_value on parcels: an area of zero or below, an unknown province_code, or shares that do not sum
to 1 (one finding per land right of that parcel, field ``share``: a lone holder at 0.9 or 0.5, a couple at
0.5/0.6, three heirs at 0.3333 each, four at 0.25/0.25/0.25/0.3). On land rights: an issue date decades
ahead. identity_mismatch: a citizen holder's name misspelt against the population. unknown_reference: a
holder_id (citizen or business) that matches nobody. Hard negatives: holder names in capitals, as
certificates print them, or written another harmless way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connectors.generator import dates, variants
from connectors.generator.defects import HARMLESS_SHARE, Picker, how_many, misspell, split
from connectors.generator.enterprises import Enterprises
from connectors.generator.ids import IdPool, unknown_citizen_id, unknown_enterprise_code
from connectors.generator.land import Parcels, Rights
from connectors.generator.people import Population
from connectors.generator.places import UNKNOWN_PROVINCES
from connectors.generator.truth import CITIZEN, PARCEL, RIGHT, GroundTruth

IntArray = npt.NDArray[np.int64]
_PARCEL_KINDS = {"area_m2": 0.4, "province_code": 0.25, "share": 0.35}
CAPITALS_SHARE = 0.05


def inject(
    rng: np.random.Generator,
    pop: Population,
    firms: Enterprises,
    parcels: Parcels,
    rights: Rights,
    truth: GroundTruth,
    rate: float,
    cid_pool: IdPool,
    code_pool: IdPool,
) -> None:
    right_picker = Picker(rng, np.ones(rights.n, dtype=bool))
    _parcels(rng, parcels, rights, right_picker, truth, rate)
    future = right_picker.take(how_many(rate, rights.n))
    rights.issued[future] = dates.future_of(rights.issued[future])
    for row in future.tolist():
        truth.add("invalid_value", [(RIGHT, row)], "issued_on", f"{rights.issued[row]} is in the future")
    by_citizen = ~rights.enterprise
    over = rights.overrides
    for row in right_picker.take(how_many(rate, int(by_citizen.sum())), by_citizen).tolist():
        person = int(rights.holder[row])
        name, how = misspell(pop, person, rng)
        over.setdefault("holder_name", {})[row] = name
        truth.add(
            "identity_mismatch",
            [(RIGHT, row), (CITIZEN, person)],
            "holder_name",
            f"'{name}' here, '{pop.name(person)}' in population ({how})",
        )
    for row in right_picker.take(how_many(rate, rights.n)).tolist():
        holder = int(rights.holder[row])
        if rights.enterprise[row]:
            wrong = unknown_enterprise_code(rng, code_pool, int(firms.code[holder]))
        else:
            wrong = unknown_citizen_id(rng, cid_pool, int(pop.cid[holder]))
        over.setdefault("holder_id", {})[row] = wrong
        truth.add(
            "unknown_reference",
            [(RIGHT, row)],
            "holder_id",
            f"no {'business' if rights.enterprise[row] else 'citizen'} {wrong}",
        )
    plain = right_picker.take(how_many(CAPITALS_SHARE + HARMLESS_SHARE, int(by_citizen.sum())), by_citizen)
    for row in plain.tolist():
        name = pop.name(int(rights.holder[row]))
        over.setdefault("holder_name", {})[row] = name.upper() if rng.random() < 0.7 else variants.harmless(name, rng)


def _parcels(
    rng: np.random.Generator, parcels: Parcels, rights: Rights, right_picker: Picker, truth: GroundTruth, rate: float
) -> None:
    chosen = Picker(rng, np.ones(parcels.n, dtype=bool)).take(how_many(rate, parcels.n))
    kinds = split(rng, len(chosen), _PARCEL_KINDS)
    area, province, share = np.split(chosen, np.cumsum([kinds["area_m2"], kinds["province_code"]]))
    parcels.area[area] = np.where(rng.random(len(area)) < 0.6, 0.0, -parcels.area[area])
    for row in area.tolist():
        truth.add("invalid_value", [(PARCEL, row)], "area_m2", f"area {parcels.area[row]} m²")
    for row in province.tolist():
        code = UNKNOWN_PROVINCES[int(rng.integers(len(UNKNOWN_PROVINCES)))]
        parcels.overrides.setdefault("province_code", {})[row] = code
        truth.add("invalid_value", [(PARCEL, row)], "province_code", f"unknown province code {code}")
    first = np.searchsorted(rights.parcel, share, side="left")
    stop = np.searchsorted(rights.parcel, share, side="right")
    for lo, hi in zip(first.tolist(), stop.tolist(), strict=True):
        if hi == lo:
            continue  # a parcel nobody holds has no shares to get wrong
        rows = np.arange(lo, hi, dtype=np.int64)
        last = hi - 1
        rights.share[last] = {1: 0.9 if rng.random() < 0.5 else 0.5, 2: 0.6, 3: 0.3333, 4: 0.3}[hi - lo]
        right_picker.block(rows)
        total = round(float(rights.share[rows].sum()), 4)
        for row in rows.tolist():
            truth.add("invalid_value", [(RIGHT, row)], "share", f"shares of parcel sum to {total}")

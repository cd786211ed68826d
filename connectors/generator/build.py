"""Builds the four sources in memory, in dependency order, and their ground truth.

Proportions per 1,000 people (the population is the only input):

    households              about 290  (mean size 3.5)
    deceased citizens       about 30
    insured persons         about 545  (working-age people insured four times in five)
    contributions           about 2.9 per insured person (about 1,560)
    enterprises             40         (each with a living adult representative)
    parcels                 300
    land rights             about 355  (one holder mostly, couples and heirs share)
    duplicate records       defect_rate x the above (citizens, insured persons, enterprises)

Order matters: population defects come first (invalid and duplicate citizen records may then be left out
when the other sources pick people), then enterprises (insurance employs and land is held by valid
businesses only), then insurance, contributions and land. Each stage draws from its own random stream
(``SeedSequence.spawn``), so the same seed gives the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from connectors.generator import enterprise_defects, insurance_defects, land_defects, population_defects
from connectors.generator.defects import Picker
from connectors.generator.enterprises import build_enterprises
from connectors.generator.ids import IdPool
from connectors.generator.insurance import build_contributions, build_insured
from connectors.generator.land import build_parcels, build_rights
from connectors.generator.people import build_population
from connectors.generator.tables import (
    TableData,
    citizen_table,
    contribution_table,
    enterprise_table,
    insured_table,
    parcel_ids,
    parcel_table,
    right_table,
)
from connectors.generator.truth import CITIZEN, CONTRIBUTION, ENTERPRISE, INSURED, PARCEL, RIGHT, GroundTruth

ENTERPRISES_PER_1000 = 40
PARCELS_PER_1000 = 300
STEPS = ("population", "population defects", "enterprises", "insurance", "contributions", "land", "tables")


@dataclass
class World:
    tables: dict[str, list[TableData]]  # by source, in writing order (referenced tables first)
    truth_json: str
    defects: dict[str, int]


def build_world(*, people: int, seed: int, rate: float, progress: Callable[[str, int, int], None]) -> World:
    rng = iter(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(16))
    cid_pool, hh_pool, code_pool, insurance_pool = IdPool(), IdPool(), IdPool(), IdPool()
    truth = GroundTruth()

    def step(name: str) -> None:
        progress("generate", STEPS.index(name), len(STEPS))

    step("population")
    pop = build_population(next(rng), people, cid_pool, hh_pool)
    step("population defects")
    picker = Picker(next(rng), np.ones(pop.n, dtype=bool))
    population_defects.inject_invalid(next(rng), pop, picker, truth, rate, cid_pool)
    population_defects.inject_duplicates(next(rng), pop, picker, truth, rate, cid_pool)
    step("enterprises")
    firms = build_enterprises(next(rng), pop, round(people * ENTERPRISES_PER_1000 / 1000), code_pool)
    enterprise_defects.inject(next(rng), pop, firms, truth, rate, code_pool, cid_pool)
    step("insurance")
    ins = build_insured(next(rng), pop, insurance_pool)
    insurance_defects.inject_insured(next(rng), pop, ins, truth, rate, insurance_pool, cid_pool)
    step("contributions")
    paid = build_contributions(next(rng), pop, ins, firms)
    insurance_defects.inject_contributions(next(rng), pop, ins, paid, firms, truth, rate, code_pool)
    step("land")
    parcels = build_parcels(next(rng), round(people * PARCELS_PER_1000 / 1000))
    rights = build_rights(next(rng), pop, parcels, firms)
    land_defects.inject(next(rng), pop, firms, parcels, rights, truth, rate, cid_pool, code_pool)
    step("tables")
    ids = parcel_ids(parcels)
    keys: dict[str, Callable[[int], str]] = {
        CITIZEN: lambda i: f"{int(pop.cid[i]):012d}",
        INSURED: lambda i: f"{int(ins.insurance_id[i]):010d}",
        CONTRIBUTION: lambda i: str(i + 1),
        PARCEL: lambda i: ids[i],
        RIGHT: lambda i: str(i + 1),
        ENTERPRISE: lambda i: f"{int(firms.code[i]):010d}",
    }
    tables = {
        "population": [citizen_table(pop)],
        "insurance": [insured_table(pop, ins), contribution_table(ins, paid, firms)],
        "land": [parcel_table(parcels, ids), right_table(pop, firms, rights, ids)],
        "enterprise": [enterprise_table(pop, firms)],
    }
    world = World(tables, truth.to_json(keys), truth.counts())
    progress("generate", len(STEPS), len(STEPS))
    return world

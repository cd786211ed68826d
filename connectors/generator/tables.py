"""The six contract tables as the writer sees them: columns in DDL order, produced one chunk at a time.

Nothing is turned into Python strings until its chunk is written, which keeps a million citizens to a
few hundred megabytes. Rows go out in primary-key order (the B-tree of the key then grows at its right
edge, several times faster than random inserts). Values are what both backends accept: ISO dates,
'YYYY-MM-DD HH:MM:SS.ffffff' timestamps (SQLAlchemy's own SQLite format), floats for NUMERIC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from connectors.generator import dates, firm_names
from connectors.generator.enterprises import STATUSES, Enterprises
from connectors.generator.ethnicity import ETHNICITIES
from connectors.generator.ids import fmt
from connectors.generator.insurance import Contributions, Insured
from connectors.generator.land import SERIES, USES, Parcels, Rights
from connectors.generator.names import compose
from connectors.generator.people import Population
from connectors.generator.places import geography

IntArray = npt.NDArray[np.int64]
Column = Callable[[IntArray], list[Any]]
_SEX = np.array(["M", "F"], dtype=object)


@dataclass
class TableData:
    source: str
    name: str
    n: int
    columns: Sequence[tuple[str, Column]]
    order: IntArray | None = None  # write order; None means as stored
    overrides: dict[str, dict[int, object]] | None = None

    @property
    def qualified(self) -> str:
        return f"{self.source}.{self.name}"

    def chunks(self, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in write order, ``size`` at a time, overrides applied."""
        for start in range(0, self.n, size):
            stop = min(self.n, start + size)
            idx = self.order[start:stop] if self.order is not None else np.arange(start, stop, dtype=np.int64)
            values = []
            for name, make in self.columns:
                column = make(idx)
                changed = (self.overrides or {}).get(name)
                if changed:
                    for pos, i in enumerate(idx.tolist()):
                        if i in changed:
                            column[pos] = changed[i]
                values.append(column)
            yield list(zip(*values, strict=True))


def _lookup(table: Sequence[str], codes: IntArray) -> Column:
    array = np.array(table, dtype=object)
    return lambda idx: array[codes[idx]].tolist()


def _ints(values: IntArray) -> Column:
    return lambda idx: values[idx].tolist()


def _timestamps(values: npt.NDArray[np.datetime64]) -> Column:
    return lambda idx: [t.replace("T", " ") + ".000000" for t in np.datetime_as_string(values[idx], unit="s").tolist()]


def citizen_table(pop: Population) -> TableData:
    codes = geography().codes
    hh = pop.households
    household = np.where(pop.household >= 0, hh.hh_id[np.maximum(pop.household, 0)], -1)
    return TableData(
        "population",
        "citizen",
        pop.n,
        [
            ("citizen_id", lambda idx: fmt(pop.cid[idx], 12)),
            ("full_name", lambda idx: compose(pop.surname[idx], pop.middle[idx], pop.given[idx])),  # + overrides
            ("date_of_birth", lambda idx: dates.iso(pop.dob[idx])),
            ("sex", _lookup(("M", "F"), pop.sex)),
            ("ethnicity", _lookup(ETHNICITIES, pop.ethnicity)),
            ("birth_province", _lookup(codes, pop.birth_province)),
            ("province_code", _lookup(codes, pop.province)),
            ("address", lambda idx: [hh.address[h] for h in pop.home[idx].tolist()]),
            ("household_id", lambda idx: fmt(household[idx], 12)),
            ("status", _lookup(("alive", "deceased"), pop.deceased.astype(np.int64))),
            ("date_of_death", lambda idx: dates.iso(pop.dod[idx])),
            ("updated_at", _timestamps(pop.updated)),
        ],
        order=np.argsort(pop.cid, kind="stable"),
        overrides=pop.overrides,
    )


def insured_table(pop: Population, ins: Insured) -> TableData:
    person = ins.person
    cid = np.where(ins.linked, pop.cid[person], -1)
    return TableData(
        "insurance",
        "insured_person",
        ins.n,
        [
            ("insurance_id", lambda idx: fmt(ins.insurance_id[idx], 10)),
            ("citizen_id", lambda idx: fmt(cid[idx], 12)),
            ("full_name", lambda idx: pop.names(person[idx])),
            ("date_of_birth", lambda idx: dates.iso(pop.dob[person[idx]])),
            ("sex", lambda idx: _SEX[pop.sex[person[idx]]].tolist()),
            ("province_code", _lookup(geography().codes, ins.province)),
            ("registered_on", lambda idx: dates.iso(ins.registered[idx])),
        ],
        order=np.argsort(ins.insurance_id, kind="stable"),
        overrides=ins.overrides,
    )


def contribution_table(ins: Insured, paid: Contributions, firms: Enterprises) -> TableData:
    insurance_id = ins.insurance_id[paid.insured]
    employer = np.where(paid.employer >= 0, firms.code[np.maximum(paid.employer, 0)], -1) if firms.n else paid.employer
    return TableData(
        "insurance",
        "contribution",
        paid.n,
        [
            ("contribution_id", lambda idx: (idx + 1).tolist()),
            ("insurance_id", lambda idx: fmt(insurance_id[idx], 10)),
            ("employer_code", lambda idx: fmt(employer[idx], 10)),
            ("period", lambda idx: dates.periods(paid.month[idx])),
            ("salary_base", _ints(paid.salary)),
            ("amount", _ints(paid.amount)),
        ],
        overrides=paid.overrides,
    )


def parcel_ids(parcels: Parcels) -> list[str]:
    geo = geography()
    codes = np.array(geo.codes, dtype=object)[parcels.province].tolist()
    wards = geo.ward_code[parcels.ward].tolist()
    return [
        f"{c}-{w:05d}-{s}-{n}"
        for c, w, s, n in zip(codes, wards, parcels.sheet.tolist(), parcels.number.tolist(), strict=True)
    ]


def parcel_table(parcels: Parcels, ids: list[str]) -> TableData:
    geo = geography()
    id_array = np.array(ids, dtype=object)
    return TableData(
        "land",
        "parcel",
        parcels.n,
        [
            ("parcel_id", lambda idx: id_array[idx].tolist()),
            ("province_code", _lookup(geo.codes, parcels.province)),
            ("ward_code", lambda idx: fmt(geo.ward_code[parcels.ward[idx]], 5)),
            ("map_sheet", _ints(parcels.sheet)),
            ("parcel_no", _ints(parcels.number)),
            ("area_m2", lambda idx: parcels.area[idx].tolist()),
            ("land_use", _lookup(USES, parcels.use)),
            ("address", lambda idx: [parcels.address[i] for i in idx.tolist()]),
        ],
        order=np.argsort(id_array, kind="stable"),
        overrides=parcels.overrides,
    )


def right_table(pop: Population, firms: Enterprises, rights: Rights, ids: list[str]) -> TableData:
    id_array = np.array(ids, dtype=object)
    firm_code = firms.code if firms.n else np.zeros(1, dtype=np.int64)

    def holder_id(idx: IntArray) -> list[Any]:
        holder, firm = rights.holder[idx], rights.enterprise[idx]
        people = fmt(pop.cid[np.where(firm, 0, holder)], 12)
        businesses = fmt(firm_code[np.where(firm, holder, 0)], 10)
        return [b if f else p for p, b, f in zip(people, businesses, firm.tolist(), strict=True)]

    def holder_name(idx: IntArray) -> list[Any]:
        holder, firm = rights.holder[idx], rights.enterprise[idx]
        people = pop.names(np.where(firm, 0, holder))
        return [firms.name[h] if f else p for p, h, f in zip(people, holder.tolist(), firm.tolist(), strict=True)]

    series = np.array(SERIES, dtype=object)
    return TableData(
        "land",
        "land_right",
        rights.n,
        [
            ("right_id", lambda idx: (idx + 1).tolist()),
            ("parcel_id", lambda idx: id_array[rights.parcel[idx]].tolist()),
            (
                "certificate_no",
                lambda idx: [
                    f"{s} {n % 1_000_000:05d}"
                    for s, n in zip(
                        series[rights.certificate[idx] // 1_000_000].tolist(),
                        rights.certificate[idx].tolist(),
                        strict=True,
                    )
                ],
            ),
            ("holder_kind", _lookup(("citizen", "enterprise"), rights.enterprise.astype(np.int64))),
            ("holder_id", holder_id),
            ("holder_name", holder_name),
            ("share", lambda idx: np.round(rights.share[idx], 4).tolist()),
            ("issued_on", lambda idx: dates.iso(rights.issued[idx])),
        ],
        overrides=rights.overrides,
    )


def enterprise_table(pop: Population, firms: Enterprises) -> TableData:
    codes = geography().codes
    industry = np.array([code for _, code, _ in firm_names.INDUSTRIES], dtype=object)
    return TableData(
        "enterprise",
        "enterprise",
        firms.n,
        [
            ("enterprise_code", lambda idx: fmt(firms.code[idx], 10)),
            ("name", lambda idx: [firms.name[i] for i in idx.tolist()]),
            ("legal_form", _lookup(firm_names.LEGAL_FORMS, firms.form)),
            ("province_code", _lookup(codes, firms.province)),
            ("address", lambda idx: [firms.address[i] for i in idx.tolist()]),
            ("industry_code", lambda idx: industry[firms.industry[idx]].tolist()),
            ("charter_capital", _ints(firms.capital)),
            ("legal_rep_id", lambda idx: fmt(pop.cid[firms.rep[idx]], 12)),
            ("legal_rep_name", lambda idx: pop.names(firms.rep[idx])),
            ("registered_on", lambda idx: dates.iso(firms.registered[idx])),
            ("status", _lookup(STATUSES, firms.status)),
        ],
        order=np.argsort(firms.code, kind="stable"),
        overrides=firms.overrides,
    )

"""What NDX publishes as open data, read from the sources: the enterprise register without its personal fields,
and three aggregates (population by province, sex and age band; enterprises by province and industry; land by
province and land use) whose small cells are suppressed (``suppression``).

Each published dataset is a ``Spec``: its catalog description and how to produce its rows from the source
(a generator: rows are streamed from a server-side cursor for the register, and come from a small suppressed
table for the aggregates). Nothing here writes; ``publish`` materialises the rows into files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.engine import Connection

from catalog.opendata.suppression import TOTAL, Table, make_table, suppress
from connectors import schema

AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("00-14", 0, 15),
    ("15-24", 15, 25),
    ("25-34", 25, 35),
    ("35-44", 35, 45),
    ("45-54", 45, 55),
    ("55-64", 55, 65),
    ("65+", 65, None),
)
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    vi: str
    en: str


@dataclass(frozen=True)
class Spec:
    """One published open dataset: its description, its columns, and how to read its rows from its source."""

    name: str
    source: str
    kind: str  # "register" (rows of a source table) or "aggregate" (suppressed counts with margins)
    title_vi: str
    title_en: str
    notes_vi: str
    notes_en: str
    columns: tuple[Column, ...]
    rows: Callable[[Connection, int, date], Iterator[Row]]
    tags: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    count_column: str | None = None  # the column of counts an aggregate suppresses
    chart: dict[str, str] = field(default_factory=dict)  # how the pages chart an aggregate


# -- the register ------------------------------------------------------------------------------------------------

ENTERPRISE_COLUMNS = (
    Column("enterprise_code", "CHAR(10)", "Mã số doanh nghiệp (mã số thuế)", "Enterprise code (tax code)"),
    Column("name", "VARCHAR(255)", "Tên doanh nghiệp", "Enterprise name"),
    Column("legal_form", "VARCHAR(10)", "Loại hình doanh nghiệp", "Legal form"),
    Column("province_code", "CHAR(2)", "Mã tỉnh trụ sở chính", "Province code of the head office"),
    Column("address", "VARCHAR(200)", "Địa chỉ trụ sở chính", "Head office address"),
    Column("industry_code", "CHAR(4)", "Mã ngành kinh tế chính (VSIC 2018)", "Main industry (VSIC 2018)"),
    Column("charter_capital", "BIGINT", "Vốn điều lệ (đồng)", "Charter capital (VND)"),
    Column("registered_on", "DATE", "Ngày đăng ký thành lập", "Date of registration"),
    Column("status", "VARCHAR(12)", "Tình trạng", "Status (active, suspended, dissolved)"),
)
STREAM_BATCH = 5000


def enterprise_rows(conn: Connection, _k: int, _today: date) -> Iterator[Row]:
    """Every enterprise, by code, without its legal representative (a person); streamed, never all in memory."""
    e = schema.enterprise_table.c
    stmt = select(*(e[c.name] for c in ENTERPRISE_COLUMNS)).order_by(e.enterprise_code)
    result = conn.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(stmt)
    for row in result:
        yield tuple(row)


# -- aggregates --------------------------------------------------------------------------------------------------


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age_band(dob: Any, today: date) -> Any:
    """A CASE giving the age band of a date of birth on ``today`` (bound dates: portable SQL)."""
    whens = [(dob > years_before(today, upper), literal(band)) for band, _, upper in AGE_BANDS if upper is not None]
    return case(*whens, else_=literal(AGE_BANDS[-1][0]))


def aggregate_rows(
    table: Table, k: int, col_names: int, measures: Callable[[Any, Any], tuple[Any, ...]] | None = None
) -> Iterator[Row]:
    """The rows of a suppressed table: cells, then row totals, column totals and the grand total. A row is
    (row key, *column key parts, count or None, *extra measures or None, suppressed)."""
    suppress(table, k)

    def key(c: Any) -> tuple[Any, ...]:
        return (c,) if col_names == 1 else tuple(c)

    total_key = (TOTAL,) * col_names

    def emit(r: Any, c: Any, ck: tuple[Any, ...]) -> Row:
        shown = table.published(r, c)
        extra = measures(r, c) if measures else ()
        if shown is None:
            extra = tuple(None for _ in extra)
        return (r, *ck, shown, *extra, shown is None)

    for r in table.rows:
        for c in table.cols:
            yield emit(r, c, key(c))
    for r in table.rows:
        yield emit(r, TOTAL, total_key)
    for c in table.cols:
        yield emit(TOTAL, c, key(c))
    yield emit(TOTAL, TOTAL, total_key)


def population_table(conn: Connection, today: date) -> Table:
    c = schema.citizen.c
    band = _age_band(c.date_of_birth, today).label("band")
    stmt = (
        select(c.province_code, c.sex, band, func.count())
        .where(c.status == "alive")
        .group_by(c.province_code, c.sex, band)
    )
    counts: dict[tuple[str, tuple[str, str]], int] = {}
    for province, sex, age, n in conn.execute(stmt):
        counts[(str(province), (str(sex), str(age)))] = int(n)
    cols = [(sex, band) for sex in ("F", "M") for band, _, _ in AGE_BANDS]
    cols += sorted({col for _, col in counts} - set(cols))
    return make_table({r for r, _ in counts}, cols, counts)


def population_rows(conn: Connection, k: int, today: date) -> Iterator[Row]:
    yield from aggregate_rows(population_table(conn, today), k, 2)


def enterprise_table(conn: Connection) -> Table:
    e = schema.enterprise_table.c
    division = func.substr(e.industry_code, 1, 2).label("division")
    stmt = (
        select(e.province_code, division, func.count()).where(e.status == "active").group_by(e.province_code, division)
    )
    counts = {(str(p), str(d)): int(n) for p, d, n in conn.execute(stmt)}
    return make_table({r for r, _ in counts}, {c for _, c in counts}, counts)


def enterprise_agg_rows(conn: Connection, k: int, _today: date) -> Iterator[Row]:
    yield from aggregate_rows(enterprise_table(conn), k, 1)


def land_table(conn: Connection) -> tuple[Table, dict[tuple[str, str], float]]:
    p = schema.parcel.c
    stmt = select(p.province_code, p.land_use, func.count(), func.sum(p.area_m2)).group_by(p.province_code, p.land_use)
    counts: dict[tuple[str, str], int] = {}
    areas: dict[tuple[str, str], float] = {}
    for province, use, n, area in conn.execute(stmt):
        counts[(str(province), str(use))] = int(n)
        areas[(str(province), str(use))] = float(area or 0)
    return make_table({r for r, _ in counts}, {c for _, c in counts}, counts), areas


def land_rows(conn: Connection, k: int, _today: date) -> Iterator[Row]:
    table, areas = land_table(conn)

    def area(r: Any, c: Any) -> tuple[Any, ...]:
        keys = [(a, b) for (a, b) in areas if (r in (TOTAL, a)) and (c in (TOTAL, b))]
        return (round(sum(areas[x] for x in keys) / 10_000, 4),)

    yield from aggregate_rows(table, k, 1, area)


SUPPRESSED = Column(
    "suppressed",
    "BOOLEAN",
    "true: số liệu bị ẩn vì ô quá nhỏ (hoặc để không suy ra được ô nhỏ từ tổng)",
    "true: value hidden because the cell is small (or so a small cell cannot be derived from totals)",
)
PROVINCE = Column("province_code", "CHAR(2)", "Mã tỉnh (TOTAL: cả nước)", "Province code (TOTAL: whole country)")
AGG_NOTE_VI = (
    " Các ô nhỏ hơn ngưỡng tối thiểu bị ẩn, cùng với các ô cần thiết để không thể suy ra chúng từ các dòng tổng "
    "(TOTAL)."
)
AGG_NOTE_EN = (
    " Cells below the minimum size are hidden, with the cells needed so that they cannot be derived from the total "
    "rows (TOTAL)."
)

SPECS: tuple[Spec, ...] = (
    Spec(
        name="open-enterprise-register",
        source="enterprise",
        kind="register",
        title_vi="Danh bạ doanh nghiệp (dữ liệu mở)",
        title_en="Enterprise register (open data)",
        notes_vi="Các doanh nghiệp đã đăng ký: mã số, tên, loại hình, tỉnh, địa chỉ, ngành, vốn điều lệ, ngày đăng ký "
        "và tình trạng. Không có thông tin về người đại diện theo pháp luật.",
        notes_en="Registered enterprises: code, name, legal form, province, address, industry, charter capital, "
        "date of registration and status. Nothing about the legal representative.",
        columns=ENTERPRISE_COLUMNS,
        rows=enterprise_rows,
        tags=("doanh nghiệp", "dữ liệu mở", "enterprise", "open data"),
        themes=("ECON",),
    ),
    Spec(
        name="open-population-by-province-sex-age",
        source="population",
        kind="aggregate",
        title_vi="Dân số theo tỉnh, giới tính và nhóm tuổi",
        title_en="Population by province, sex and age band",
        notes_vi="Số công dân còn sống theo tỉnh thường trú, giới tính và nhóm tuổi." + AGG_NOTE_VI,
        notes_en="Living citizens by province of residence, sex and age band." + AGG_NOTE_EN,
        columns=(
            PROVINCE,
            Column("sex", "CHAR(5)", "Giới tính (F, M; TOTAL: cả hai)", "Sex (F, M; TOTAL: both)"),
            Column("age_band", "VARCHAR(5)", "Nhóm tuổi (TOTAL: mọi lứa tuổi)", "Age band (TOTAL: all ages)"),
            Column("population", "INTEGER", "Số người", "Number of people"),
            SUPPRESSED,
        ),
        rows=population_rows,
        tags=("dân số", "thống kê", "dữ liệu mở", "population", "statistics", "open data"),
        themes=("SOCI", "REGI"),
        count_column="population",
        chart={"group": "age_band", "value": "population", "filter_province": TOTAL, "split": "sex"},
    ),
    Spec(
        name="open-enterprises-by-province-industry",
        source="enterprise",
        kind="aggregate",
        title_vi="Số doanh nghiệp đang hoạt động theo tỉnh và ngành",
        title_en="Active enterprises by province and industry",
        notes_vi="Số doanh nghiệp đang hoạt động theo tỉnh trụ sở và ngành cấp 2 (VSIC 2018)." + AGG_NOTE_VI,
        notes_en="Active enterprises by province of the head office and industry division (VSIC 2018)." + AGG_NOTE_EN,
        columns=(
            PROVINCE,
            Column("industry_division", "CHAR(5)", "Ngành cấp 2 VSIC (TOTAL: mọi ngành)", "VSIC division (TOTAL: all)"),
            Column("enterprises", "INTEGER", "Số doanh nghiệp", "Number of enterprises"),
            SUPPRESSED,
        ),
        rows=enterprise_agg_rows,
        tags=("doanh nghiệp", "thống kê", "dữ liệu mở", "enterprise", "statistics", "open data"),
        themes=("ECON", "REGI"),
        count_column="enterprises",
        chart={"group": "industry_division", "value": "enterprises", "filter_province": TOTAL},
    ),
    Spec(
        name="open-land-by-province-use",
        source="land",
        kind="aggregate",
        title_vi="Diện tích đất theo tỉnh và mục đích sử dụng",
        title_en="Land area by province and land use",
        notes_vi="Số thửa và tổng diện tích (ha) theo tỉnh và loại đất." + AGG_NOTE_VI,
        notes_en="Parcels and total area (ha) by province and land use." + AGG_NOTE_EN,
        columns=(
            PROVINCE,
            Column("land_use", "VARCHAR(5)", "Loại đất (ODT, ONT, LUC, ...; TOTAL: mọi loại)", "Land use (TOTAL: all)"),
            Column("parcels", "INTEGER", "Số thửa đất", "Number of parcels"),
            Column("area_ha", "NUMERIC", "Tổng diện tích (ha)", "Total area (ha)"),
            SUPPRESSED,
        ),
        rows=land_rows,
        tags=("đất đai", "thống kê", "dữ liệu mở", "land", "statistics", "open data"),
        themes=("ENVI", "REGI"),
        count_column="parcels",
        chart={"group": "land_use", "value": "area_ha", "filter_province": TOTAL},
    ),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}


def spec_names() -> Sequence[str]:
    return [s.name for s in SPECS]

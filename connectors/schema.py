"""The four source databases' tables exactly as the contract in shared/SOURCES.md lays them out.

Each source has its own MetaData: they live in different databases owned by different agencies. These
tables are used to compile queries and, by the generator only, to create databases; the platform never
requires more than these tables and columns.
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)

population = MetaData()
insurance = MetaData()
land = MetaData()
enterprise = MetaData()

citizen = Table(
    "citizen",
    population,
    Column("citizen_id", CHAR(12), primary_key=True),
    Column("full_name", String(100), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("sex", CHAR(1), nullable=False),
    Column("ethnicity", String(30), nullable=False),
    Column("birth_province", CHAR(2), nullable=False),
    Column("province_code", CHAR(2), nullable=False),
    Column("address", String(200), nullable=False),
    Column("household_id", CHAR(12)),
    Column("status", String(10), nullable=False),
    Column("date_of_death", Date),
    Column("updated_at", DateTime, nullable=False),
)

insured_person = Table(
    "insured_person",
    insurance,
    Column("insurance_id", CHAR(10), primary_key=True),
    Column("citizen_id", CHAR(12)),
    Column("full_name", String(100), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("sex", CHAR(1), nullable=False),
    Column("province_code", CHAR(2), nullable=False),
    Column("registered_on", Date, nullable=False),
)

contribution = Table(
    "contribution",
    insurance,
    Column("contribution_id", Integer, primary_key=True, autoincrement=False),
    Column("insurance_id", CHAR(10), ForeignKey("insured_person.insurance_id"), nullable=False),
    Column("employer_code", CHAR(10)),
    Column("period", CHAR(7), nullable=False),
    Column("salary_base", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
)

parcel = Table(
    "parcel",
    land,
    Column("parcel_id", String(24), primary_key=True),
    Column("province_code", CHAR(2), nullable=False),
    Column("ward_code", CHAR(5), nullable=False),
    Column("map_sheet", Integer, nullable=False),
    Column("parcel_no", Integer, nullable=False),
    Column("area_m2", Numeric(12, 1, asdecimal=False), nullable=False),
    Column("land_use", String(3), nullable=False),
    Column("address", String(200), nullable=False),
)

land_right = Table(
    "land_right",
    land,
    Column("right_id", Integer, primary_key=True, autoincrement=False),
    Column("parcel_id", String(24), ForeignKey("parcel.parcel_id"), nullable=False),
    Column("certificate_no", String(12), nullable=False),
    Column("holder_kind", String(10), nullable=False),
    Column("holder_id", String(12), nullable=False),
    Column("holder_name", String(255), nullable=False),
    Column("share", Numeric(5, 4, asdecimal=False), nullable=False),
    Column("issued_on", Date, nullable=False),
)

enterprise_table = Table(
    "enterprise",
    enterprise,
    Column("enterprise_code", CHAR(10), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("legal_form", String(10), nullable=False),
    Column("province_code", CHAR(2), nullable=False),
    Column("address", String(200), nullable=False),
    Column("industry_code", CHAR(4), nullable=False),
    Column("charter_capital", BigInteger, nullable=False),
    Column("legal_rep_id", CHAR(12), nullable=False),
    Column("legal_rep_name", String(100), nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("status", String(12), nullable=False),
)

SOURCES: dict[str, MetaData] = {
    "population": population,
    "insurance": insurance,
    "land": land,
    "enterprise": enterprise,
}


def table(source: str, name: str) -> Table:
    """The contract table ``name`` of ``source``; KeyError if the contract has no such table."""
    return SOURCES[source].tables[name]


def qualified(source: str, name: str) -> str:
    """A record's table as findings name it: ``population.citizen``."""
    return f"{source}.{name}"

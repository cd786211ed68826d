"""Linkage features of the staged tables, built in DuckDB: one row per record, normalised for comparison.

Name normalisation runs in Python (``quality.duplicates.normalise``) once per distinct spelling, not per
record, and joins back; everything else is SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quality.duplicates.normalise import address_key, enterprise_name, person_name

if TYPE_CHECKING:
    import duckdb


def _to_table(duck: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list[str]]) -> None:
    import pyarrow as pa

    arrow = pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()})
    duck.register(f"{name}_arrow", arrow)
    duck.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")  # noqa: S608 (identifiers are module constants)
    duck.unregister(f"{name}_arrow")


def _person_names(duck: duckdb.DuckDBPyConnection, query: str, table: str) -> None:
    raws = [r[0] for r in duck.execute(query).fetchall()]
    parts = [person_name(raw) for raw in raws]
    columns = {
        "raw": raws,
        "name_key": [p.key for p in parts],
        "name_fold": [p.folded for p in parts],
        "family": [p.family for p in parts],
        "middle": [p.middle for p in parts],
        "given": [p.given for p in parts],
        "given_key": [p.given_key for p in parts],
        "family_middle_key": [p.key.rsplit(" ", 1)[0] if " " in p.key else "" for p in parts],
        "given_typed": [p.given_typed for p in parts],
        "family_middle_typed": [p.family_middle_typed for p in parts],
    }
    _to_table(duck, table, columns)


def _addresses(duck: duckdb.DuckDBPyConnection, query: str, table: str) -> None:
    raws = [r[0] for r in duck.execute(query).fetchall()]
    _to_table(duck, table, {"raw": raws, "address_key": [address_key(a) for a in raws]})


_DOB = """
    p.date_of_birth AS dob,
    CAST(year(p.date_of_birth) AS VARCHAR) AS dob_year,
    CAST(least(month(p.date_of_birth), day(p.date_of_birth)) * 100
         + greatest(month(p.date_of_birth), day(p.date_of_birth)) AS VARCHAR) AS dob_md
"""


def citizen_features(duck: duckdb.DuckDBPyConnection) -> str:
    _person_names(duck, "SELECT DISTINCT full_name FROM population_citizen WHERE full_name IS NOT NULL", "nm_cit")
    _addresses(duck, "SELECT DISTINCT address FROM population_citizen WHERE address IS NOT NULL", "ad_cit")
    duck.execute(
        f"""
        CREATE OR REPLACE TABLE dup_citizen AS
        SELECT p.citizen_id AS unique_id, n.name_key, n.name_fold, n.family, n.middle,
               trim(n.family || ' ' || n.middle) AS family_middle, n.family_middle_key, n.given, n.given_key,
               n.given_typed, n.family_middle_typed,
               {_DOB}, p.sex, p.birth_province, p.province_code, a.address_key, p.household_id
        FROM population_citizen p
        LEFT JOIN nm_cit n ON n.raw = p.full_name
        LEFT JOIN ad_cit a ON a.raw = p.address
        """  # noqa: S608 (identifiers are module constants)
    )
    return "dup_citizen"


def insured_features(duck: duckdb.DuckDBPyConnection) -> str:
    _person_names(duck, "SELECT DISTINCT full_name FROM insurance_insured_person WHERE full_name IS NOT NULL", "nm_ins")
    if not duck.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'nm_cit'").fetchall()[0][0]:
        _person_names(duck, "SELECT DISTINCT full_name FROM population_citizen WHERE full_name IS NOT NULL", "nm_cit")
    # The one citizen an unlinked record's exact name and birth date point at, if exactly one does: two
    # records that point at two different citizens are two people.
    duck.execute(
        """
        CREATE OR REPLACE TABLE cit_by_name_dob AS
        SELECT n.name_key, p.date_of_birth, min(p.citizen_id) AS citizen_id
        FROM population_citizen p JOIN nm_cit n ON n.raw = p.full_name
        GROUP BY n.name_key, p.date_of_birth HAVING count(*) = 1
        """
    )
    duck.execute(
        f"""
        CREATE OR REPLACE TABLE dup_insured AS
        SELECT p.insurance_id AS unique_id, n.name_key, n.name_fold, n.family, n.middle,
               trim(n.family || ' ' || n.middle) AS family_middle, n.family_middle_key, n.given, n.given_key,
               n.given_typed, n.family_middle_typed,
               {_DOB}, p.sex, p.province_code, p.citizen_id,
               coalesce(p.citizen_id, c.citizen_id) AS person_id
        FROM insurance_insured_person p
        LEFT JOIN nm_ins n ON n.raw = p.full_name
        LEFT JOIN cit_by_name_dob c ON p.citizen_id IS NULL AND c.name_key = n.name_key
             AND c.date_of_birth = p.date_of_birth
        """  # noqa: S608 (identifiers are module constants)
    )
    return "dup_insured"


def enterprise_features(duck: duckdb.DuckDBPyConnection) -> str:
    raws = [r[0] for r in duck.execute("SELECT DISTINCT name FROM enterprise_enterprise").fetchall() if r[0]]
    names = [enterprise_name(raw) for raw in raws]
    _to_table(
        duck,
        "nm_ent",
        {
            "raw": raws,
            "name_full": [n.full for n in names],
            "name_core": [n.core for n in names],
            "name_trade": [n.trade for n in names],
        },
    )
    _addresses(duck, "SELECT DISTINCT address FROM enterprise_enterprise WHERE address IS NOT NULL", "ad_ent")
    duck.execute(
        """
        CREATE OR REPLACE TABLE dup_enterprise AS
        SELECT e.enterprise_code AS unique_id, n.name_full, n.name_core, n.name_trade, e.legal_form,
               e.province_code, a.address_key, e.industry_code, e.legal_rep_id
        FROM enterprise_enterprise e
        LEFT JOIN nm_ent n ON n.raw = e.name
        LEFT JOIN ad_ent a ON a.raw = e.address
        """
    )
    return "dup_enterprise"

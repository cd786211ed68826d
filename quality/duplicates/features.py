"""Linkage features of the staged tables, built in DuckDB: one row per record, normalised for comparison.

Name normalisation runs in Python (``quality.duplicates.normalise``) once per distinct spelling, not per
record, and joins back; everything else is SQL.

An insurance record is also resolved to the one citizen it most likely is (``person_id``): its own
citizen_id when it carries one, else, for a legacy record without it, the citizen of the same sex and date
of birth (or the same year with day and month swapped) whose name is the best match: the same spelling,
else the same letters without diacritics, else one keying slip away (not with a swapped birthday as well:
two differences at once make another person). Only a best match that is unique counts: two candidates
at the best level (twins named Hùng and Hưng written without diacritics, namesakes) resolve to nobody.
This is how an insurance office reconciles a legacy record with the population register by hand.
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
        "name_typed": [f"{p.family_middle_typed} {p.given_typed}".strip() for p in parts],
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
    _resolve_unlinked(duck)
    duck.execute(
        f"""
        CREATE OR REPLACE TABLE dup_insured AS
        SELECT p.insurance_id AS unique_id, n.name_key, n.name_fold, n.family, n.middle,
               trim(n.family || ' ' || n.middle) AS family_middle, n.family_middle_key, n.given, n.given_key,
               n.given_typed, n.family_middle_typed,
               {_DOB}, p.sex, p.province_code, p.citizen_id,
               coalesce(p.citizen_id, r.citizen_id) AS person_id
        FROM insurance_insured_person p
        LEFT JOIN nm_ins n ON n.raw = p.full_name
        LEFT JOIN ins_resolved r ON r.insurance_id = p.insurance_id
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


def _resolve_unlinked(duck: duckdb.DuckDBPyConnection) -> None:
    """``ins_resolved(insurance_id, citizen_id)``: each insurance record without a citizen_id and the one
    citizen it is, when a unique best match exists (see the module docstring)."""
    duck.execute(
        """
        CREATE OR REPLACE TABLE ins_resolved AS
        WITH u AS (
            SELECT p.insurance_id, p.date_of_birth, p.sex, n.name_key, n.name_fold, n.name_typed,
                   year(p.date_of_birth) AS y,
                   least(month(p.date_of_birth), day(p.date_of_birth)) * 100
                     + greatest(month(p.date_of_birth), day(p.date_of_birth)) AS md
            FROM insurance_insured_person p JOIN nm_ins n ON n.raw = p.full_name
            WHERE p.citizen_id IS NULL AND p.date_of_birth IS NOT NULL
        ), c AS (
            SELECT p.citizen_id, p.date_of_birth, p.sex, n.name_key, n.name_fold, n.name_typed,
                   year(p.date_of_birth) AS y,
                   least(month(p.date_of_birth), day(p.date_of_birth)) * 100
                     + greatest(month(p.date_of_birth), day(p.date_of_birth)) AS md
            FROM population_citizen p JOIN nm_cit n ON n.raw = p.full_name
            WHERE p.date_of_birth IS NOT NULL
        ), candidates AS (
            SELECT u.insurance_id, c.citizen_id,
                   CASE WHEN u.name_key = c.name_key THEN 1
                        WHEN u.name_fold = c.name_fold THEN 2
                        WHEN damerau_levenshtein(u.name_typed, c.name_typed) <= 1
                          OR damerau_levenshtein(u.name_fold, c.name_fold) <= 1 THEN 3
                   END + CASE WHEN u.date_of_birth = c.date_of_birth THEN 0 ELSE 3 END AS level
            FROM u JOIN c ON c.y = u.y AND c.md = u.md AND c.sex = u.sex
        ), ranked AS (
            SELECT insurance_id, citizen_id, level,
                   count(*) OVER (PARTITION BY insurance_id, level) AS at_level,
                   min(level) OVER (PARTITION BY insurance_id) AS best
            FROM candidates WHERE level IS NOT NULL AND level < 6  -- a slip AND a swap: two differences
        )
        SELECT insurance_id, citizen_id FROM ranked WHERE level = best AND at_level = 1
        """
    )

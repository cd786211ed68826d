"""Cross-source checks, set-based over the staged tables in DuckDB (see quality.staging).

identity_mismatch, unknown_reference, activity_after_death, and the share-sum rule of invalid_value are
each one join or aggregate; only the few pairs whose names differ byte-wise go through Python, to decide
with ``ndx.textnorm.name_key`` whether they are the same spelling.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ndx.textnorm import name_key
from quality.findings import Finding, record

if TYPE_CHECKING:
    import duckdb

CITIZEN = "population.citizen"

# (flagged table, staged table, key column, citizen-id column, [(column, citizen column)], extra filter)
_IDENTITY_LINKS = (
    (
        "insurance.insured_person",
        "insurance_insured_person",
        "insurance_id",
        "citizen_id",
        (("full_name", "full_name"), ("date_of_birth", "date_of_birth"), ("sex", "sex")),
        "TRUE",
    ),
    (
        "land.land_right",
        "land_land_right",
        "right_id",
        "holder_id",
        (("holder_name", "full_name"),),
        "t.holder_kind = 'citizen'",
    ),
    (
        "enterprise.enterprise",
        "enterprise_enterprise",
        "enterprise_code",
        "legal_rep_id",
        (("legal_rep_name", "full_name"),),
        "TRUE",
    ),
)

NAME_COLUMNS = frozenset({"full_name", "holder_name", "legal_rep_name"})


def identity_mismatch(duck: duckdb.DuckDBPyConnection) -> Iterator[Finding]:
    """A record whose citizen_id exists but whose name, birth date or sex differs from the citizen's."""
    for table, staged, key, link, pairs, where in _IDENTITY_LINKS:
        for column, theirs in pairs:
            rows = duck.execute(
                f"""
                SELECT t.{key}, p.citizen_id, CAST(t.{column} AS VARCHAR), CAST(p.{theirs} AS VARCHAR)
                FROM {staged} t JOIN population_citizen p ON p.citizen_id = t.{link}
                WHERE {where} AND t.{column} IS DISTINCT FROM p.{theirs}
                ORDER BY t.{key}
                """  # noqa: S608 (identifiers are module constants)
            ).fetchall()
            for own_key, citizen_id, ours, population in rows:
                same_spelling = column in NAME_COLUMNS and ours is not None and population is not None
                if same_spelling and name_key(ours) == name_key(population):
                    continue
                yield Finding(
                    "identity_mismatch",
                    (record(table, own_key), record(CITIZEN, citizen_id)),
                    column,
                    1.0,
                    f"{ours!s} here, {population!s} in population",
                    message_vi=f"{ours!s} ở đây, {population!s} trong CSDL dân cư",
                )


# (flagged table, staged table, key, column, referenced staged table, referenced key, filter)
_REFERENCES = (
    (
        "insurance.insured_person",
        "insurance_insured_person",
        "insurance_id",
        "citizen_id",
        "population_citizen",
        "citizen_id",
        "TRUE",
    ),
    (
        "enterprise.enterprise",
        "enterprise_enterprise",
        "enterprise_code",
        "legal_rep_id",
        "population_citizen",
        "citizen_id",
        "TRUE",
    ),
    (
        "land.land_right",
        "land_land_right",
        "right_id",
        "holder_id",
        "population_citizen",
        "citizen_id",
        "t.holder_kind = 'citizen'",
    ),
    (
        "land.land_right",
        "land_land_right",
        "right_id",
        "holder_id",
        "enterprise_enterprise",
        "enterprise_code",
        "t.holder_kind = 'enterprise'",
    ),
    (
        "insurance.contribution",
        "insurance_contribution",
        "contribution_id",
        "employer_code",
        "enterprise_enterprise",
        "enterprise_code",
        "TRUE",
    ),
)


def unknown_reference(duck: duckdb.DuckDBPyConnection) -> Iterator[Finding]:
    """An identifier that points at nothing in the source it names (an anti-join per reference)."""
    for table, staged, key, column, target, target_key, where in _REFERENCES:
        target_name = target.replace("_", ".", 1)
        rows = duck.execute(
            f"""
            SELECT t.{key}, t.{column} FROM {staged} t ANTI JOIN {target} r ON r.{target_key} = t.{column}
            WHERE {where} AND t.{column} IS NOT NULL ORDER BY t.{key}
            """  # noqa: S608 (identifiers are module constants)
        ).fetchall()
        for own_key, value in rows:
            yield Finding(
                "unknown_reference",
                (record(table, own_key),),
                column,
                1.0,
                f"{column} {value} is not in {target_name}",
                message_vi=f"{column} {value} không có trong {target_name}",
            )


def activity_after_death(duck: duckdb.DuckDBPyConnection) -> Iterator[Finding]:
    """Contributions for a month after the person died (and not after today: a period still to come is no
    activity yet); active enterprises whose representative died."""
    rows = duck.execute(
        """
        SELECT c.contribution_id, p.citizen_id, c.period, p.date_of_death
        FROM insurance_contribution c
        JOIN insurance_insured_person i ON i.insurance_id = c.insurance_id
        JOIN population_citizen p ON p.citizen_id = i.citizen_id
        WHERE p.date_of_death IS NOT NULL AND c.period > strftime(p.date_of_death, '%Y-%m')
          AND c.period <= strftime(current_date, '%Y-%m')
        ORDER BY c.contribution_id
        """
    ).fetchall()
    for contribution_id, citizen_id, period, died in rows:
        yield Finding(
            "activity_after_death",
            (record("insurance.contribution", contribution_id), record(CITIZEN, citizen_id)),
            None,
            1.0,
            f"contribution for {period}, the person died on {died.isoformat()}",
            message_vi=f"đóng bảo hiểm cho kỳ {period}, người này đã mất ngày {died.isoformat()}",
        )
    rows = duck.execute(
        """
        SELECT e.enterprise_code, p.citizen_id, p.date_of_death
        FROM enterprise_enterprise e JOIN population_citizen p ON p.citizen_id = e.legal_rep_id
        WHERE e.status = 'active' AND (p.status = 'deceased' OR p.date_of_death IS NOT NULL)
        ORDER BY e.enterprise_code
        """
    ).fetchall()
    for code, citizen_id, died in rows:
        when = f" on {died.isoformat()}" if died is not None else ""
        when_vi = f" ngày {died.isoformat()}" if died is not None else ""
        yield Finding(
            "activity_after_death",
            (record("enterprise.enterprise", code), record(CITIZEN, citizen_id)),
            None,
            1.0,
            f"active enterprise, its legal representative died{when}",
            message_vi=f"doanh nghiệp đang hoạt động, người đại diện theo pháp luật đã mất{when_vi}",
        )


def share_sums(duck: duckdb.DuckDBPyConnection) -> Iterator[Finding]:
    """invalid_value on ``share`` of every land right of a parcel whose shares do not sum to 1."""
    rows = duck.execute(
        """
        WITH sums AS (
            SELECT parcel_id, SUM(share) AS total FROM land_land_right GROUP BY parcel_id
            HAVING SUM(share) IS NULL OR ABS(SUM(share) - 1) > 0.00005
        )
        SELECT r.right_id, r.parcel_id, s.total FROM land_land_right r JOIN sums s USING (parcel_id)
        ORDER BY r.right_id
        """
    ).fetchall()
    for right_id, parcel_id, total in rows:
        yield Finding(
            "invalid_value",
            (record("land.land_right", right_id),),
            "share",
            1.0,
            f"shares of parcel {parcel_id} sum to {total}, not 1",
            message_vi=f"tổng phần quyền của thửa {parcel_id} là {total}, không phải 1",
        )

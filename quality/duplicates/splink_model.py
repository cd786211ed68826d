"""Splink 5 models (DuckDB backend) that find the same person or business recorded twice.

Each model is trained on the data itself: the prior from deterministic rules, u by random sampling, m by
expectation maximisation on blocks. Blocking never uses a surname alone (Nguyễn is 38% of people): it
pairs records on the date of birth with the folded given or family name, on the folded full name with
the birth year and the unordered {day, month} (a swapped day and month), or on the date of birth with the
province. Pairs above the threshold are clustered (connected components), so three records of one
person form one finding.

Guards that a person does not change: two records whose given names are unlike (twins) or whose dates of
birth are neither equal nor swapped (namesakes born the same year) are never the same person, whatever
the model weighs; for businesses, a similar name alone is not enough: the representative or the address
must agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

Progress = Callable[[str, int, int], None]


def _level(sql: str, label: str, m: float, u: float) -> dict[str, Any]:
    """A comparison level with starting m and u probabilities (training refines them on large data)."""
    return {"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}


def _null(col: str) -> dict[str, Any]:
    return {
        "sql_condition": f'"{col}_l" IS NULL OR "{col}_r" IS NULL',
        "label_for_charts": "null",
        "is_null_level": True,
    }


def _comparison(name: str, levels: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Levels from most to least alike; the else level takes the rest of m and u."""
    m = max(1e-4, 1.0 - sum(lv.get("m_probability", 0.0) for lv in levels))
    u = max(1e-4, 1.0 - sum(lv.get("u_probability", 0.0) for lv in levels))
    return {
        "output_column_name": name,
        "comparison_levels": [*levels, _level("ELSE", "else", m, u)],
    }


def _exact(col: str, m: float, u: float) -> dict[str, Any]:
    return _comparison(col, [_null(col), _level(f'"{col}_l" = "{col}_r"', "exact", m, u)])


def _fixed(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Levels whose m stays as given: how often one person's own records differ in their name is
    domain knowledge, and EM on date-of-birth blocks would learn it from twins and siblings instead."""
    return [{**lv, "fix_m_probability": True} if "m_probability" in lv else lv for lv in levels]


def _fixed_comparison(name: str, levels: list[dict[str, Any]]) -> dict[str, Any]:
    comparison = _comparison(name, levels)
    comparison["comparison_levels"] = _fixed(comparison["comparison_levels"])
    return comparison


PERSON_COMPARISONS: list[dict[str, Any]] = [
    _fixed_comparison(
        "given",
        [
            _null("given"),
            _level('"given_key_l" = "given_key_r"', "same spelling", 0.80, 0.01),
            _level('"given_l" = "given_r"', "same without diacritics or tone", 0.12, 0.002),
            _level('damerau_levenshtein("given_typed_l", "given_typed_r") <= 1', "one slip", 0.075, 0.005),
        ],
    ),
    _fixed_comparison(
        "family_middle",
        [
            _null("family_middle"),
            _level('"family_middle_l" = "family_middle_r"', "same", 0.85, 0.02),
            _level(
                '"family_l" = "family_r" AND (contains("middle_l", "middle_r") OR contains("middle_r", "middle_l"))',
                "a middle name dropped",
                0.08,
                0.02,
            ),
            _level(
                'damerau_levenshtein("family_middle_typed_l", "family_middle_typed_r") <= 1', "one slip", 0.065, 0.01
            ),
        ],
    ),
    _comparison(
        "dob",
        [
            _null("dob"),
            _level('"dob_l" = "dob_r"', "exact", 0.85, 5e-5),
            _level('"dob_year_l" = "dob_year_r" AND "dob_md_l" = "dob_md_r"', "day and month swapped", 0.12, 1e-5),
            _level('"dob_year_l" = "dob_year_r"', "same year", 0.02, 0.012),
        ],
    ),
    _exact("sex", 0.98, 0.5),
    _exact("province_code", 0.7, 0.05),
]

CITIZEN_COMPARISONS = [
    *PERSON_COMPARISONS,
    _exact("birth_province", 0.9, 0.05),
    _comparison(
        "address_key",
        [
            _null("address_key"),
            _level('"address_key_l" = "address_key_r"', "exact", 0.6, 0.01),
            _level('jaro_winkler_similarity("address_key_l", "address_key_r") >= 0.9', "similar", 0.1, 0.02),
        ],
    ),
]

INSURED_COMPARISONS = [
    *PERSON_COMPARISONS,
    _comparison(
        "citizen_id",
        [_null("citizen_id"), _level('"citizen_id_l" = "citizen_id_r"', "same citizen", 0.9, 1e-6)],
    ),
]

ENTERPRISE_COMPARISONS = [
    _comparison(
        "name",
        [
            _null("name_full"),
            _level('"name_full_l" = "name_full_r"', "same name", 0.5, 1e-4),
            _level('"name_core_l" = "name_core_r"', "same core name", 0.4, 1e-3),
            _level('jaro_winkler_similarity("name_core_l", "name_core_r") >= 0.9', "similar core name", 0.08, 0.01),
        ],
    ),
    _exact("legal_rep_id", 0.8, 1e-4),
    _comparison(
        "address_key",
        [
            _null("address_key"),
            _level('"address_key_l" = "address_key_r"', "exact", 0.6, 1e-4),
            _level('jaro_winkler_similarity("address_key_l", "address_key_r") >= 0.92', "similar", 0.1, 1e-3),
        ],
    ),
    _exact("province_code", 0.95, 0.05),
    _exact("industry_code", 0.7, 0.05),
    _exact("legal_form", 0.6, 0.3),
]

# A person's given name and date of birth (up to a swap) survive every way a record is re-typed.
PERSON_GUARD = """
    (l.given = r.given OR damerau_levenshtein(l.given_typed, r.given_typed) <= 1)
    AND (l.family_middle = r.family_middle
         OR (l.family = r.family AND (contains(l.middle, r.middle) OR contains(r.middle, l.middle)))
         OR damerau_levenshtein(l.family_middle_typed, r.family_middle_typed) <= 1)
    AND (l.dob = r.dob OR (l.dob_year = r.dob_year AND l.dob_md = r.dob_md))
"""
# Two insurance records linked (or, unlinked, matching exactly by name and birth date) to two different
# citizens are two people (unless those citizen records are one person: merge_by_person settles that).
INSURED_GUARD = PERSON_GUARD + " AND (l.person_id IS NULL OR r.person_id IS NULL OR l.person_id = r.person_id)"
ENTERPRISE_GUARD = """
    (l.legal_rep_id = r.legal_rep_id OR l.address_key = r.address_key)
    AND jaro_winkler_similarity(l.name_core, r.name_core) >= 0.85
"""


@dataclass(frozen=True)
class Model:
    """What differs between the three duplicate checks."""

    check: str
    comparisons: list[dict[str, Any]]
    prediction_blocks: list[list[str]]
    training_blocks: list[list[str]]
    deterministic: list[str]
    guard: str
    threshold: float = 0.8
    recall: float = 0.8


PERSON_BLOCKS = [
    ["dob", "given"],
    ["dob", "family", "sex"],
    ["name_fold", "dob_year", "dob_md"],
    ["family", "dob_year", "dob_md", "sex"],
    ["given", "dob_year", "dob_md", "sex"],
    ["dob", "province_code", "sex"],
]

MODELS: dict[str, Model] = {
    "duplicate_citizen": Model(
        "duplicate_citizen",
        CITIZEN_COMPARISONS,
        [*PERSON_BLOCKS, ["dob", "birth_province", "sex"]],
        [["dob", "sex"], ["given", "family", "dob_year"]],
        ["l.name_fold = r.name_fold AND l.dob = r.dob"],
        PERSON_GUARD,
    ),
    "duplicate_insured": Model(
        "duplicate_insured",
        INSURED_COMPARISONS,
        [*PERSON_BLOCKS, ["citizen_id"]],
        [["dob", "sex"], ["given", "family", "dob_year"]],
        ["l.name_fold = r.name_fold AND l.dob = r.dob"],
        INSURED_GUARD,
    ),
    "duplicate_enterprise": Model(
        "duplicate_enterprise",
        ENTERPRISE_COMPARISONS,
        [["name_core"], ["legal_rep_id"], ["address_key"]],
        [["province_code", "industry_code"], ["legal_rep_id"]],
        ["l.name_core = r.name_core AND l.legal_rep_id = r.legal_rep_id"],
        ENTERPRISE_GUARD,
    ),
}


MIN_TRAINING_ROWS = 2_000
log = logging.getLogger("ndx.quality")


def _train(linker: Any, model: Model, rows: int, seed: int, step: Progress) -> None:
    """Prior from deterministic rules, u by random sampling, m by EM on each training block."""
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(model.deterministic, recall=model.recall)
    step(model.check, 2, 6)
    linker.training.estimate_u_using_random_sampling(max_pairs=min(5e6, rows * 5.0), seed=seed)
    step(model.check, 3, 6)
    for cols in model.training_blocks:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols), max_pairs=2e6)


@dataclass(frozen=True)
class Cluster:
    keys: tuple[str, ...]
    confidence: float


def find_duplicates(
    duck: duckdb.DuckDBPyConnection, table: str, model: Model, *, seed: int = 7, progress: Progress | None = None
) -> list[Cluster]:
    """Train the model on ``table`` (a features table with ``unique_id``), predict, guard and cluster."""
    from splink import DuckDBAPI, Linker, block_on

    step = progress or (lambda _s, _d, _t: None)
    label = model.check
    rows = int(duck.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])  # noqa: S608 (identifiers are module constants)
    if rows < 2:
        return []
    db_api = DuckDBAPI(connection=duck)
    sdf = db_api.register(table)
    settings = {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": model.comparisons,
        "blocking_rules_to_generate_predictions": [block_on(*cols) for cols in model.prediction_blocks],
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
    }
    settings["probability_two_random_records_match"] = min(0.01, 20.0 / rows / rows)
    linker = Linker(sdf, settings, log_level=logging.ERROR)
    if rows >= MIN_TRAINING_ROWS:
        step(label, 1, 6)
        try:
            _train(linker, model, rows, seed, step)
        except (ValueError, ZeroDivisionError) as exc:
            log.warning("%s: training failed (%s); using the starting parameters", label, exc)
            linker = Linker(db_api.register(table), settings, log_level=logging.ERROR)
    step(label, 4, 6)
    predictions = linker.inference.predict(threshold_match_probability=min(0.5, model.threshold))
    pairs = predictions.physical_name
    guarded = f"{table}_pairs"
    duck.execute(
        f"""
        CREATE OR REPLACE TABLE {guarded} AS
        SELECT p.unique_id_l, p.unique_id_r, p.match_probability
        FROM {pairs} p
        JOIN {table} l ON l.unique_id = p.unique_id_l
        JOIN {table} r ON r.unique_id = p.unique_id_r
        WHERE p.match_probability >= {model.threshold} AND {model.guard}
        """  # noqa: S608 (identifiers are module constants)
    )
    step(label, 5, 6)
    accepted = duck.execute(f"SELECT * FROM {guarded}").fetchall()  # noqa: S608 (a constant's name)
    clusters = _connected_components(accepted)
    step(label, 6, 6)
    return clusters


def _connected_components(edges: list[tuple[Any, Any, float]]) -> list[Cluster]:
    """Union-find over the accepted pairs; a cluster's confidence is its weakest accepted link."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in edges:
        ra, rb = find(str(a)), find(str(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, list[str]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node)
    weakest: dict[str, float] = {}
    for a, _b, p in edges:
        root = find(str(a))
        weakest[root] = min(weakest.get(root, 1.0), float(p))
    return sorted(
        (Cluster(tuple(sorted(keys)), weakest.get(root, 1.0)) for root, keys in members.items() if len(keys) > 1),
        key=lambda c: c.keys,
    )


def merge_by_person(insured: list[Cluster], citizens: list[Cluster], links: Iterable[tuple[Any, Any]]) -> list[Cluster]:
    """Insurance records of one person: found alike, linked to one citizen, or to citizen records of one
    person (a duplicate_citizen cluster)."""
    person: dict[str, str] = {}
    for cluster in citizens:
        for key in cluster.keys:
            person[key] = cluster.keys[0]
    edges: list[tuple[str, str, float]] = []
    for cluster in insured:
        edges.extend((cluster.keys[0], other, cluster.confidence) for other in cluster.keys[1:])
    by_person: dict[str, list[str]] = {}
    for insurance_id, citizen_id in links:
        by_person.setdefault(person.get(str(citizen_id), str(citizen_id)), []).append(str(insurance_id))
    for ids in by_person.values():
        edges.extend((ids[0], other, 1.0) for other in ids[1:])
    return _connected_components(edges)

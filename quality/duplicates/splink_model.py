"""Splink 5 models (DuckDB backend) that find the same person or business recorded twice.

Each model is trained on the data itself: the prior from deterministic rules, u by random sampling, m by
expectation maximisation on blocks. Blocking never uses a surname alone (Nguyễn is 38% of people): it
pairs records on the date of birth with the folded given or family name, on the folded full name with
the birth year and the unordered {day, month} (a swapped day and month), or on the date of birth with the
province. The enterprise model's EM runs on blocks of one core name and of one representative, where
duplicates are frequent enough for EM to tell them apart (on blocks of province and trade it underflowed).
Pairs above the threshold are clustered (connected components), so three records of one person form one
finding.

Guards: what must hold, whatever the model weighs, for two records to be one person or one business. They
state how people and registers behave, not how any one data set was made:

- A date of birth does not change. It may be mistyped with day and month read the other way round (03/07
  against 07/03, a common slip between date conventions), so it must be equal or swapped; a namesake born
  another day of the same year is another person.
- A name is written in many ways that keep its letters: with or without diacritics (a keyboard without
  Vietnamese input), in capitals, with the other tone placement, decomposed, with doubled spaces. Two
  records with the same letters and the same birth date may be one person wherever they live: people
  move, and re-registrations carry the new address.
- A name can also change a little: one keying slip, a middle name dropped ('Nguyễn Thị Thu Hà' ->
  'Nguyễn Thu Hà', compared word by word). Then a second witness must agree, the address or the
  household (for insurance records: the citizen both resolve to, or the province of registration),
  because two differences at once (a name one letter away AND another address) are what strangers born
  the same day look like: at a million records there are hundreds of such pairs ('Tâm'/'Lâm').
- Twins share a birth date and a household and have different given names; so a given name that
  differs by more than one slip is never the same person. (Twins given near names, 'Hùng' and 'Hưng',
  cannot be told from a re-keyed record by these fields; a steward dismisses such a finding once and
  later runs keep it dismissed.)
- Two insurance records linked (or resolved, see quality.duplicates.features) to two different citizens
  are two people, unless those citizen records are themselves one person (merge_by_person).
- A business is not known by its name: many firms in many provinces are called An Phát. A similar core
  name counts only with the same legal representative or the same address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quality.duplicates.guards import (
    CITIZEN_NOTES,
    ENTERPRISE_GUARD,
    ENTERPRISE_NOTES,
    INSURED_GUARD,
    INSURED_NOTES,
    PERSON_GUARD,
)

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
        "person_id",
        [_null("person_id"), _level('"person_id_l" = "person_id_r"', "same citizen, linked or resolved", 0.9, 1e-6)],
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
    # How often one business's two registrations differ in province, trade or legal form cannot be learnt
    # from blocks of look-alike names (their matches agree by construction, so EM drives the else-levels to
    # ~1e-9 and a real re-registration in another province could never be found): fixed from experience.
    _fixed_comparison(
        "province_code", [_null("province_code"), _level('"province_code_l" = "province_code_r"', "exact", 0.9, 0.05)]
    ),
    _fixed_comparison(
        "industry_code", [_null("industry_code"), _level('"industry_code_l" = "industry_code_r"', "exact", 0.7, 0.05)]
    ),
    _fixed_comparison(
        "legal_form", [_null("legal_form"), _level('"legal_form_l" = "legal_form_r"', "exact", 0.6, 0.3)]
    ),
]


@dataclass(frozen=True)
class Model:
    """What differs between the three duplicate checks."""

    check: str
    comparisons: list[dict[str, Any]]
    prediction_blocks: list[list[str]]
    training_blocks: list[list[str]]
    deterministic: list[str]
    guard: str
    notes: str = "[]"
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
        CITIZEN_NOTES,
    ),
    "duplicate_insured": Model(
        "duplicate_insured",
        INSURED_COMPARISONS,
        [*PERSON_BLOCKS, ["person_id"]],
        [["dob", "sex"], ["given", "family", "dob_year"]],
        ["l.name_fold = r.name_fold AND l.dob = r.dob"],
        INSURED_GUARD,
        INSURED_NOTES,
    ),
    "duplicate_enterprise": Model(
        "duplicate_enterprise",
        ENTERPRISE_COMPARISONS,
        [["name_core"], ["legal_rep_id"], ["address_key"]],
        [["name_core"], ["legal_rep_id"]],
        ["l.name_core = r.name_core AND l.legal_rep_id = r.legal_rep_id"],
        ENTERPRISE_GUARD,
        ENTERPRISE_NOTES,
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
    notes: tuple[str, ...] = ()  # how its records differ, for the steward


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
        SELECT p.unique_id_l, p.unique_id_r, p.match_probability, {model.notes} AS notes
        FROM {pairs} p
        JOIN {table} l ON l.unique_id = p.unique_id_l
        JOIN {table} r ON r.unique_id = p.unique_id_r
        WHERE p.match_probability >= {model.threshold} AND {model.guard}
        """  # noqa: S608 (identifiers are module constants)
    )
    step(label, 5, 6)
    accepted = duck.execute(f"SELECT * FROM {guarded}").fetchall()  # noqa: S608 (a constant's name)
    notes: dict[str, set[str]] = {}
    for a, _b, _p, said in accepted:
        notes.setdefault(str(a), set()).update(said or ())
    clusters = _with_notes(_connected_components([(a, b, p) for a, b, p, _ in accepted]), notes)
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


def _with_notes(clusters: list[Cluster], notes: dict[str, set[str]]) -> list[Cluster]:
    """Each cluster with the notes of the pairs whose first record it holds, in a stable order."""
    return [
        Cluster(c.keys, c.confidence, tuple(sorted(set().union(*(notes.get(k, set()) for k in c.keys)))))
        for c in clusters
    ]


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
    notes: dict[str, set[str]] = {}
    for cluster in insured:
        notes.setdefault(cluster.keys[0], set()).update(cluster.notes)
    for ids in by_person.values():
        edges.extend((ids[0], other, 1.0) for other in ids[1:])
        if len(ids) > 1:
            notes.setdefault(ids[0], set()).add("linked to one citizen")
    return _with_notes(_connected_components(edges), notes)

"""Open data: small-cell suppression proven over every published file, the register without personal fields,
and downloads (whole, ranges, conditional requests) of the materialised files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections import Counter
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Dataset
from catalog.opendata import aggregates
from catalog.opendata.publish import file_path, publish_open_data
from catalog.opendata.suppression import TOTAL, make_table, suppress
from connectors.registry import Sources
from ndx.db import make_engine
from tests.catalog.open_world import MIN_CELL, OpenWorld, generated_fixture, open_world_fixture  # noqa: F401  (fixtures)

REGISTER = "open-enterprise-register"


def read_csv(w: OpenWorld, name: str) -> tuple[bytes, list[dict[str, str]]]:
    raw = file_path(w.data_dir, name, "csv").read_bytes()
    return raw, list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def audit(rows: list[dict[str, str]], dims: list[str], value: str, k: int) -> int:
    """Check, as an attacker with only the published file would try, that no hidden count can be recovered or
    bounded below k: every published count is 0 or >= k; no line (row, column, margins) has one hidden entry;
    in a line whose total is published, the hidden entries sum (total - published parts) to 0 or >= k; and no
    hidden entry is determined by the whole linear system of the table's additive relations. Returns how many
    entries are hidden."""
    row_dim, col_dims = dims[0], dims[1:]
    entries: dict[tuple[str, tuple[str, ...]], int | None] = {}
    for r in rows:
        shown = r[value]
        assert (shown == "") == (r["suppressed"] == "true")
        entries[(r[row_dim], tuple(r[d] for d in col_dims))] = None if shown == "" else int(shown)
    for v in entries.values():
        assert v is None or v == 0 or v >= k, v
    all_total = tuple(TOTAL for _ in col_dims)
    row_keys = sorted({r for r, _ in entries if r != TOTAL})
    col_keys = sorted({c for _, c in entries if c != all_total})
    lines = [([(r, c) for c in col_keys], (r, all_total)) for r in row_keys]
    lines += [([(r, c) for r in row_keys], (TOTAL, c)) for c in col_keys]
    lines += [([(r, all_total) for r in row_keys], (TOTAL, all_total))]
    lines += [([(TOTAL, c) for c in col_keys], (TOTAL, all_total))]
    assert len(entries) == (len(row_keys) + 1) * (len(col_keys) + 1), "every cell and margin is published"
    hidden = [e for e, v in entries.items() if v is None]
    index = {e: i for i, e in enumerate(hidden)}
    matrix = []
    for parts, total in lines:
        unknown = [p for p in [*parts, total] if entries[p] is None]
        assert len(unknown) != 1, f"{unknown} follows from its line"
        if entries[total] is not None and unknown:
            residual = entries[total] - sum(entries[p] or 0 for p in parts)  # type: ignore[operator]
            assert residual == 0 or residual >= k, (parts, total, residual)
        row = np.zeros(len(hidden))
        for p in parts:
            if p in index:
                row[index[p]] = 1
        if total in index:
            row[index[total]] = -1
        matrix.append(row)
    if hidden:
        a = np.array(matrix)
        rank = np.linalg.matrix_rank(a)
        for e, i in index.items():
            unit = np.zeros(len(hidden))
            unit[i] = 1
            assert np.linalg.matrix_rank(np.vstack([a, unit])) > rank, f"{e} is determined by the totals"
    return len(hidden)


AGG_DIMS = {
    "open-population-by-province-sex-age": (["province_code", "sex", "age_band"], "population"),
    "open-enterprises-by-province-industry": (["province_code", "industry_division"], "enterprises"),
    "open-land-by-province-use": (["province_code", "land_use"], "parcels"),
}


def test_suppression_protects_a_small_table() -> None:
    counts = {("a", "x"): 3, ("a", "y"): 40, ("a", "z"): 50, ("b", "x"): 30, ("b", "y"): 45, ("b", "z"): 12}
    counts |= {("c", "x"): 25, ("c", "y"): 0, ("c", "z"): 60}
    table = suppress(make_table("abc", "xyz", counts), 10)
    rows = [
        {"r": r, "c": c, "n": "" if table.published(r, c) is None else str(table.published(r, c)),
         "suppressed": "true" if table.published(r, c) is None else "false"}
        for r in ["a", "b", "c", TOTAL] for c in ["x", "y", "z", TOTAL]
    ]  # fmt: skip
    assert audit(rows, ["r", "c"], "n", 10) >= 4
    assert ("a", "x") in table.hidden


@pytest.mark.parametrize("seed", range(30))
def test_suppression_on_random_tables(seed: int) -> None:
    rnd = random.Random(seed)
    rows, cols = [f"r{i}" for i in range(rnd.randint(1, 7))], [f"c{j}" for j in range(rnd.randint(1, 6))]
    counts = {(r, c): rnd.choice([0, 1, 2, 5, 9, 10, 11, 30, 200]) for r in rows for c in cols}
    k = rnd.choice([3, 5, 10])
    table = suppress(make_table(rows, cols, counts), k)
    out = []
    for r in [*rows, TOTAL]:
        for c in [*cols, TOTAL]:
            shown = table.published(r, c)
            out.append(
                {"r": r, "c": c, "n": "" if shown is None else str(shown), "suppressed": str(shown is None).lower()}
            )
    audit(out, ["r", "c"], "n", k)


def test_no_published_file_reveals_a_count_below_k(open_world: OpenWorld) -> None:
    hidden_total = 0
    for name, (dims, value) in AGG_DIMS.items():
        raw, rows = read_csv(open_world, name)
        assert raw.startswith(b"\xef\xbb\xbf"), name
        hidden_total += audit(rows, dims, value, MIN_CELL)
        # the JSON file says the same
        records = json.loads(file_path(open_world.data_dir, name, "json").read_text(encoding="utf-8"))
        assert len(records) == len(rows)
        for rec, row in zip(records, rows, strict=True):
            assert rec[value] == (None if row[value] == "" else int(row[value]))
            assert rec["suppressed"] is (row["suppressed"] == "true")
    assert hidden_total > 0, "the generated data has small cells: the test must see some suppressed"


def test_published_counts_are_the_true_counts(open_world: OpenWorld) -> None:
    """The visible cells are right (checked with an independent count from the source rows)."""
    src = Sources(open_world.settings.source_urls())
    today = date.fromisoformat(_extras(open_world, "open-population-by-province-sex-age")["reference_date"])
    with src.engine("population").connect() as conn:
        people = conn.exec_driver_sql(
            "SELECT province_code, sex, date_of_birth FROM citizen WHERE status = 'alive'"
        ).all()
    src.dispose()
    truth: Counter[tuple[str, str, str]] = Counter()
    for province, sex, dob in people:
        born = date.fromisoformat(str(dob)[:10])
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        age = max(age, 0)  # a (defective) date of birth in the future counts in the youngest band
        band = next(b for b, lo, hi in aggregates.AGE_BANDS if age >= lo and (hi is None or age < hi))
        truth[(province, sex, band)] += 1
    _, rows = read_csv(open_world, "open-population-by-province-sex-age")
    checked = 0
    for r in rows:
        if r["population"] and TOTAL not in (r["province_code"], r["sex"], r["age_band"]):
            assert int(r["population"]) == truth[(r["province_code"], r["sex"], r["age_band"])]
            checked += 1
        if r["province_code"] == r["sex"] == r["age_band"] == TOTAL:
            assert int(r["population"]) == len(people)
    assert checked > 50


def _extras(w: OpenWorld, name: str) -> dict[str, Any]:
    engine = make_engine(w.settings.platform_url)
    with Session(engine) as session:
        ds = session.scalar(select(Dataset).where(Dataset.name == name))
        assert ds is not None
        extras = dict(ds.extras)
    engine.dispose()
    return extras


def test_register_has_no_personal_fields(open_world: OpenWorld) -> None:
    raw, rows = read_csv(open_world, REGISTER)
    assert rows and set(rows[0]) == {c.name for c in aggregates.ENTERPRISE_COLUMNS}
    src = Sources(open_world.settings.source_urls())
    with src.engine("enterprise").connect() as conn:
        reps = conn.exec_driver_sql("SELECT legal_rep_id FROM enterprise").scalars().all()
        total = conn.exec_driver_sql("SELECT count(*) FROM enterprise").scalar()
    src.dispose()
    text = raw.decode("utf-8-sig")
    assert len(rows) == total
    assert not [rid for rid in reps if rid in text], "a legal representative's citizen id is in the open file"
    records = json.loads(file_path(open_world.data_dir, REGISTER, "json").read_text(encoding="utf-8"))
    assert [r["enterprise_code"] for r in records] == [r["enterprise_code"] for r in rows]
    assert all("legal_rep_id" not in r and "legal_rep_name" not in r for r in records)


def test_downloads_ranges_and_conditional_requests(open_world: OpenWorld) -> None:
    url = f"{open_world.url}/datasets/{REGISTER}/download/{REGISTER}.csv"
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"].startswith("text/csv")
    assert "attachment" in whole.headers["content-disposition"]
    assert whole.content.startswith(b"\xef\xbb\xbfenterprise_code,name,")
    digest = hashlib.sha256(whole.content).hexdigest()
    assert whole.headers["etag"] == f'"{digest}"' and whole.headers["accept-ranges"] == "bytes"
    size = len(whole.content)

    part = httpx.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == whole.content[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{size}"
    tail = httpx.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    resumed = httpx.get(url, headers={"Range": f"bytes={size - 5}-"})
    assert resumed.content == whole.content[-5:]
    bad = httpx.get(url, headers={"Range": f"bytes={size + 10}-{size + 20}"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{size}"
    stale_if_range = httpx.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale_if_range.status_code == 200 and len(stale_if_range.content) == size

    same = httpx.get(url, headers={"If-None-Match": whole.headers["etag"]})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == whole.headers["etag"]
    assert httpx.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
    since = httpx.get(url, headers={"If-Modified-Since": whole.headers["last-modified"]})
    assert since.status_code == 304
    old = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert httpx.get(url, headers={"If-Modified-Since": old}).status_code == 200
    head = httpx.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == size

    as_json = httpx.get(url.replace(".csv", ".json"))
    assert as_json.headers["content-type"].startswith("application/json")
    assert len(as_json.json()) == len(whole.text.splitlines()) - 1
    for missing in (
        "/datasets/population-citizen/download/population-citizen.csv",
        f"/datasets/{REGISTER}/download/..%2F..%2Fplatform.db",
        f"/datasets/{REGISTER}/download/{REGISTER}.xlsx",
    ):
        assert httpx.get(open_world.url + missing).status_code == 404, missing


def test_republishing_is_idempotent(open_world: OpenWorld) -> None:
    engine = make_engine(open_world.settings.platform_url)

    def state() -> dict[str, Any]:
        with Session(engine) as session:
            out = {}
            for ds in session.scalars(select(Dataset).where(Dataset.name.like("open-%"))):
                out[ds.name] = (
                    str(ds.metadata_modified),
                    [(r.id, r.size, r.hash, str(r.last_modified)) for r in ds.resources],
                )
            return out

    before = state()
    src = Sources(open_world.settings.source_urls())
    with Session(engine) as session:
        report = publish_open_data(session=session, sources=src, data_dir=open_world.data_dir, min_cell=MIN_CELL)
    src.dispose()
    assert sorted(report.datasets) == sorted(before)
    assert state() == before
    engine.dispose()

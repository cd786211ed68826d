"""Benchmark of catalog search: 10,000 datasets, search with facets through the REST API and straight in SQL.

    python bench/search.py [--datasets 10000] [--rounds 30] [--limit 20] [--database-url URL] [--keep DIR]

Registers N generated datasets (Vietnamese and English titles and descriptions in the style of a national
catalog: topic x kind x province x year, 5-20 fields, 0-3 resources, 40 agencies) through the catalog
service, then times a mix of queries (with and without diacritics, with facet filters, deep pages):

- api: ``GET /api/v1/datasets?q=...`` in-process through httpx's ASGI transport: routing, validation, search,
  facets (GROUP BY in SQL), the page's summaries, the Pydantic response, JSON;
- raw: the same search's one SQL statement (the ranked page, the total and the facets over the matching set,
  UNION ALL) run straight on a connection, nothing else;
- index: the full-text match alone (the ranked ids of the first page), for scale.

Prints p50 and p99 of each and the ratio api/raw. Targets: api p50 <= 10 ms, p99 <= 50 ms, api/raw <= 3.
SQLite by default (a temporary file); ``--database-url postgresql+psycopg://...`` for PostgreSQL (the database
must exist and be empty).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOPICS = [
    ("dân cư", "population", ["dân cư", "hộ khẩu", "population"]),
    ("đất đai", "land", ["đất đai", "địa chính", "land"]),
    ("bảo hiểm xã hội", "social insurance", ["bảo hiểm", "an sinh", "insurance"]),
    ("doanh nghiệp", "enterprises", ["doanh nghiệp", "kinh tế", "enterprise"]),
    ("giáo dục", "education", ["giáo dục", "trường học", "education"]),
    ("y tế", "health", ["y tế", "bệnh viện", "health"]),
    ("giao thông", "transport", ["giao thông", "đường bộ", "transport"]),
    ("môi trường", "environment", ["môi trường", "khí hậu", "environment"]),
    ("nông nghiệp", "agriculture", ["nông nghiệp", "cây trồng", "agriculture"]),
    ("thuế", "taxation", ["thuế", "ngân sách", "tax"]),
    ("lao động việc làm", "labour and employment", ["lao động", "việc làm", "labour"]),
    ("du lịch", "tourism", ["du lịch", "lưu trú", "tourism"]),
    ("tài nguyên nước", "water resources", ["tài nguyên nước", "thủy lợi", "water"]),
    ("hộ tịch", "civil status", ["hộ tịch", "khai sinh", "civil registration"]),
    ("xây dựng", "construction", ["xây dựng", "quy hoạch", "construction"]),
]
KINDS = [
    ("Danh sách", "List of"),
    ("Thống kê", "Statistics on"),
    ("Số liệu", "Figures on"),
    ("Báo cáo tổng hợp", "Summary report on"),
    ("Cơ sở dữ liệu", "Database of"),
    ("Chỉ tiêu", "Indicators of"),
]
FIELD_POOL = [
    ("ma_tinh", "Mã tỉnh", "Province code", "public"),
    ("ten_tinh", "Tên tỉnh", "Province name", "public"),
    ("ma_xa", "Mã xã, phường", "Ward code", "public"),
    ("nam", "Năm", "Year", "public"),
    ("so_luong", "Số lượng", "Count", "public"),
    ("gia_tri", "Giá trị", "Value", "public"),
    ("ho_ten", "Họ và tên", "Full name", "personal"),
    ("ngay_sinh", "Ngày sinh", "Date of birth", "personal"),
    ("so_dinh_danh", "Số định danh cá nhân", "Personal identification number", "personal"),
    ("dia_chi", "Địa chỉ", "Address", "personal"),
    ("dan_toc", "Dân tộc", "Ethnicity", "sensitive-personal"),
    ("tinh_trang_suc_khoe", "Tình trạng sức khỏe", "Health status", "sensitive-personal"),
    ("ma_so_thue", "Mã số thuế", "Tax code", "public"),
    ("dien_tich", "Diện tích", "Area", "public"),
    ("muc_dich_su_dung", "Mục đích sử dụng", "Purpose of use", "public"),
    ("ngay_cap_nhat", "Ngày cập nhật", "Date updated", "public"),
    ("don_vi", "Đơn vị", "Unit", "public"),
    ("ghi_chu", "Ghi chú", "Remarks", "public"),
]
FORMATS = ["CSV", "JSON", "XLSX", "API", "PDF", "XML"]
LICENSES = ["cc-by-4.0", "other-closed", "cc-zero", "odc-by"]
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("dân cư", {}),
    ("dan cu", {}),
    ("đất đai Hà Nội", {}),
    ("dat dai ha noi", {}),
    ("thống kê bảo hiểm xã hội", {}),
    ("doanh nghiep 2023", {}),
    ("health statistics", {}),
    ("giáo dục", {"classification": "open"}),
    ("so_dinh_danh", {}),
    ("y te", {"format": "CSV"}),
    ("land", {"license": "cc-by-4.0"}),
    ("báo cáo", {"sort": "metadata_modified"}),
    ("", {}),
    ("", {"tag": "dân cư"}),
    ("", {"sort": "title"}),
    ("danh sach", {"sort": "name"}),
]


def provinces() -> list[str]:
    lines = (ROOT / "connectors" / "data" / "provinces.csv").read_text(encoding="utf-8").splitlines()[1:]
    return [line.split(",")[1] for line in lines if line]


def make_dataset(i: int, rng: random.Random, orgs: list[str], places: list[str]) -> Any:
    from catalog.schemas import DatasetIn, FieldIn, ResourceIn
    from ndx.textnorm import fold

    topic_vi, topic_en, tags = rng.choice(TOPICS)
    kind_vi, kind_en = rng.choice(KINDS)
    place = rng.choice(places)
    year = rng.randint(2015, 2025)
    fields = rng.sample(FIELD_POOL, rng.randint(5, min(18, len(FIELD_POOL))))
    formats = rng.sample(FORMATS, rng.randint(0, 3))
    slug = "-".join(fold(f"{topic_en} {kind_en} {place} {year}").replace(",", "").split())[:80]
    return DatasetIn(
        name=f"{slug}-{i}"[:100],
        owner_org=rng.choice(orgs),
        title_vi=f"{kind_vi} {topic_vi} tỉnh {place} năm {year}",
        title_en=f"{kind_en} {topic_en} in {fold(place).title()} province, {year}",
        notes_vi=f"{kind_vi} về {topic_vi} trên địa bàn tỉnh {place}, số liệu năm {year}, do cơ quan chủ quản "
        f"thu thập và cập nhật {rng.choice(['hằng tháng', 'hằng quý', 'hằng năm'])} phục vụ quản lý nhà nước.",
        notes_en=f"{kind_en} {topic_en} in {fold(place).title()} province for {year}, collected and updated by "
        "the owning agency for public administration.",
        classification=rng.choice(["open", "open", "internal", "restricted"]),
        license_id=rng.choice(LICENSES),
        update_frequency=rng.choice(["daily", "monthly", "annual"]),
        spatial=place,
        tags=[*tags, str(year)],
        fields=[
            FieldIn(name=n, type="VARCHAR(100)", description_vi=vi, description_en=en, sensitivity=s)  # type: ignore[arg-type]
            for n, vi, en, s in fields
        ],
        resources=[
            ResourceIn(
                name=f"{topic_en} {year}.{f.lower()}",
                url=f"https://data.example.invalid/{i}.{f.lower()}",
                format=f,
                size=rng.randint(1_000, 50_000_000),
            )
            for f in formats
        ],
        row_count=rng.randint(10, 5_000_000),
    )


def register(url: str, count: int, seed: int) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from catalog import service
    from catalog.models import Dataset
    from ndx import migrate
    from ndx.db import make_engine
    from policies import service as policy_service
    from policies.schemas import OrganizationRule

    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        have = session.scalar(select(func.count()).select_from(Dataset)) or 0
    if have:
        print(f"reusing the {have:,} datasets already registered in {url}")
        engine.dispose()
        return
    places = provinces()
    rng = random.Random(seed)
    with Session(engine) as session:
        policy_service.seed_organizations(session=session, by="bench")
        extra = [
            OrganizationRule(
                code=f"ubnd-{i:02d}",
                kind="owner",
                name_vi=f"Ủy ban nhân dân tỉnh {p}",
                name_en=f"People's Committee of {p}",
            )
            for i, p in enumerate(places[:36])
        ]
        for rule in extra:
            policy_service.upsert_organization(session=session, rule=rule)
        session.commit()
        orgs = ["bca", "bhxh", "bnnmt", "dkkd"] + [r.code for r in extra]
        started = time.perf_counter()
        for i in range(count):
            service.register_dataset(session=session, data=make_dataset(i, rng, orgs, places), commit=False)
            if i % 500 == 499:
                session.commit()
        session.commit()
        print(f"registered {count:,} datasets in {time.perf_counter() - started:.1f} s")
    # Fresh statistics, as a running database has them (autovacuum on PostgreSQL, `ANALYZE` on SQLite).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
    engine.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, ms: list[float]) -> tuple[float, float]:
    p50, p99 = statistics.median(ms), percentile(ms, 99)
    print(f"{name:<8} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   ({len(ms)} calls)")
    return p50, p99


def params_of(q: str, extra: dict[str, Any], limit: int) -> dict[str, Any]:
    return {"q": q, "limit": limit, **extra}


def api_timings(settings: Any, rounds: int, limit: int) -> tuple[list[float], dict[str, str]]:
    import httpx

    from ndx.app import create_app

    app = create_app(settings)
    timings: list[float] = []
    cursors: dict[str, str] = {}

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for q, extra in QUERIES:  # warm-up, and a cursor for a deep-page query
                res = await client.get("/api/v1/datasets", params=params_of(q, extra, limit))
                res.raise_for_status()
                if res.json()["next_cursor"] and not extra:
                    cursors.setdefault(q, res.json()["next_cursor"])
            for _ in range(rounds):
                for q, extra in QUERIES:
                    started = time.perf_counter()
                    res = await client.get("/api/v1/datasets", params=params_of(q, extra, limit))
                    timings.append((time.perf_counter() - started) * 1000)
                    assert res.status_code == 200, res.text

    asyncio.run(run())
    return timings, cursors


def raw_timings(url: str, rounds: int, limit: int) -> tuple[list[float], list[float]]:
    from sqlalchemy import literal_column
    from sqlalchemy.orm import Session

    from catalog import search
    from catalog.search.base import SearchParams, query_tokens, run_search
    from ndx.db import make_engine

    engine = make_engine(url)
    raw: list[float] = []
    index: list[float] = []
    with Session(engine) as session:
        search.ensure_index(session)
        conn = session.connection()
        backend = search.backend_for(conn)

        def timed(fn: Callable[[], object], into: list[float]) -> None:
            started = time.perf_counter()
            fn()
            into.append((time.perf_counter() - started) * 1000)

        for round_no in range(rounds + 1):
            for q, extra in QUERIES:
                filters = {k: [v] for k, v in extra.items() if k != "sort"}
                params = SearchParams(q=q, filters=filters, sort=extra.get("sort", "relevance"), limit=limit)
                sink = raw if round_no else []
                timed(lambda p=params: run_search(conn, backend, p), sink)  # type: ignore[misc]
                toks = query_tokens(q)
                if toks:
                    stmt = backend.matches(toks, ranked=True).order_by(literal_column("rank").desc()).limit(limit)
                    timed(lambda s=stmt: conn.execute(s).all(), index if round_no else [])  # type: ignore[misc]
    engine.dispose()
    return raw, index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30, help="Times each query of the mix is run.")
    parser.add_argument("--limit", type=int, default=20, help="Items per page (the pages show 20).")
    parser.add_argument("--database-url", help="Platform database (empty); default a temporary SQLite file.")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="Keep the SQLite database in this folder.")
    args = parser.parse_args()

    import logging

    from ndx.settings import load_settings

    folder = args.keep or Path(tempfile.mkdtemp(prefix="ndx-bench-search-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{folder / 'platform.db'}"
    try:
        register(url, args.datasets, args.seed)
        settings = load_settings(data_dir=folder, database_url=url, log_level="error")
        api, _ = api_timings(settings, args.rounds, args.limit)
        logging.getLogger("ndx.request").setLevel(logging.ERROR)
        raw, index = raw_timings(url, args.rounds, args.limit)
        print(f"{len(QUERIES)} queries x {args.rounds} rounds, {args.limit} per page, {args.datasets:,} datasets")
        api_p50, api_p99 = summary("api", api)
        raw_p50, raw_p99 = summary("raw", raw)
        summary("index", index)
        print(f"api/raw  p50 {api_p50 / raw_p50:.2f}x   p99 {api_p99 / raw_p99:.2f}x")
        ok = api_p50 <= 10 and api_p99 <= 50 and api_p50 / raw_p50 <= 3
        print("targets (p50 <= 10 ms, p99 <= 50 ms, api/raw <= 3):", "met" if ok else "NOT met")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

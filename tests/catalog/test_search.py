from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from catalog import service
from catalog.search.base import SearchParams
from catalog.sync import sync_catalog
from ndx import migrate
from ndx.errors import Invalid
from tests.catalog.conftest import SourceFactory, open_sources, sample_dataset


def names(session: Session, q: str = "", **kw: object) -> list[str]:
    params = SearchParams(q=q, limit=1000, **kw)  # type: ignore[arg-type]
    return [d.name for d in service.search_datasets(session=session, params=params).items]


@pytest.fixture
def synced(session: Session, make_sources: SourceFactory) -> Session:
    sources = open_sources(make_sources())
    assert sync_catalog(session=session, sources=sources).ok
    sources.dispose()
    return session


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dân cư", {"population-citizen"}),
        ("dan cu", {"population-citizen"}),
        ("DAN CU", {"population-citizen"}),
        ("Đất đai", {"land-parcel", "land-land-right"}),
        ("dat dai", {"land-parcel", "land-land-right"}),
        ("đăng ký doanh nghiệp", {"enterprise-enterprise"}),
        ("dang ky doanh nghiep", {"enterprise-enterprise"}),
        ("bao hiem", {"insurance-insured-person", "insurance-contribution"}),
        ("salary base", {"insurance-contribution"}),
        ("citizen_id", {"population-citizen", "insurance-insured-person"}),  # a field name
        ("holder_name", {"land-land-right"}),
        ("ngay sinh", {"population-citizen", "insurance-insured-person"}),  # a field's description
        ("dân cư đất đai", set()),  # every word must match
        ("xyzzy", set()),
    ],
)
def test_search_with_and_without_diacritics(synced: Session, query: str, expected: set[str]) -> None:
    assert set(names(synced, query)) == expected


def test_name_and_title_outrank_a_mention_in_the_description(synced: Session) -> None:
    service.register_dataset(
        session=synced,
        data=sample_dataset("thong-ke-tong-hop", title_vi="Thống kê tổng hợp", notes_vi="Có nhắc tới thửa đất."),
    )
    found = names(synced, "thửa đất")
    assert found[0] == "land-parcel"
    assert "thong-ke-tong-hop" in found
    assert found.index("thong-ke-tong-hop") > found.index("land-parcel")


def _facets(session: Session, q: str = "", **filters: list[str]) -> dict[str, dict[str, int]]:
    result = service.search_datasets(session=session, params=SearchParams(q=q, filters=filters))
    return {facet: {v.value: v.count for v in values} for facet, values in result.facets.items()}


def test_facet_counts_filters_and_labels(session: Session) -> None:
    specs = [
        ("a-open-csv", "bca", "open", ["dân cư", "thống kê"], ["csv"]),
        ("b-open-json", "bca", "open", ["dân cư"], ["json", "csv"]),
        ("c-internal", "bhxh", "internal", ["bảo hiểm"], []),
        ("d-restricted", "bhxh", "restricted", ["bảo hiểm", "thống kê"], ["csv"]),
        ("e-restricted", "dkkd", "restricted", [], ["api"]),
    ]
    for name, org, cls, tags, formats in specs:
        resources = [{"name": f"{name} {f}", "url": "", "format": f} for f in formats]
        data = sample_dataset(name, owner_org=org, classification=cls, tags=tags, resources=resources)
        service.register_dataset(session=session, data=data)
    service.register_dataset(session=session, data=sample_dataset("f-private", private=True))
    service.register_dataset(session=session, data=sample_dataset("g-deleted"))
    service.delete_dataset(session=session, name="g-deleted")

    facets = _facets(session)
    assert facets["organization"] == {"bca": 2, "bhxh": 2, "dkkd": 1}
    assert facets["classification"] == {"open": 2, "internal": 1, "restricted": 2}
    assert facets["tag"] == {"dân cư": 2, "bảo hiểm": 2, "thống kê": 2}
    assert facets["format"] == {"CSV": 3, "JSON": 1, "API": 1}  # datasets with the format, not resources
    assert facets["license"] == {"cc-by-4.0": 5}

    filtered = _facets(session, classification=["restricted"])
    assert filtered["organization"] == {"bhxh": 1, "dkkd": 1}
    assert _facets(session, tag=["thống kê"], organization=["bca"])["classification"] == {"open": 1}
    assert _facets(session, format=["csv", "api"])["organization"] == {"bca": 2, "bhxh": 1, "dkkd": 1}
    assert names(session, filters={"organization": ["bca", "dkkd"]}, sort="name") == [
        "a-open-csv",
        "b-open-json",
        "e-restricted",
    ]

    result = service.search_datasets(session=session, params=SearchParams(), lang="en")
    labels = {v.value: v.label for v in result.facets["organization"]}
    assert labels["bhxh"] == "Vietnam Social Security"
    assert {v.value: v.label for v in result.facets["classification"]}["restricted"] == "Restricted"
    vi = service.search_datasets(session=session, params=SearchParams(), lang="vi")
    assert {v.value: v.label for v in vi.facets["classification"]}["restricted"] == "Hạn chế"
    assert result.count == 5

    with pytest.raises(Invalid, match="colour"):
        service.search_datasets(session=session, params=SearchParams(filters={"colour": ["red"]}))


@pytest.mark.slow
@pytest.mark.parametrize("sort", ["relevance", "name", "title", "metadata_modified"])
def test_paging_past_1000_returns_every_dataset_exactly_once(session: Session, sort: str) -> None:
    total = 1234
    for i in range(total):
        # Titles repeat so that sort keys tie and the name must break the ties.
        title = f"Danh mục hành chính số {i % 7}"
        data = sample_dataset(f"ds-{i:05d}", title_vi=title, notes_vi=f"Dữ liệu thứ {i}", resources=[])
        service.register_dataset(session=session, data=data, commit=False)
    session.commit()

    for q in ("", "danh muc"):
        for limit in (1000, 97):
            seen: list[str] = []
            cursor = None
            pages = 0
            while True:
                params = SearchParams(q=q, sort=sort, limit=limit, cursor=cursor)  # type: ignore[arg-type]
                page = service.search_datasets(session=session, params=params)
                assert page.count == total
                seen.extend(d.name for d in page.items)
                pages += 1
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert pages == -(-total // limit)
            assert len(seen) == total
            assert Counter(seen).most_common(1)[0][1] == 1
            if sort == "name":
                assert seen == sorted(seen)


def test_bad_cursor_and_limit_are_named(session: Session) -> None:
    for i in range(3):
        service.register_dataset(session=session, data=sample_dataset(f"x-{i}"), commit=False)
    session.commit()
    first = service.search_datasets(session=session, params=SearchParams(sort="name", limit=1))
    assert first.next_cursor
    with pytest.raises(Invalid, match=r"^cursor: not a cursor"):
        service.search_datasets(session=session, params=SearchParams(cursor="not-a-cursor!"))
    with pytest.raises(Invalid, match=r"^cursor: belongs to another query"):
        service.search_datasets(session=session, params=SearchParams(q="other", sort="name", cursor=first.next_cursor))
    with pytest.raises(Invalid, match=r"^limit"):
        service.search_datasets(session=session, params=SearchParams(limit=1001))
    second = service.search_datasets(
        session=session, params=SearchParams(sort="name", limit=1, cursor=first.next_cursor)
    )
    assert [d.name for d in second.items] == ["x-1"]


def test_a_replaced_dataset_is_found_by_its_new_words_only(session: Session) -> None:
    service.register_dataset(session=session, data=sample_dataset("doi-ten", title_vi="Hộ tịch"))
    assert names(session, "ho tich") == ["doi-ten"]
    service.upsert_dataset(session=session, data=sample_dataset("doi-ten", title_vi="Lý lịch tư pháp"))
    assert names(session, "ho tich") == []
    assert names(session, "ly lich tu phap") == ["doi-ten"]
    service.delete_dataset(session=session, name="doi-ten")
    assert names(session, "ly lich tu phap") == []


def test_whole_catalog_facet_counts_kept_by_triggers_match_a_fresh_count(session: Session) -> None:
    for i, (org, cls) in enumerate([("bca", "open"), ("bca", "restricted"), ("bhxh", "open"), ("dkkd", "internal")]):
        resources = [{"name": "r", "format": "csv"}] if i % 2 == 0 else []
        data = sample_dataset(f"dem-{i}", owner_org=org, classification=cls, tags=["a", f"t{i}"], resources=resources)
        service.register_dataset(session=session, data=data)
    service.upsert_dataset(session=session, data=sample_dataset("dem-0", owner_org="bhxh", tags=["b"], resources=[]))
    service.delete_dataset(session=session, name="dem-1")
    service.register_dataset(session=session, data=sample_dataset("dem-private", private=True))
    gone = service.get_dataset(session=session, name="dem-2")
    session.delete(gone)  # a hard delete: the search rows go by ON DELETE CASCADE, the counts by trigger
    session.commit()

    def facets(filters: dict[str, list[str]]) -> dict[str, dict[str, int]]:
        result = service.search_datasets(session=session, params=SearchParams(filters=filters))
        return {f: {v.value: v.count for v in values} for f, values in result.facets.items()}

    kept = facets({})  # read from the maintained counts
    counted = facets({"organization": ["bca", "bhxh", "dkkd"]})  # GROUP BY over the matching set
    assert kept == counted
    assert kept["organization"] == {"bhxh": 1, "dkkd": 1}
    assert kept["tag"] == {"b": 1, "a": 1, "t3": 1}
    assert kept["format"] == {}


def test_migration_c0002_adds_the_theme_terms_of_datasets_indexed_before(platform: Engine, session: Session) -> None:
    service.register_dataset(session=session, data=sample_dataset("so-lieu-a", themes=["ECON", "SOCI"]))
    service.register_dataset(session=session, data=sample_dataset("so-lieu-b", themes=["ECON"]))
    service.register_dataset(session=session, data=sample_dataset("so-lieu-c", private=True, themes=["ECON"]))
    session.commit()
    session.close()

    def economy() -> tuple[list[str], dict[str, int]]:
        with Session(platform) as s:
            found = service.search_datasets(
                session=s, params=SearchParams(filters={"theme": ["ECON"]}, sort="name", limit=10)
            )
            everything = service.search_datasets(session=s, params=SearchParams(limit=1))
        return [d.name for d in found.items], {f.value: f.count for f in everything.facets.get("theme", [])}

    assert economy() == (["so-lieu-a", "so-lieu-b"], {"ECON": 2, "SOCI": 1})  # the private one is not counted
    migrate.downgrade(platform, "c0001")  # as indexed before themes were a facet
    assert economy() == ([], {})
    migrate.upgrade(platform)
    assert economy() == (["so-lieu-a", "so-lieu-b"], {"ECON": 2, "SOCI": 1})

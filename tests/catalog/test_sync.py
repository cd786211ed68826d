from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import service
from catalog.models import Dataset, SyncChange
from catalog.sync import sync_catalog
from policies.rules_model import dataset_rules
from tests.catalog.conftest import SourceFactory, citizens, open_sources

SOURCE_DATASETS = {
    "population-citizen",
    "insurance-insured-person",
    "insurance-contribution",
    "land-parcel",
    "land-land-right",
    "enterprise-enterprise",
}


def _changes(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SyncChange)) or 0


def test_sync_registers_one_dataset_per_source_table_then_changes_nothing(
    session: Session, make_sources: SourceFactory
) -> None:
    sources = open_sources(make_sources(rows={"population": {"citizen": citizens(3)}}))
    first = sync_catalog(session=session, sources=sources)
    assert first.ok, first.failures
    assert set(first.datasets) == SOURCE_DATASETS
    assert {c.kind for c in first.changes} == {"dataset_added"}

    citizen = service.get_dataset(session=session, name="population-citizen")
    assert citizen.owner_org == "bca"
    assert citizen.organization.name_en.startswith("Ministry of Public Security")
    assert citizen.classification == "restricted"
    assert citizen.row_count == 3
    assert citizen.title_vi.startswith("Công dân") and citizen.title_en.startswith("Citizens")
    assert citizen.update_frequency == "continuous" and citizen.spatial == "VN" and citizen.license_id == "other-closed"
    assert citizen.data_updated_at is not None and citizen.data_updated_at.replace(tzinfo=None).day == 1
    fields = {f.name: f for f in citizen.fields}
    assert [f.name for f in citizen.fields][:3] == ["citizen_id", "full_name", "date_of_birth"]
    assert fields["citizen_id"].type == "CHAR(12)" and not fields["citizen_id"].nullable
    assert fields["ethnicity"].sensitivity == "sensitive-personal"
    assert fields["province_code"].sensitivity == "public"
    assert fields["full_name"].description_en == "Full name"
    assert "dân cư" in citizen.tag_names
    parcel = service.get_dataset(session=session, name="land-parcel")
    assert parcel.owner_org == "bnnmt" and parcel.classification == "internal" and parcel.row_count == 0

    modified = {d.name: d.metadata_modified for d in session.scalars(select(Dataset))}
    logged = _changes(session)
    session.expire_all()
    second = sync_catalog(session=session, sources=sources)
    assert second.ok and second.changes == []
    assert set(second.datasets) == SOURCE_DATASETS
    assert _changes(session) == logged
    assert {d.name: d.metadata_modified for d in session.scalars(select(Dataset))} == modified
    sources.dispose()


def test_changed_source_schema_and_rows_show_up_as_changes(session: Session, make_sources: SourceFactory) -> None:
    sources = open_sources(make_sources(rows={"population": {"citizen": citizens(2)}}))
    sync_catalog(session=session, sources=sources)
    sources.dispose()
    session.expire_all()

    # The population agency adds a column, drops an optional one (date_of_death may be NULL), adds rows.
    changed = make_sources(
        rows={"population": {"citizen": citizens(5)}},
        ddl={
            "population": [
                "ALTER TABLE citizen ADD COLUMN nickname VARCHAR(50)",
                "ALTER TABLE citizen DROP COLUMN date_of_death",
            ]
        },
    )
    sources = open_sources(changed)
    report = sync_catalog(session=session, sources=sources)
    assert report.ok, report.failures
    kinds = {(c.kind, c.field) for c in report.changes if c.dataset == "population-citizen"}
    assert ("field_added", "nickname") in kinds
    assert ("field_removed", "date_of_death") in kinds
    row_change = next(c for c in report.changes if c.kind == "row_count")
    assert (row_change.dataset, row_change.old, row_change.new) == ("population-citizen", "2", "5")
    assert {c.dataset for c in report.changes} == {"population-citizen"}

    citizen = service.get_dataset(session=session, name="population-citizen")
    nickname = next(f for f in citizen.fields if f.name == "nickname")
    assert nickname.sensitivity == "sensitive-personal"  # undeclared columns are treated as the most sensitive
    assert "date_of_death" not in {f.name for f in citizen.fields}
    logged = {(c.kind, c.field) for c in session.scalars(select(SyncChange).where(SyncChange.run_id == report.run_id))}
    assert ("field_added", "nickname") in logged and ("row_count", None) in logged

    session.expire_all()
    assert sync_catalog(session=session, sources=sources).changes == []
    sources.dispose()


def test_a_source_down_or_breaking_the_contract_is_named_and_the_others_sync(
    session: Session, make_sources: SourceFactory
) -> None:
    urls = make_sources(ddl={"enterprise": ["ALTER TABLE enterprise DROP COLUMN legal_rep_name"]})
    urls["land"] = "sqlite:////nonexistent/dir/land.db"
    sources = open_sources(urls)
    report = sync_catalog(session=session, sources=sources)
    assert set(report.failures) == {"land", "enterprise"}
    assert "unreachable" in report.failures["land"]
    assert "enterprise.enterprise.legal_rep_name" in report.failures["enterprise"]
    assert set(report.datasets) == {"population-citizen", "insurance-insured-person", "insurance-contribution"}
    assert {d.name for d in session.scalars(select(Dataset))} == set(report.datasets)
    sources.dispose()


def test_a_dataset_dropped_from_the_rules_is_marked_deleted(session: Session, make_sources: SourceFactory) -> None:
    sources = open_sources(make_sources())
    sync_catalog(session=session, sources=sources)
    rules = {name: rule for name, rule in dataset_rules().items() if name != "land-land-right"}
    report = sync_catalog(session=session, sources=sources, rules=rules)
    assert [(c.dataset, c.kind) for c in report.changes] == [("land-land-right", "dataset_removed")]
    ds = service.get_dataset(session=session, name="land-land-right", include_hidden=True)
    assert ds.state == "deleted"
    again = sync_catalog(session=session, sources=sources)  # back in the rules: back in the catalog
    assert [(c.dataset, c.kind) for c in again.changes] == [("land-land-right", "dataset_added")]
    assert service.get_dataset(session=session, name="land-land-right").state == "active"
    sources.dispose()


def test_quality_score_survives_a_sync(session: Session, make_sources: SourceFactory) -> None:
    sources = open_sources(make_sources())
    sync_catalog(session=session, sources=sources)
    service.set_quality_score(session=session, name="land-parcel", score=87.5)
    sync_catalog(session=session, sources=sources)
    session.expire_all()
    assert service.get_dataset(session=session, name="land-parcel").quality_score == 87.5
    service.set_quality_score(session=session, name="land-parcel", score=None)
    assert service.get_dataset(session=session, name="land-parcel").quality_score is None
    sources.dispose()

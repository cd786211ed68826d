"""Materialise the open datasets into files and register them in the catalog (run by ``ndx catalog sync``).

Each dataset is written once from its source, row by row, into ``<data dir>/open/<name>/<name>.csv`` (UTF-8 with
a BOM, so spreadsheet programs read the diacritics) and ``<name>.json`` (an array of objects), both in one pass
through temporary files renamed into place, so a download never sees half a file. A file whose content did not
change keeps its date, so ETags and Last-Modified stay stable. Each dataset is registered with classification
``open`` and two resources carrying the file's byte size, sha256 and last-modified time; resources keep their ids
from one sync to the next.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog import service
from catalog.models import Dataset, Resource, utcnow
from catalog.opendata.aggregates import SPECS, Row, Spec
from catalog.schemas import DatasetIn, FieldIn, ResourceIn, as_utc
from catalog.sync import diff
from connectors.registry import Sources
from policies import service as policy_service

FORMATS: dict[str, str] = {"csv": "CSV", "json": "JSON"}
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
BOM = "\ufeff"
LICENSE = "cc-by-4.0"
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    sha256: str
    modified: datetime


@dataclass
class PublishReport:
    datasets: list[str]
    failures: dict[str, str]


def open_dir(data_dir: Path) -> Path:
    return data_dir / "open"


def file_path(data_dir: Path, name: str, ext: str) -> Path:
    return open_dir(data_dir) / name / f"{name}.{ext}"


def download_url(name: str, ext: str) -> str:
    """The path (relative to the site) a resource is downloaded from."""
    return f"/datasets/{name}/download/{name}.{ext}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _plain(value)


class _Writers:
    """The CSV and JSON temporary files of one dataset, written in the same pass over the rows."""

    def __init__(self, folder: Path, columns: list[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.columns = columns
        self.files: dict[str, IO[str]] = {}
        self.paths: dict[str, Path] = {}
        for ext in FORMATS:
            fd, name = tempfile.mkstemp(prefix=".tmp-", suffix=f".{ext}", dir=folder)
            self.files[ext] = os.fdopen(fd, "w", encoding="utf-8", newline="")
            self.paths[ext] = Path(name)
        self.csv = csv.writer(self.files["csv"], lineterminator="\r\n")
        self.files["csv"].write(BOM)
        self.csv.writerow(columns)
        self.files["json"].write("[")
        self.first = True

    def write(self, row: Row) -> None:
        self.csv.writerow([_csv_cell(v) for v in row])
        record = {c: _plain(v) for c, v in zip(self.columns, row, strict=True)}
        self.files["json"].write(("\n" if self.first else ",\n") + json.dumps(record, ensure_ascii=False))
        self.first = False

    def close(self) -> dict[str, Path]:
        self.files["json"].write("\n]\n")
        for fh in self.files.values():
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        return dict(self.paths)

    def discard(self) -> None:
        for ext, fh in self.files.items():
            fh.close()
            self.paths[ext].unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _install(tmp: Path, final: Path) -> Written:
    """Move a finished temporary file into place, unless the file there already has the same content."""
    digest = sha256_of(tmp)
    if final.exists() and sha256_of(final) == digest:
        tmp.unlink()
    else:
        os.replace(tmp, final)
    stat = final.stat()
    return Written(final, stat.st_size, digest, datetime.fromtimestamp(stat.st_mtime, UTC))


def materialise(spec: Spec, rows: Iterable[Row], data_dir: Path) -> tuple[dict[str, Written], int]:
    """Write the CSV and JSON files of ``spec`` from ``rows``; returns them by extension, and the row count."""
    folder = open_dir(data_dir) / spec.name
    writers = _Writers(folder, [c.name for c in spec.columns])
    count = 0
    try:
        for row in rows:
            writers.write(row)
            count += 1
        tmp = writers.close()
    except BaseException:
        writers.discard()
        raise
    return {ext: _install(path, folder / f"{spec.name}.{ext}") for ext, path in tmp.items()}, count


def _rows(sources: Sources, spec: Spec, k: int, today: date) -> Iterator[Row]:
    engine = sources.engine(spec.source)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # a whole-table pass outlives the interactive time limit
            conn.execute(text("SET LOCAL statement_timeout = 0"))
        yield from spec.rows(conn, k, today)


def _desired(spec: Spec, owner: str, k: int, rows: int, existing: Dataset | None, today: date) -> DatasetIn:
    fields = [
        FieldIn(name=c.name, type=c.type, description_vi=c.vi, description_en=c.en, sensitivity="public")
        for c in spec.columns
    ]
    extras: dict[str, Any] = {"ndx_source": spec.source, "open_data_kind": spec.kind}
    if spec.kind == "aggregate":
        extras |= {"min_cell": k, "reference_date": today.isoformat()}
    new = existing is None
    return DatasetIn(
        name=spec.name,
        owner_org=owner,
        title_vi=spec.title_vi,
        title_en=spec.title_en,
        notes_vi=spec.notes_vi,
        notes_en=spec.notes_en,
        classification="open",
        license_id=LICENSE,
        update_frequency="daily",
        spatial="VN",
        themes=list(spec.themes),
        tags=list(spec.tags),
        fields=fields,
        resources=[
            ResourceIn(name=f"{spec.title_vi} ({label})", url=download_url(spec.name, ext), format=label)
            for ext, label in FORMATS.items()
        ]
        if new
        else None,
        row_count=rows,
        data_updated_at=existing.data_updated_at if existing else None,
        extras=extras,
    )


def _update_resources(session: Session, ds: Dataset, spec: Spec, files: dict[str, Written]) -> bool:
    """Bring the dataset's file resources to the files written; True if anything changed."""
    changed = False
    for ext, label in FORMATS.items():
        url = download_url(spec.name, ext)
        res = next((r for r in ds.resources if r.url == url), None)
        if res is None:
            res = service.add_resource(
                session=session, dataset=ds, data=ResourceIn(name=f"{spec.title_vi} ({label})", url=url, format=label)
            )
        written = files[ext]
        if res.hash != written.sha256 or res.size != written.size:
            res.size, res.hash, res.last_modified = written.size, written.sha256, written.modified
            res.extras = {"mimetype": MEDIA_TYPES[ext].split(";")[0]}
            changed = True
    return changed


def register(session: Session, spec: Spec, files: dict[str, Written], k: int, rows: int, today: date) -> None:
    """Create or refresh the catalog entry of a materialised dataset (written only when something differs)."""
    owner = policy_service.owner_of_source(spec.source)
    policy_service.upsert_organization(session=session, rule=owner)
    existing = session.scalar(select(Dataset).where(Dataset.name == spec.name))
    want = _desired(spec, owner.code, k, rows, existing, today)
    extras_changed = existing is not None and existing.extras != want.extras
    if existing is None or existing.state == "deleted" or diff(existing, want) or extras_changed:
        existing = service.upsert_dataset(session=session, data=want, commit=False)
    if _update_resources(session, existing, spec, files):
        existing.data_updated_at = max(as_utc(w.modified) or utcnow() for w in files.values())
        existing.metadata_modified = utcnow()
        session.flush()


def publish_open_data(
    *, session: Session, sources: Sources, data_dir: Path, min_cell: int, today: date | None = None
) -> PublishReport:
    """Materialise and register every open dataset whose source is reachable; commit. Failures by dataset."""
    today = today or date.today()
    report = PublishReport(datasets=[], failures={})
    for spec in SPECS:
        if spec.source not in sources.urls:
            report.failures[spec.name] = f"source {spec.source} is not configured"
            continue
        try:
            files, count = materialise(spec, _rows(sources, spec, min_cell, today), data_dir)
        except (SQLAlchemyError, OSError) as exc:
            orig = getattr(exc, "orig", None) or exc
            report.failures[spec.name] = (str(orig).splitlines() or ["unreadable"])[0]
            continue
        register(session, spec, files, min_cell, count, today)
        report.datasets.append(spec.name)
    session.commit()
    return report


def preview(data_dir: Path, name: str, limit: int = PREVIEW_ROWS) -> tuple[list[str], list[list[str]]]:
    """The header and first rows of a materialised dataset's CSV file (empty when it is not there)."""
    path = file_path(data_dir, name, "csv")
    if not path.exists():
        return [], []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        rows = [row for _, row in zip(range(limit), reader, strict=False)]
    return header, rows


def read_all(data_dir: Path, name: str) -> list[dict[str, str]]:
    """Every row of a materialised CSV file (for the pages' charts of small aggregates, and tests)."""
    path = file_path(data_dir, name, "csv")
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def resources_of(session: Session, name: str) -> list[Resource]:
    ds = session.scalar(select(Dataset).where(Dataset.name == name))
    return list(ds.resources) if ds else []

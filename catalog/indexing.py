"""Keeping a dataset's search document and facet terms in step with the dataset, in the writer's transaction.

The full-text index follows ``catalog_search_text`` by itself, and each facet value's count of visible documents
follows ``catalog_search_term``, both by triggers; the text, the terms and the copied sort keys are written here,
by every function that changes a dataset.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.models import Dataset, SearchDoc, SearchTerm, SearchText, SearchValue
from catalog.schemas import DatasetIn
from catalog.search.base import search_doc_values
from ndx.textnorm import fold


def facet_values(data: DatasetIn, formats: Iterable[str]) -> set[tuple[str, str]]:
    """The (facet, value) pairs of a dataset: organization, classification, license, source, themes, tags,
    formats."""
    values = {("organization", data.owner_org), ("classification", data.classification), ("license", data.license_id)}
    if data.source:
        values.add(("source", data.source))
    values |= {("theme", t[:100]) for t in data.themes}
    values |= {("tag", t[:100]) for t in data.tags}
    values |= {("format", f.upper()[:100]) for f in formats if f}
    return values


def value_ids(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The number of each facet value, numbering new ones (a concurrent writer's number is reused)."""
    if not pairs:
        return {}
    rows = session.execute(
        select(SearchValue.id, SearchValue.facet, SearchValue.value).where(SearchValue.value.in_({v for _, v in pairs}))
    )
    found = {(facet, value): term_id for term_id, facet, value in rows if (facet, value) in pairs}
    for facet, value in sorted(pairs - found.keys()):
        try:
            with session.begin_nested():
                new = SearchValue(facet=facet, value=value)
                session.add(new)
            found[(facet, value)] = new.id
        except IntegrityError:
            found[(facet, value)] = session.scalars(
                select(SearchValue.id).where(SearchValue.facet == facet, SearchValue.value == value)
            ).one()
    return found


def _doc(session: Session, ds: Dataset) -> SearchDoc | None:
    return session.scalar(select(SearchDoc).where(SearchDoc.dataset_id == ds.id))


def is_visible(ds: Dataset) -> bool:
    return ds.state == "active" and not ds.private


def index_dataset(session: Session, ds: Dataset, data: DatasetIn) -> None:
    """Write the dataset's search document and facet terms."""
    text = search_doc_values(
        name=data.name,
        titles=[data.title_vi, data.title_en],
        tags=data.tags,
        notes=[data.notes_vi, data.notes_en],
        fields=[part for f in data.fields for part in (f.name, f.description_vi, f.description_en)],
    )
    visible = is_visible(ds)
    keys = {
        "visible": visible,
        "name": ds.name,
        "title_sort": fold(data.title_vi)[:300],
        "metadata_modified": ds.metadata_modified,
    }
    doc = _doc(session, ds)
    if doc is None:
        doc = SearchDoc(dataset_id=ds.id, **keys)
        session.add(doc)
        session.flush()
        session.add(SearchText(doc_id=doc.id, **text))
    else:
        for attr, value in keys.items():
            if getattr(doc, attr) != value:
                setattr(doc, attr, value)
        row = session.get(SearchText, doc.id)
        if row is None:
            session.add(SearchText(doc_id=doc.id, **text))
        else:
            for attr, value in text.items():
                if getattr(row, attr) != value:
                    setattr(row, attr, value)
    wanted = set(value_ids(session, facet_values(data, (r.format for r in ds.resources))).values())
    have = {t.term_id: t for t in session.scalars(select(SearchTerm).where(SearchTerm.doc_id == doc.id))}
    for gone in set(have) - wanted:
        session.delete(have[gone])
    for term in have.values():
        if term.visible != visible:
            term.visible = visible
    session.add_all(SearchTerm(doc_id=doc.id, term_id=t, visible=visible) for t in wanted - set(have))


def set_visibility(session: Session, ds: Dataset) -> None:
    """Follow a change of state or privacy (and of metadata_modified) in the search document and terms."""
    doc = _doc(session, ds)
    if doc is None:
        return
    doc.visible = is_visible(ds)
    doc.metadata_modified = ds.metadata_modified
    session.execute(update(SearchTerm).where(SearchTerm.doc_id == doc.id).values(visible=doc.visible))


def add_format(session: Session, ds: Dataset, fmt: str) -> None:
    """A resource of this format was added: the dataset now has the format as a facet value."""
    doc = _doc(session, ds)
    if doc is None or not fmt:
        return
    term_id = value_ids(session, {("format", fmt.upper()[:100])})[("format", fmt.upper()[:100])]
    if session.get(SearchTerm, (doc.id, term_id)) is None:
        session.add(SearchTerm(doc_id=doc.id, term_id=term_id, visible=doc.visible))
    doc.metadata_modified = ds.metadata_modified

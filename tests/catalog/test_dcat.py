"""DCAT-AP 3 output: conforms to the official SHACL shapes (pySHACL), in every serialisation, with Hydra paging."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pyshacl
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SH
from sqlalchemy.orm import Session

from catalog import service
from catalog.schemas import DatasetIn
from ndx.db import make_engine
from tests.catalog.open_world import OpenWorld, generated_fixture, open_world_fixture  # noqa: F401  (fixtures)

HERE = Path(__file__).parent / "shapes"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "dcat-ap"
SHAPE_FILES = ("dcat-ap-3.0.1-SHACL.ttl", "dcat-ap-3.0.1-shapes-recommended.ttl")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
PARSE = {"jsonld": "json-ld", "ttl": "turtle", "rdf": "xml"}


def shapes() -> Graph:
    """The DCAT-AP 3.0.1 shapes: from ../shared/reference when it is there (and the repo's copy must match it),
    else the copy shipped in tests/catalog/shapes."""
    g = Graph()
    for name in SHAPE_FILES:
        local = HERE / name
        if (SHARED / name).exists():
            assert (SHARED / name).read_bytes() == local.read_bytes(), f"tests/catalog/shapes/{name} is stale"
            g.parse(SHARED / name)
        else:
            g.parse(local)
    return g


SHAPES = shapes()


def validate(data: Graph, where: str) -> None:
    """Fail on any violation; print the warnings of the recommended shapes."""
    _, report, _ = pyshacl.validate(data, shacl_graph=SHAPES, inference="none", advanced=True, allow_warnings=True)
    violations, warnings = [], []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        line = f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}: " + str(
            report.value(result, SH.resultMessage)
        )
        (violations if severity == SH.Violation else warnings).append(line)
    for w in sorted(set(warnings))[:40]:
        print(f"DCAT-AP warning ({where}): {w}")
    assert not violations, "\n".join(sorted(set(violations))[:30])


def fetch(url: str, fmt: str) -> Graph:
    res = httpx.get(url, timeout=60)
    assert res.status_code == 200, res.text
    return Graph().parse(data=res.content, format=PARSE[fmt])


@pytest.fixture(scope="module")
def with_many(open_world: OpenWorld) -> OpenWorld:
    engine = make_engine(open_world.settings.platform_url)
    with Session(engine) as session:
        for i in range(230):
            data = DatasetIn(name=f"many-{i:03d}", owner_org="ndx", title_vi=f"Bộ {i}", title_en=f"Set {i}")
            service.upsert_dataset(session=session, data=data, commit=False)
        session.commit()
    engine.dispose()
    return open_world


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "rdf"])
def test_catalog_pages_conform_and_page(with_many: OpenWorld, fmt: str) -> None:
    w = with_many
    first = fetch(f"{w.url}/catalog.{fmt}", fmt)
    validate(first, f"catalog.{fmt}")
    datasets = set(first.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 100
    paging = next(first.subjects(RDF.type, HYDRA.PagedCollection))
    total = int(first.value(paging, HYDRA.totalItems))  # type: ignore[arg-type]
    assert total >= 230 + 10
    last = -(-total // 100)
    assert str(first.value(paging, HYDRA.lastPage)).endswith(f"?page={last}")
    assert str(first.value(paging, HYDRA.nextPage)).endswith("?page=2")
    assert first.value(paging, HYDRA.previousPage) is None

    seen = set(datasets)
    for page in range(2, last + 1):
        g = fetch(f"{w.url}/catalog.{fmt}?page={page}", fmt)
        p = next(g.subjects(RDF.type, HYDRA.PagedCollection))
        assert str(g.value(p, HYDRA.previousPage)).endswith(f"?page={page - 1}")
        assert (g.value(p, HYDRA.nextPage) is None) == (page == last)
        seen |= set(g.subjects(RDF.type, DCAT.Dataset))
    assert len(seen) == total


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "rdf"])
def test_open_dataset_has_conforming_distributions(open_world: OpenWorld, fmt: str) -> None:
    name = "open-population-by-province-sex-age"
    g = fetch(f"{open_world.url}/dataset/{name}.{fmt}", fmt)
    validate(g, f"{name}.{fmt}")
    node = URIRef(f"{open_world.url}/dataset/{name}")
    assert (node, RDF.type, DCAT.Dataset) in g
    assert {str(t) for t in g.objects(node, DCTERMS.title)} == {
        "Dân số theo tỉnh, giới tính và nhóm tuổi",
        "Population by province, sex and age band",
    }
    assert URIRef("http://publications.europa.eu/resource/authority/access-right/PUBLIC") in set(
        g.objects(node, DCTERMS.accessRights)
    )
    dists = list(g.objects(node, DCAT.distribution))
    assert len(dists) == 2
    for dist in dists:
        url = str(g.value(dist, DCAT.downloadURL))
        body = httpx.get(url).content
        assert int(g.value(dist, DCAT.byteSize)) == len(body)  # type: ignore[arg-type]
        checksum = g.value(dist, SPDX.checksum)
        assert g.value(checksum, SPDX.checksumValue) == Literal(
            hashlib.sha256(body).hexdigest(), datatype=URIRef("http://www.w3.org/2001/XMLSchema#hexBinary")
        )


def test_closed_dataset_has_metadata_but_no_distribution(open_world: OpenWorld) -> None:
    g = fetch(f"{open_world.url}/dataset/population-citizen.ttl", "ttl")
    validate(g, "population-citizen.ttl")
    node = URIRef(f"{open_world.url}/dataset/population-citizen")
    assert (node, RDF.type, DCAT.Dataset) in g
    assert list(g.objects(node, DCAT.distribution)) == []
    assert httpx.get(f"{open_world.url}/dataset/nope.ttl").status_code == 404
    assert httpx.get(f"{open_world.url}/dataset/population-citizen.xlsx").status_code == 404


def test_the_validator_catches_a_violation() -> None:
    """The shapes are really applied: a dataset with no title and a distribution without accessURL fails."""
    g = Graph()
    node, dist = URIRef("https://example.invalid/d"), URIRef("https://example.invalid/d/1")
    g.add((node, RDF.type, DCAT.Dataset))
    g.add((node, DCTERMS.description, Literal("x", lang="en")))
    g.add((node, DCAT.distribution, dist))
    g.add((dist, RDF.type, DCAT.Distribution))
    with pytest.raises(AssertionError, match=r"title|accessURL"):
        validate(g, "broken")

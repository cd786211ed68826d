"""The catalog as DCAT-AP 3 (rdflib): a ``dcat:Catalog`` page of datasets, or one ``dcat:Dataset``.

Every dataset's metadata is public, so every visible dataset is described; only open datasets have
distributions (their CSV and JSON files, with byte size, sha256 checksum, format, media type and licence).
Controlled vocabularies are the EU Publications Office's (data themes, access rights, frequencies, file types,
languages) so harvesters such as data.europa.eu understand them. Catalog pages follow ckanext-dcat: a Hydra
``PagedCollection`` with ``totalItems``, ``itemsPerPage`` and first/last/next/previous page links.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from catalog import labels
from catalog.models import Dataset, Resource
from catalog.schemas import as_utc
from policies.models import Organization

SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
EU = "http://publications.europa.eu/resource/authority/"
THEMES = URIRef(EU + "data-theme")
ACCESS = {"open": "PUBLIC", "internal": "RESTRICTED", "restricted": "NON_PUBLIC"}
FREQUENCY = {
    "continuous": "CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "annual": "ANNUAL",
    "irregular": "IRREG",
}
MEDIA = {"CSV": "text/csv", "JSON": "application/json"}
LICENSE_URLS = {
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-zero": "https://creativecommons.org/publicdomain/zero/1.0/",
    "odc-by": "https://opendatacommons.org/licenses/by/1-0/",
}
VIETNAM = URIRef("http://publications.europa.eu/resource/authority/country/VNM")


def _bind(g: Graph) -> Graph:
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("skos", SKOS), ("spdx", SPDX)):
        g.bind(prefix, ns)
    g.bind("hydra", HYDRA)
    return g


def _time(value: datetime | None) -> Literal | None:
    aware = as_utc(value)
    return None if aware is None else Literal(aware.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


def _typed(g: Graph, uri: URIRef, kind: URIRef) -> URIRef:
    g.add((uri, RDF.type, kind))
    return uri


def dataset_uri(base: str, name: str) -> URIRef:
    return URIRef(f"{base}/dataset/{name}")


def _agent(g: Graph, base: str, org: Organization) -> URIRef:
    agent = _typed(g, URIRef(f"{base}/organizations/{org.code}"), FOAF.Agent)
    g.add((agent, FOAF.name, Literal(org.name_vi, lang="vi")))
    g.add((agent, FOAF.name, Literal(org.name_en, lang="en")))
    return agent


def _theme(g: Graph, code: str) -> URIRef:
    concept = _typed(g, URIRef(f"{EU}data-theme/{code}"), SKOS.Concept)
    g.add((concept, SKOS.prefLabel, Literal(labels.label(labels.THEME, code, "en"), lang="en")))
    g.add((concept, SKOS.prefLabel, Literal(labels.label(labels.THEME, code, "vi"), lang="vi")))
    g.add((concept, SKOS.inScheme, THEMES))
    return concept


def _distribution(g: Graph, base: str, ds: Dataset, res: Resource) -> URIRef:
    dist = _typed(g, URIRef(f"{base}/dataset/{ds.name}/resource/{res.id}"), DCAT.Distribution)
    url = URIRef(base + res.url if res.url.startswith("/") else res.url)
    g.add((dist, DCAT.accessURL, url))
    g.add((dist, DCAT.downloadURL, url))
    g.add((dist, DCTERMS.title, Literal(res.name, lang="vi")))
    fmt = res.format.upper()
    if fmt in MEDIA:
        g.add((dist, DCTERMS["format"], _typed(g, URIRef(f"{EU}file-type/{fmt}"), DCTERMS.MediaTypeOrExtent)))
        media = URIRef(f"https://www.iana.org/assignments/media-types/{MEDIA[fmt]}")
        g.add((dist, DCAT.mediaType, _typed(g, media, DCTERMS.MediaType)))
    if res.size is not None:
        g.add((dist, DCAT.byteSize, Literal(res.size, datatype=XSD.nonNegativeInteger)))
    if res.hash:
        checksum = BNode()
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, _typed(g, SPDX.checksumAlgorithm_sha256, SPDX.ChecksumAlgorithm)))
        g.add((checksum, SPDX.checksumValue, Literal(res.hash, datatype=XSD.hexBinary)))
        g.add((dist, SPDX.checksum, checksum))
    modified = _time(res.last_modified)
    if modified is not None:
        g.add((dist, DCTERMS.modified, modified))
    if ds.license_id in LICENSE_URLS:
        g.add((dist, DCTERMS.license, _typed(g, URIRef(LICENSE_URLS[ds.license_id]), DCTERMS.LicenseDocument)))
    return dist


def add_dataset(g: Graph, base: str, ds: Dataset) -> URIRef:
    """Describe one dataset (and, if it is open, its files) in ``g``."""
    node = _typed(g, dataset_uri(base, ds.name), DCAT.Dataset)
    g.add((node, DCTERMS.identifier, Literal(ds.id)))
    g.add((node, DCTERMS.title, Literal(ds.title_vi, lang="vi")))
    g.add((node, DCTERMS.title, Literal(ds.title_en, lang="en")))
    g.add((node, DCTERMS.description, Literal(ds.notes_vi or ds.title_vi, lang="vi")))
    g.add((node, DCTERMS.description, Literal(ds.notes_en or ds.title_en, lang="en")))
    g.add((node, DCTERMS.publisher, _agent(g, base, ds.organization)))
    for tag in ds.tag_names:
        g.add((node, DCAT.keyword, Literal(tag)))
    for theme in ds.themes:
        if theme in labels.THEME:
            g.add((node, DCAT.theme, _theme(g, theme)))
    for prop, value in ((DCTERMS.issued, ds.metadata_created), (DCTERMS.modified, ds.metadata_modified)):
        literal = _time(value)
        if literal is not None:
            g.add((node, prop, literal))
    rights = URIRef(f"{EU}access-right/{ACCESS.get(ds.classification, 'NON_PUBLIC')}")
    g.add((node, DCTERMS.accessRights, _typed(g, rights, DCTERMS.RightsStatement)))
    if ds.update_frequency in FREQUENCY:
        freq = URIRef(f"{EU}frequency/{FREQUENCY[ds.update_frequency]}")
        g.add((node, DCTERMS.accrualPeriodicity, _typed(g, freq, DCTERMS.Frequency)))
    if ds.spatial == "VN":
        g.add((node, DCTERMS.spatial, _typed(g, VIETNAM, DCTERMS.Location)))
    landing = _typed(g, URIRef(f"{base}/datasets/{ds.name}"), FOAF.Document)
    g.add((node, DCAT.landingPage, landing))
    if ds.classification == "open":
        for res in ds.resources:
            if res.url.startswith("/datasets/") and res.hash:
                g.add((node, DCAT.distribution, _distribution(g, base, ds, res)))
    return node


def catalog_graph(
    base: str, datasets: Sequence[Dataset], *, total: int, page: int, per_page: int, page_url: str
) -> Graph:
    """One page of the catalog: the catalog node, its datasets and the Hydra paging of the collection."""
    g = _bind(Graph())
    catalog = _typed(g, URIRef(f"{base}/catalog"), DCAT.Catalog)
    g.add((catalog, DCTERMS.title, Literal("NDX — Sàn giao dịch dữ liệu quốc gia", lang="vi")))
    g.add((catalog, DCTERMS.title, Literal("NDX — National Data Exchange", lang="en")))
    g.add((catalog, DCTERMS.description, Literal("Danh mục dữ liệu của các cơ sở dữ liệu quốc gia.", lang="vi")))
    g.add((catalog, DCTERMS.description, Literal("The catalog of Vietnam's national databases.", lang="en")))
    publisher = _typed(g, URIRef(f"{base}/organizations/ndx"), FOAF.Agent)
    g.add((publisher, FOAF.name, Literal("NDX", lang="en")))
    g.add((catalog, DCTERMS.publisher, publisher))
    g.add((catalog, FOAF.homepage, _typed(g, URIRef(f"{base}/"), FOAF.Document)))
    for lang in ("VIE", "ENG"):
        g.add((catalog, DCTERMS.language, _typed(g, URIRef(f"{EU}language/{lang}"), DCTERMS.LinguisticSystem)))
    scheme = _typed(g, THEMES, SKOS.ConceptScheme)
    g.add((scheme, DCTERMS.title, Literal("Data theme", lang="en")))
    g.add((catalog, DCAT.themeTaxonomy, scheme))
    latest = max((as_utc(d.metadata_modified) for d in datasets), default=None, key=lambda t: t or datetime.min)
    modified = _time(latest)
    if modified is not None:
        g.add((catalog, DCTERMS.modified, modified))
    for ds in datasets:
        g.add((catalog, DCAT.dataset, add_dataset(g, base, ds)))
    last = max(1, -(-total // per_page))
    paging = URIRef(page_url)
    g.add((paging, RDF.type, HYDRA.PagedCollection))
    g.add((paging, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    g.add((paging, HYDRA.itemsPerPage, Literal(per_page, datatype=XSD.integer)))
    link = page_url.split("?", 1)[0]
    g.add((paging, HYDRA.firstPage, Literal(f"{link}?page=1")))
    g.add((paging, HYDRA.lastPage, Literal(f"{link}?page={last}")))
    if page < last:
        g.add((paging, HYDRA.nextPage, Literal(f"{link}?page={page + 1}")))
    if page > 1:
        g.add((paging, HYDRA.previousPage, Literal(f"{link}?page={min(page - 1, last)}")))
    return g


def dataset_graph(base: str, ds: Dataset) -> Graph:
    g = _bind(Graph())
    add_dataset(g, base, ds)
    return g

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from catalog import service
from catalog.sync import sync_catalog
from tests.catalog.conftest import SourceFactory, open_sources, sample_dataset
from tests.helpers import app_client, make_settings

HTML = {"Accept": "text/html"}
PAGES = ["/", "/datasets", "/datasets?q=dat+dai", "/datasets/population-citizen", "/organizations"]
PAGES += ["/organizations/bca"]


@pytest.fixture
def client(tmp_path: Path, platform_url: str, session: Session, make_sources: SourceFactory) -> Iterator[TestClient]:
    urls = make_sources()
    sources = open_sources(urls)
    assert sync_catalog(session=session, sources=sources).ok
    sources.dispose()
    service.register_dataset(session=session, data=sample_dataset("mo-du-lieu", title_vi="Dữ liệu mở thử nghiệm"))
    settings = make_settings(tmp_path, platform_url, **{f"source_{k}": v for k, v in urls.items()})
    with app_client(settings) as c:
        yield c


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_in_both_languages_without_outside_assets(client: TestClient, path: str) -> None:
    vi = client.get(path, headers=HTML)
    assert vi.status_code == 200
    assert '<html lang="vi">' in vi.text
    assert "Bộ dữ liệu" in vi.text
    en = client.get(path, params={"lang": "en"}, headers=HTML)
    assert '<html lang="en">' in en.text
    assert "Datasets" in en.text
    for page in (vi.text, en.text):
        assert "<script" not in page  # usable without JavaScript
        assert not re.search(r'(src|href)="(https?:)?//', page), "an asset or link leaves the node"


def test_the_language_choice_is_remembered_in_a_cookie(client: TestClient) -> None:
    chosen = client.get("/datasets", params={"lang": "en"}, headers=HTML)
    assert "ndx_lang=en" in chosen.headers["set-cookie"]
    again = client.get("/organizations", headers=HTML)  # the client sends the cookie back
    assert '<html lang="en">' in again.text and "Organizations" in again.text
    back = client.get("/organizations", params={"lang": "vi"}, headers=HTML)
    assert '<html lang="vi">' in back.text and "ndx_lang=vi" in back.headers["set-cookie"]
    error = client.get("/datasets/nope", headers=HTML)
    assert error.status_code == 404 and "Không tìm thấy trang" in error.text


def test_dataset_page_shows_fields_sensitivity_and_the_access_button_only_when_needed(client: TestClient) -> None:
    restricted = client.get("/datasets/population-citizen", headers=HTML).text
    assert 'href="/datasets/population-citizen/request"' in restricted
    assert re.search(r'data-sensitivity="sensitive-personal">\s*<td><code>ethnicity</code>', restricted)
    assert "Chưa đánh giá" in restricted
    assert "/api/v1/datasets/population-citizen/records" in restricted
    opened = client.get("/datasets/mo-du-lieu", headers=HTML).text
    assert "/request" not in opened
    assert "Dữ liệu mở" in opened


def test_search_page_facet_links_add_and_remove_filters(client: TestClient) -> None:
    page = client.get("/datasets", params={"q": "bao hiem"}, headers=HTML).text
    assert "Tìm thấy 2 bộ dữ liệu" in page
    link = re.search(r'href="(/datasets\?q=bao\+hiem&amp;classification=restricted)"', page)
    assert link, "the facet value links to the search with that filter added"
    filtered = client.get(link.group(1).replace("&amp;", "&"), headers=HTML).text
    assert 'aria-current="true"' in filtered
    bad = client.get("/datasets", params={"cursor": "garbage"}, headers=HTML)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")

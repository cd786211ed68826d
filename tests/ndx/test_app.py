from __future__ import annotations

import gc
import shutil
from collections.abc import Callable
from pathlib import Path

from connectors.engines import source_engine
from connectors.schema import SOURCES
from ndx.app import GC_YOUNG_THRESHOLD
from tests.helpers import app_client, make_settings


def write_empty_sources(folder: Path) -> dict[str, str]:
    """Four SQLite sources with the contract's tables and no rows."""
    urls = {}
    for name, metadata in SOURCES.items():
        url = f"sqlite:///{folder / (name + '.db')}"
        engine = source_engine(url, writable=True)
        metadata.create_all(engine)
        engine.dispose()
        urls[f"source_{name}"] = url
    return urls


def test_health_ready_metrics_and_request_id(tmp_path: Path, new_database_url: Callable[[str], str]) -> None:
    urls = write_empty_sources(tmp_path / "sources")
    settings = make_settings(tmp_path, new_database_url("platform"), **urls)
    with app_client(settings) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        assert len(health.headers["x-request-id"]) == 32

        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"platform", "population", "insurance", "land", "enterprise"}

        kept = client.get("/healthz", headers={"X-Request-Id": "trace-abc.1"})
        assert kept.headers["x-request-id"] == "trace-abc.1"
        unsafe = client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
        assert unsafe.headers["x-request-id"] != "bad id\twith spaces"

        metrics = client.get("/metrics").text
        assert 'ndx_http_requests_total{method="GET",route="/healthz",status="200"} 3.0' in metrics
        assert 'ndx_http_request_duration_seconds_count{method="GET",route="/readyz"}' in metrics
        for name in ("ndx_audit_records_total", "ndx_audit_batches_total", "ndx_audit_subject_failures_total"):
            assert f"\n{name} " in metrics


def test_readyz_names_the_source_that_is_down(tmp_path: Path) -> None:
    urls = write_empty_sources(tmp_path / "sources")
    (tmp_path / "sources" / "land.db").unlink()
    with app_client(make_settings(tmp_path, **urls)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["status"] == "unavailable: land"
        assert body["checks"]["land"].startswith("down")
        assert body["checks"]["population"] == "ok"
    shutil.rmtree(tmp_path / "sources")


def test_errors_have_one_shape_and_browsers_get_html(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as client:
        missing = client.get("/api/v1/organizations/nope")
        assert missing.status_code == 404
        error = missing.json()["error"]
        assert error["status"] == 404
        assert error["code"] == "not_found"
        assert "nope" in error["message"]
        assert error["request_id"] == missing.headers["x-request-id"]

        no_route = client.get("/api/v1/no-such-thing")
        assert no_route.status_code == 404
        assert no_route.json()["error"]["code"] == "not_found"

        page = client.get("/no-such-page", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "<html" in page.text


def test_openapi_documents_the_operations_routes(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as client:
        schema = client.get("/openapi.json").json()
        for path in ("/healthz", "/readyz", "/metrics", "/api/v1/organizations"):
            assert path in schema["paths"]
        assert client.get("/docs").status_code == 200


def test_serving_raises_the_young_collection_threshold_and_restores_it(tmp_path: Path) -> None:
    """While the app serves, the collector's youngest generation waits for GC_YOUNG_THRESHOLD net allocations
    (CPython's 700 cost the query route a ~60 us collection every ~19 requests); it is restored afterwards."""
    before = gc.get_threshold()
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'platform.db'}", **write_empty_sources(tmp_path / "s"))
    with app_client(settings) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before

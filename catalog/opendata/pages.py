"""Open-data pages: the published datasets with download buttons, and each one's preview (first rows as a
table) with, for aggregates, a bar chart drawn on the server as inline SVG (no script, nothing from a CDN)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from catalog import service
from catalog.models import Dataset
from catalog.opendata.aggregates import SPEC_BY_NAME
from catalog.opendata.publish import preview, read_all
from catalog.opendata.suppression import TOTAL
from catalog.pages import render
from ndx.deps import SessionDep
from ndx.errors import NotFound

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
CHART_BARS = 24


def chart(rows: list[dict[str, str]], spec: dict[str, str]) -> dict[str, Any] | None:
    """Bars of the national totals of an aggregate (suppressed values are left out, never guessed)."""
    group, value, split = spec["group"], spec["value"], spec.get("split")
    bars = []
    for r in rows:
        if r.get("province_code") != spec["filter_province"] or r[group] == TOTAL or not r[value]:
            continue
        if split and r[split] == TOTAL:
            continue
        label = f"{r[group]} {r[split]}" if split else r[group]
        bars.append((label, float(r[value])))
    bars = bars[:CHART_BARS]
    if not bars:
        return None
    top = max(v for _, v in bars) or 1.0
    width, bar_h, gap, left = 640, 18, 6, 90
    items = [
        {"label": label, "value": v, "y": i * (bar_h + gap), "w": max(1.0, (width - left - 70) * v / top)}
        for i, (label, v) in enumerate(bars)
    ]
    return {"items": items, "width": width, "height": len(items) * (bar_h + gap), "bar_h": bar_h, "left": left}


@router.get("/open-data")
def open_data_page(request: Request, session: SessionDep) -> Response:
    stmt = select(Dataset).where(
        Dataset.state == "active", Dataset.private.is_(False), Dataset.classification == "open"
    )
    datasets = [service.dataset_detail(d) for d in session.scalars(stmt.order_by(Dataset.name))]
    return render(request, "catalog/open_data.html", {"datasets": datasets, "section": "datasets"})


@router.get("/open-data/{name}")
def open_dataset_page(request: Request, name: str, session: SessionDep) -> Response:
    ds = service.dataset_detail(service.get_dataset(session=session, name=name))
    if ds.classification != "open":
        raise NotFound(f"dataset {name!r} is not open data")
    data_dir = request.app.state.settings.data_dir
    header, rows = preview(data_dir, name)
    spec = SPEC_BY_NAME.get(name)
    drawn = chart(read_all(data_dir, name), spec.chart) if spec and spec.chart else None
    context = {"ds": ds, "header": header, "rows": rows, "chart": drawn, "section": "datasets"}
    return render(request, "catalog/open_dataset.html", context)

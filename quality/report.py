"""The self-contained HTML report of a run: counts per check and dataset, open findings over runs (inline
SVG), and each finding's records side by side with the differing fields marked. No CDN, no scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from connectors.registry import Sources
from quality import service
from quality.findings import CHECKS, RecordRef
from quality.models import QualityFinding, QualityRun
from quality.records import fetch_records, side_by_side

TEMPLATES = Path(__file__).parent / "templates"
DETAILS_PER_CHECK = 50


def chart_svg(points: list[tuple[int, Any, int]], width: int = 640, height: int = 180) -> str:
    """A line chart of open findings per run, as an inline SVG string."""
    if not points:
        return ""
    pad = 32
    top = max(p[2] for p in points) or 1
    n = len(points)
    step = (width - 2 * pad) / max(1, n - 1)
    coords = [
        (pad + i * step if n > 1 else width / 2, height - pad - (count / top) * (height - 2 * pad))
        for i, (_, _, count) in enumerate(points)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>run {rid}: {count} open</title></circle>'
        f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" font-size="10">#{rid}</text>'
        for (x, y), (rid, _, count) in zip(coords, points, strict=True)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="open findings over runs" class="chart">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="{pad}" y="14" font-size="11">{top:,} open</text>'
        f'<polyline fill="none" stroke="#a50e1e" stroke-width="2" points="{line}"/>{dots}</svg>'
    )


def finding_view(finding: QualityFinding, rows: dict[RecordRef, dict[str, Any]]) -> dict[str, Any]:
    refs = [RecordRef(r["table"], r["key"]) for r in finding.records]
    found = [rows.get(ref) for ref in refs]
    return {"finding": finding, "refs": refs, "lines": side_by_side(found)}


def report_context(*, session: Session, run: QualityRun, sources: Sources | None) -> dict[str, Any]:
    details: list[QualityFinding] = []
    for check in CHECKS:
        details.extend(service.list_findings(session=session, check=check, run_id=run.id, limit=DETAILS_PER_CHECK))
    refs = [RecordRef(r["table"], r["key"]) for f in details for r in f.records]
    rows = fetch_records(sources, refs) if sources is not None else {}
    datasets = sorted({d for per in run.counts.values() for d in per})
    return {
        "run": run,
        "checks": CHECKS,
        "datasets": datasets,
        "chart": chart_svg(service.open_counts_over_runs(session=session)),
        "details": [finding_view(f, rows) for f in details],
        "per_check": DETAILS_PER_CHECK,
    }


def render_report(*, session: Session, run: QualityRun, sources: Sources | None) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template("report.html").render(report_context(session=session, run=run, sources=sources))


def write_report(path: Path, *, session: Session, run: QualityRun, sources: Sources | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(session=session, run=run, sources=sources), encoding="utf-8")

"""The self-contained HTML report of a run: counts per check and dataset, open findings over runs (inline
SVG), and each finding's records side by side with the differing fields marked. No CDN, no scripts."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from connectors.registry import Sources
from connectors.schema import SOURCES
from ndx import i18n
from ndx.i18n import N_
from ndx.textnorm import name_key
from quality import service
from quality.findings import CHECKS, RecordRef
from quality.models import QualityFinding, QualityRun
from quality.records import fetch_records, side_by_side

TEMPLATES = Path(__file__).parent / "templates"
DETAILS_PER_CHECK = 50

# What each check means, in a steward's words (shared/SOURCES.md): titles for pages and the report. Written in
# English and translated where shown (ndx/locale), like every message of the pages.
CHECK_LABELS: dict[str, str] = {
    "duplicate_citizen": N_("Duplicate citizen: one person holds two or more citizen records"),
    "duplicate_insured": N_("Duplicate insured person: one person holds two or more insurance numbers"),
    "duplicate_enterprise": N_("Duplicate enterprise: one business registered twice"),
    "identity_mismatch": N_("Identity mismatch: the name, birth date or sex differs from the population record"),
    "unknown_reference": N_("Unknown reference: an identifier that points at nothing"),
    "activity_after_death": N_("Activity after death: a contribution or an active business after the person died"),
    "invalid_value": N_("Invalid value: a value that breaks its rule"),
}
# The same, short: for tables, filters and links.
CHECK_NAMES: dict[str, str] = {
    "duplicate_citizen": N_("Duplicate citizen"),
    "duplicate_insured": N_("Duplicate insured person"),
    "duplicate_enterprise": N_("Duplicate enterprise"),
    "identity_mismatch": N_("Identity mismatch"),
    "unknown_reference": N_("Unknown reference"),
    "activity_after_death": N_("Activity after death"),
    "invalid_value": N_("Invalid value"),
}


def chart_svg(
    points: list[tuple[int, Any, int]], width: int = 640, height: int = 180, *, lang: str = i18n.DEFAULT_LANGUAGE
) -> str:
    """A line chart of open findings per run, as an inline SVG string, labelled in ``lang``."""
    if len(points) < 2:
        return ""  # one run is no trend: the pages say so in words
    pad = 32
    top = max(p[2] for p in points) or 1
    n = len(points)
    step = (width - 2 * pad) / max(1, n - 1)
    coords = [
        (pad + i * step if n > 1 else width / 2, height - pad - (count / top) * (height - 2 * pad))
        for i, (_, _, count) in enumerate(points)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    point_title = i18n.gettext(lang, "run %(run)s: %(count)s open")
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>'
        f"{escape(point_title % {'run': rid, 'count': i18n.format_number(count, lang)})}</title></circle>"
        f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" font-size="10">#{rid}</text>'
        for (x, y), (rid, _, count) in zip(coords, points, strict=True)
    )
    top_label = i18n.gettext(lang, "%(count)s open") % {"count": i18n.format_number(top, lang)}
    aria = i18n.gettext(lang, "Open findings over runs")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(aria)}" class="chart">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="{pad}" y="14" font-size="11">{escape(top_label)}</text>'
        f'<polyline fill="none" stroke="#a50e1e" stroke-width="2" points="{line}"/>{dots}</svg>'
    )


def _key_columns(refs: list[RecordRef]) -> set[str]:
    """The primary-key columns of these records' tables: two records always differ there, so it is no news."""
    keys: set[str] = set()
    for ref in refs:
        source, _, name = ref.table.partition(".")
        if source in SOURCES and name in SOURCES[source].tables:
            keys.update(c.name for c in SOURCES[source].tables[name].primary_key.columns)
    return keys


def finding_view(finding: QualityFinding, rows: dict[RecordRef, dict[str, Any]]) -> dict[str, Any]:
    refs = [RecordRef(r["table"], r["key"]) for r in finding.records]
    found = [rows.get(ref) for ref in refs]
    keys = _key_columns(refs)
    lines = []
    for column, values, differs in side_by_side(found):
        # Names that differ only in Unicode form, case, spacing or tone placement are the same name: say so
        # rather than highlight two values that look identical on screen.
        same_name = differs and all(v for v in values) and len({name_key(v) for v in values}) == 1
        state = "same" if not differs or column in keys else ("written" if same_name else "differs")
        lines.append((column, values, state))
    return {
        "finding": finding,
        "refs": refs,
        "lines": lines,
        "label": CHECK_LABELS.get(finding.check, finding.check),
        "name": CHECK_NAMES.get(finding.check, finding.check),
    }


def report_context(
    *, session: Session, run: QualityRun, sources: Sources | None, lang: str = i18n.DEFAULT_LANGUAGE
) -> dict[str, Any]:
    """The run's counts, and per check its first DETAILS_PER_CHECK findings with their records; the report
    says how many more each check has and where they are (findings.json, the pages, the API)."""
    lang = i18n.normalize(lang) or i18n.DEFAULT_LANGUAGE
    shown: dict[str, list[QualityFinding]] = {
        check: service.list_findings(session=session, check=check, run_id=run.id, limit=DETAILS_PER_CHECK)
        for check in CHECKS
    }
    refs = [RecordRef(r["table"], r["key"]) for found in shown.values() for f in found for r in f.records]
    rows = fetch_records(sources, refs) if sources is not None else {}
    datasets = sorted({d for per in run.counts.values() for d in per})
    sections = []
    for check in CHECKS:
        total = sum(run.counts.get(check, {}).values())
        if not total:
            continue
        views = [finding_view(f, rows) for f in shown[check]]
        sections.append({"check": check, "total": total, "views": views, "left_out": max(0, total - len(views))})
    return {
        "run": run,
        "checks": CHECKS,
        "labels": CHECK_LABELS,
        "names": CHECK_NAMES,
        "lang": lang,
        "datasets": datasets,
        "chart": chart_svg(service.open_counts_over_runs(session=session), lang=lang),
        "sections": sections,
        "per_check": DETAILS_PER_CHECK,
    }


def render_report(
    *, session: Session, run: QualityRun, sources: Sources | None, lang: str = i18n.DEFAULT_LANGUAGE
) -> str:
    """The report in ``lang`` (``vi``, the default, or ``en``), from the same messages as the pages."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    i18n.install(env)
    context = report_context(session=session, run=run, sources=sources, lang=lang)
    return env.get_template("report.html").render(context)


def write_report(
    path: Path, *, session: Session, run: QualityRun, sources: Sources | None, lang: str = i18n.DEFAULT_LANGUAGE
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(session=session, run=run, sources=sources, lang=lang), encoding="utf-8")

"""The stewards' quality pages: the latest run with filters, and one finding with its records and review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from connectors.registry import Sources
from ndx import i18n
from ndx.deps import SessionDep
from ndx.errors import Forbidden, Unauthenticated
from policies.auth import Sessions
from quality import report, service
from quality.dependencies import PageReviewerDep
from quality.findings import CHECKS, DATASETS, RecordRef
from quality.models import STATUSES
from quality.records import fetch_records

TEMPLATE_DIR = Path(__file__).parent / "templates"
router = APIRouter(include_in_schema=False)
PAGE = 100


def _render(request: Request, name: str, context: dict[str, Any], *, private: bool = False) -> Response:
    """Render a page in the request's language (``?lang=``, the cookie, else Vietnamese), remembering a language
    chosen with ``?lang=``; a page that shows the signed-in user's review form is never cached."""
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(request, name, {"lang": i18n.request_language(request), **context})
    if private:
        response.headers["Cache-Control"] = "no-store"
    i18n.remember_language(request, response)
    return response


@router.get("/quality", response_class=HTMLResponse)
def quality_home(
    request: Request,
    session: SessionDep,
    check: Annotated[str | None, Query()] = None,
    dataset: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    after: Annotated[str | None, Query()] = None,
) -> Response:
    run = service.latest_run(session=session)
    findings = (
        service.list_findings(
            session=session,
            check=check or None,
            dataset=dataset or None,
            status=status or None,
            after=after or None,
            limit=PAGE + 1,
        )
        if run is not None
        else []
    )
    context: dict[str, Any] = {
        "run": run,
        "findings": findings[:PAGE],
        "next_after": findings[PAGE - 1].id if len(findings) > PAGE else None,
        "checks": CHECKS,
        "labels": report.CHECK_LABELS,
        "names": report.CHECK_NAMES,
        "per_check": {c: sum(run.counts.get(c, {}).values()) for c in CHECKS} if run is not None else {},
        "datasets": sorted(DATASETS.values()),
        "statuses": STATUSES,
        "filters": {"check": check or "", "dataset": dataset or "", "status": status or ""},
        "chart": report.chart_svg(service.open_counts_over_runs(session=session), lang=i18n.request_language(request)),
        "section": "quality",
    }
    return _render(request, "quality_home.html", context)


@router.get("/quality/findings/{finding_id}", response_class=HTMLResponse)
def finding_page(finding_id: str, request: Request, session: SessionDep, who: PageReviewerDep) -> Response:
    finding = service.get_finding(session=session, finding_id=finding_id)
    sources: Sources | None = getattr(request.app.state, "sources", None)
    refs = [RecordRef(r["table"], r["key"]) for r in finding.records]
    rows = fetch_records(sources, refs) if sources is not None else {}
    reviewer = who[0] if who else None
    context = {
        "view": report.finding_view(finding, rows),
        "finding": finding,
        "statuses": STATUSES,
        "reviewer": reviewer,
        "csrf": who[1] if who else "",
        "may_review": reviewer is not None and service.can_review(reviewer, finding),
        "owner": service.owner_of_dataset(finding.dataset),
        "section": "quality",
    }
    return _render(request, "quality_finding.html", context, private=reviewer is not None)


@router.post("/quality/findings/{finding_id}/review")
def review_page(
    finding_id: str,
    session: SessionDep,
    who: PageReviewerDep,
    status: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if who is None:
        raise Unauthenticated("sign in as a steward to review findings")
    reviewer, expected = who
    if not Sessions.csrf_ok(expected, csrf):
        raise Forbidden("the form has expired: reload the page and try again")
    service.review_finding(session=session, finding_id=finding_id, reviewer=reviewer, status=status, note=note or None)
    return RedirectResponse(f"/quality/findings/{finding_id}", status_code=303)

"""Liveness, readiness and metrics routes: the operator's view of a running node."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ndx.web import error_responses

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


def _probe(engine: Engine) -> str:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        return "down: " + (str(orig).splitlines() or ["unreachable"])[0]
    return "ok"


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up and answering."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request) -> Response:
    """The platform database and every source answer; 503 names each one that does not."""
    engines: dict[str, Engine] = {"platform": request.app.state.engine, **request.app.state.source_engines()}
    checks = {name: _probe(engine) for name, engine in engines.items()}
    down = [name for name, status in checks.items() if status != "ok"]
    body = Readiness(status="ok" if not down else "unavailable: " + ", ".join(down), checks=checks)
    return JSONResponse(body.model_dump(), status_code=503 if down else 200)


@router.get("/metrics", response_class=Response, responses=error_responses(500))
async def metrics(request: Request) -> Response:
    """Prometheus metrics: request counts and latency by route."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
